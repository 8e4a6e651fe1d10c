"""The one string catalog: lookups in the context's locale, plural forms by the locale's rules."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from bot.i18n.catalog import (
    N_,
    SOURCE_LOCALE,
    _,
    current_locale,
    ngettext,
    read_catalog,
    translations,
    use_locale,
)

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "bot" / "locale" / "messages.pot"
ENGLISH = ROOT / "bot" / "locale" / "en" / "LC_MESSAGES" / "messages.po"

#: The catalog's functions, as the code calls them (and as pybabel extracts them).
CATALOG_CALLS = frozenset({"_", "N_", "ngettext"})


# --- lookups ------------------------------------------------------------------------------------


def test_english_is_the_source_and_reads_exactly_as_written() -> None:
    assert current_locale() == SOURCE_LOCALE == "en"
    assert _("Backups status") == "Backups status"
    assert N_("Next page") == "Next page"
    assert ngettext("{n} backup", "{n} backups", 1) == "{n} backup"
    assert ngettext("{n} backup", "{n} backups", 2) == "{n} backups"


def test_a_locale_holds_for_its_block_and_its_own_context_only() -> None:
    async def speaks(locale: str) -> str:
        with use_locale(locale):
            await asyncio.sleep(0)  # the other task runs meanwhile, in its own locale
            return current_locale()

    async def both() -> list[str]:
        return list(await asyncio.gather(speaks("ru"), speaks("de")))

    with use_locale("ru"):
        assert current_locale() == "ru"
        with use_locale("en"):
            assert current_locale() == "en"
        assert current_locale() == "ru"
    assert current_locale() == "en"
    assert asyncio.run(both()) == ["ru", "de"]


def test_a_locale_without_a_catalog_falls_back_to_the_english_ids() -> None:
    with use_locale("xx"):
        assert _("Backups status") == "Backups status"
        assert ngettext("{n} backup", "{n} backups", 5) == "{n} backups"


RUSSIAN = """
msgid "Backups status"
msgstr "Состояние бэкапов"

msgid "{n} backup"
msgid_plural "{n} backups"
msgstr[0] "{n} бэкап"
msgstr[1] "{n} бэкапа"
msgstr[2] "{n} бэкапов"

msgid "Not translated yet"
msgstr ""
"""


def test_a_catalog_translates_and_counts_by_its_languages_plural_rules() -> None:
    # No header: the plural rules are Russian's own (one, few, many), from Babel's locale data.
    russian = read_catalog(io.BytesIO(RUSSIAN.encode()), "ru")
    assert russian.gettext("Backups status") == "Состояние бэкапов"
    forms = [russian.ngettext("{n} backup", "{n} backups", n).format(n=n) for n in (1, 2, 5, 21)]
    assert forms == ["1 бэкап", "2 бэкапа", "5 бэкапов", "21 бэкап"]
    assert russian.gettext("Not translated yet") == "Not translated yet"


def test_the_english_catalog_is_read_from_the_package_and_translates_nothing() -> None:
    english = translations("en")
    assert english is translations("en")  # read once
    assert english.gettext("Backups status") == "Backups status"
