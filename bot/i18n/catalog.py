"""The one string catalog: every sentence a person reads, looked up in the current locale.

Messages are gettext message ids, and English is the source language: an id is the English
sentence itself, so English needs no translation and reads exactly as written. A sentence is
whole, with named placeholders filled after translation (``_("Snoozed {cluster}").format(...)``),
so a translator can reorder it; a count goes through :func:`ngettext`, whose plural forms are the
locale's (Russian has three). A template made at import time is marked with :func:`N_` and
translated where it is used.

The locale is the current context's (a :mod:`contextvars` variable: each request or job sets its
own with :func:`use_locale`; English by default). Catalogs are ``bot/locale/<lang>/LC_MESSAGES/
messages.po``, read the first time a locale is used and kept. The wheel (and so the image) also
carries each compiled to ``messages.mo`` by the build (setup.py), which records the sha256 of its
``.po``: the ``.mo`` is read when it matches its ``.po`` (a few milliseconds), else the ``.po`` is
parsed with Babel (a few hundred: an editable install, or a stale ``.mo``, said in the log).
``make i18n`` extracts ``bot/locale/messages.pot`` from the code and updates the catalogs.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import IO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

#: The language of the code's own sentences, and of every reader who names no other.
SOURCE_LOCALE = "en"
#: The gettext domain: bot/locale/<lang>/LC_MESSAGES/messages.po.
DOMAIN = "messages"

#: A compiled catalog's Project-Id-Version: this word, then the sha256 of the .po it was made
#: from (setup.py writes it).
SOURCE_MARK = "messages.po"

_locale: ContextVar[str] = ContextVar("bot_locale", default=SOURCE_LOCALE)
log = logging.getLogger(__name__)


@cache
def available_locales() -> frozenset[str]:
    """The languages the bot speaks: the source one, and each with a catalog in bot/locale."""
    root = resources.files("bot") / "locale"
    found = {
        entry.name for entry in root.iterdir() if (entry / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()
    }
    return frozenset({SOURCE_LOCALE, *found})


def supported_locale(tag: str | None) -> str | None:
    """The language of ``tag`` (``ru``, Slack's ``ru-RU``, ``ru_RU``) if the bot speaks it;
    None for no tag or a language it does not speak."""
    if not tag:
        return None
    language = tag.replace("_", "-").split("-", 1)[0].strip().lower()
    return language if language in available_locales() else None


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Speak ``locale`` (``en``, ``ru``) in this context until the block ends."""
    token = _locale.set(locale)
    try:
        yield
    finally:
        _locale.reset(token)


def current_locale() -> str:
    """The locale of the current context."""
    return _locale.get()


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog of ``locale``, read once; none (the English ids) when there is no catalog."""
    return load_translations(resources.files("bot") / "locale" / locale / "LC_MESSAGES", locale)


def load_translations(directory: Traversable, locale: str) -> gettext.NullTranslations:
    """The catalog in ``directory``: its compiled ``messages.mo`` when that was made from the
    ``messages.po`` beside it, else the ``.po`` parsed; none when there is no ``.po``."""
    po = directory / f"{DOMAIN}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    source = po.read_bytes()
    mo = directory / f"{DOMAIN}.mo"
    if mo.is_file():
        with mo.open("rb") as compiled:
            shipped = gettext.GNUTranslations(compiled)
        if compiled_from(shipped) == hashlib.sha256(source).hexdigest():
            return shipped
        log.warning("%s is stale (not made from the %s beside it); reading the .po", mo, po.name)
    return read_catalog(io.BytesIO(source), locale)


def compiled_from(compiled: gettext.GNUTranslations) -> str | None:
    """The sha256 of the .po a compiled catalog was made from, as the build recorded it."""
    project = compiled.info().get("project-id-version", "")
    mark, _sep, digest = project.partition(" ")
    return digest if mark == SOURCE_MARK and digest else None


def compile_catalog(po: bytes, locale: str) -> bytes:
    """The ``.mo`` of a ``.po``'s bytes, as the build makes it (setup.py): only the translated
    messages, the plural rules of ``locale`` and the ``.po``'s sha256."""
    catalog = read_po(io.BytesIO(po), locale=locale, domain=DOMAIN)
    catalog.project = SOURCE_MARK
    catalog.version = hashlib.sha256(po).hexdigest()
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    return compiled.getvalue()


def read_catalog(source: IO[bytes], locale: str) -> gettext.GNUTranslations:
    """A ``.po`` file's translations, with the plural rules of ``locale`` (Babel's, from CLDR,
    when the file has no header saying them)."""
    catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # only translated messages; the rest fall back to their ids
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """``message`` in the current locale."""
    return translations(_locale.get()).gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it (a template made at import time,
    translated with :func:`_` where it is used)."""
    return message


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """A regular expression that reads ``template``'s placeholders back out of its text
    (``{n}``: digits; any other: the shortest text that fits)."""
    fields = re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>.+?)", re.escape(template))
    return re.compile(fields.replace("(?P<n>.+?)", r"(?P<n>\d+)"))


def resay(text: str, templates: Iterable[str]) -> str:
    """``text``, made in the source language from the first of ``templates`` it fits (kept so,
    e.g. stored with an incident), said again in the current locale; as it is when it fits none.
    A template with more fields goes before a shorter one that would also fit."""
    for template in templates:
        found = _pattern(template).fullmatch(text)
        if found is not None:
            return _(template).format(**found.groupdict())
    return text


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the current locale."""
    return translations(_locale.get()).ngettext(singular, plural, n)
