"""Every language's catalog is whole and faithful: each message id of the .pot has its
translation (every plural form the language has), a translation keeps its original's placeholders
and its `code` (commands, flags, ids: the interface stays as typed), and the catalogs ship in the
package (the wheel and the image read them from there)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from babel.core import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n.catalog import ngettext, use_locale

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "bot" / "locale"
POT = LOCALE_DIR / "messages.pot"
#: Every language the bot speaks; English is the source (its catalog is the ids themselves).
LOCALES = ("en", "ru")
TRANSLATED = ("ru",)

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_CODE = re.compile(r"`[^`]*`")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _po(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def _forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def _original(message: Message) -> str:
    """The id a translation must match: the plural one when there is one (it is what ``n``
    other than one reads; the singular id has the same placeholders, checked below)."""
    return message.id[-1] if isinstance(message.id, tuple) else message.id


def _messages(locale: str) -> list[Message]:
    return [m for m in _read(_po(locale), locale) if m.id]


def placeholder_problems(message: Message) -> list[str]:
    """What a translation's forms lose or add of the original's ``{placeholders}`` and
    ```code``` spans; empty forms (not translated) are left to the completeness test."""
    original = _original(message)
    want_fields = Counter(_PLACEHOLDER.findall(original))
    want_code = Counter(_CODE.findall(original))
    problems = []
    for number, form in enumerate(_forms(message)):
        if not form:
            continue
        fields = Counter(_PLACEHOLDER.findall(form))
        # A field may be used twice in a translation, but each must be there, and no other.
        if set(fields) != set(want_fields):
            problems.append(f"{original!r} [{number}]: placeholders {dict(fields)}")
        if Counter(_CODE.findall(form)) != want_code:
            problems.append(f"{original!r} [{number}]: code spans {_CODE.findall(form)}")
    return problems


def untranslated(messages: list[Message], plurals: int) -> list[str]:
    """The ids with no translation, or with a plural form missing or empty."""
    missing = []
    for message in messages:
        forms = _forms(message)
        want = plurals if isinstance(message.id, tuple) else 1
        if len(forms) != want or not all(forms):
            missing.append(_original(message))
    return missing


def test_the_plural_ids_of_the_pot_agree_on_their_placeholders() -> None:
    for message in _read(POT):
        if isinstance(message.id, tuple):
            one, other = message.id
            assert set(_PLACEHOLDER.findall(one)) == set(_PLACEHOLDER.findall(other)), one


@pytest.mark.parametrize("locale", LOCALES)
def test_a_catalog_has_exactly_the_ids_of_the_pot(locale: str) -> None:
    pot = {m.id for m in _read(POT) if m.id}
    assert {m.id for m in _messages(locale)} == pot, "run `make i18n`"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_id_has_a_translation_in_every_plural_form(locale: str) -> None:
    # CLDR's rules, as gettext uses them: Russian has one, few and many (3 forms).
    assert locale != "ru" or sorted(Locale.parse(locale).plural_form.rules) == [
        "few",
        "many",
        "one",
    ]
    missing = untranslated(_messages(locale), _read(_po(locale), locale).num_plurals)
    assert missing == [], f"{len(missing)} ids have no {locale} translation"


@pytest.mark.parametrize("locale", LOCALES)
def test_a_translation_keeps_its_placeholders_and_code(locale: str) -> None:
    problems = [p for m in _messages(locale) for p in placeholder_problems(m)]
    assert problems == []


def test_the_checks_catch_what_they_are_for() -> None:
    faithful = Message("Snoozed `{cluster}` until {until}.", "`{cluster}`: тихо до {until}.")
    lost = Message("Snoozed `{cluster}` until {until}.", "`{cluster}`: тихо.")
    renamed = Message("Snoozed `{cluster}` until {until}.", "`{кластер}` до {until}.")
    translated_code = Message("Type `{prefix} help`.", "Наберите `{prefix} помощь`.")
    plural = Message(
        ("{n} backup", "{n} backups"), ("{n} бэкап", "{n} бэкапа", "бэкапов")
    )  # the third form lost {n}
    assert placeholder_problems(faithful) == []
    assert len(placeholder_problems(lost)) == 1
    assert len(placeholder_problems(renamed)) == 2  # a placeholder, and the code span with it
    assert len(placeholder_problems(translated_code)) == 1
    assert placeholder_problems(plural) == ["'{n} backups' [2]: placeholders {}"]
    half = Message(("{n} backup", "{n} backups"), ("{n} бэкап", "{n} бэкапа", ""))
    short = Message(("{n} backup", "{n} backups"), ("{n} бэкап", "{n} бэкапа"))
    assert untranslated([faithful, half, short, Message("Done.", "")], 3) == [
        "{n} backups",
        "{n} backups",
        "Done.",
    ]


def test_russian_counts_with_three_forms() -> None:
    with use_locale("ru"):
        said = [ngettext("{n} backup", "{n} backups", n).format(n=n) for n in (1, 2, 5, 21, 11)]
    assert said == ["1 бэкап", "2 бэкапа", "5 бэкапов", "21 бэкап", "11 бэкапов"]


def test_the_catalogs_ship_in_the_package() -> None:
    """The wheel takes bot/'s package data (the image installs the wheel): every catalog must
    match one of its patterns."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["bot"]
    shipped = [
        path.relative_to(ROOT / "bot").as_posix()
        for path in LOCALE_DIR.rglob("*.po*")
        if any(fnmatch.fnmatch(path.relative_to(ROOT / "bot").as_posix(), p) for p in patterns)
    ]
    assert sorted(shipped) == sorted(
        ["locale/messages.pot", *(f"locale/{lang}/LC_MESSAGES/messages.po" for lang in LOCALES)]
    )
    assert "COPY bot ./bot" in (ROOT / "Dockerfile").read_text(encoding="utf-8")
