"""The one string catalog: lookups in the context's locale, plural forms by the locale's rules, a
committed .pot that holds every message id of the code, and no sentence a person reads outside
the catalog."""

from __future__ import annotations

import ast
import asyncio
import io
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

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
from tests.source import parse

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


# --- every id in the catalog --------------------------------------------------------------------


def _code_ids() -> dict[str, str]:
    """Every message id the code of bot/ names with a literal, and where: ``_("...")``,
    ``N_("...")`` and both forms of ``ngettext("...", "...", n)``."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        tree = parse(path)
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in CATALOG_CALLS
            ):
                continue
            texts = node.args[:2] if node.func.id == "ngettext" else node.args[:1]
            for arg in texts:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.setdefault(arg.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _catalog_ids(path: Path) -> set[str]:
    with path.open("rb") as source:
        catalog = read_po(source)
    ids: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids.update(message.id if isinstance(message.id, tuple) else (message.id,))
    return ids


def test_the_committed_pot_holds_every_message_id_of_the_code_and_no_other() -> None:
    code = _code_ids()
    pot = _catalog_ids(POT)
    missing = {text: where for text, where in code.items() if text not in pot}
    # An id inside an f-string's braces is one the extractor does not see (Python 3.11): say
    # it outside, then run `make i18n`.
    assert missing == {}, "not in bot/locale/messages.pot: run `make i18n`"
    assert sorted(pot - set(code)) == [], "ids no code uses: run `make i18n`"
    assert len(code) > 300  # the scan reads the real tree


def test_the_english_catalog_has_every_id_of_the_pot() -> None:
    assert _catalog_ids(ENGLISH) == _catalog_ids(POT)


def test_message_ids_are_whole_sentences_with_named_placeholders() -> None:
    for text in _code_ids():
        fields = re.findall(r"\{([^{}]*)\}", text)
        # Named, so a translation may reorder them; nothing computed inside a template.
        assert all(re.fullmatch(r"[a-z_]+", f) for f in fields), text
        assert text == text.strip() or text.startswith(" · "), repr(text)


# --- no sentence outside the catalog -----------------------------------------------------------

#: The modules that make what people read in Slack: messages, the words of commands, errors
#: and refusals, and the reasons and explanations the messages quote.
READ_BY_PEOPLE = (
    "bot/alerts/messages.py",
    "bot/alerts/group_messages.py",
    "bot/alerts/policy.py",
    "bot/alerts/service.py",
    "bot/commands/access.py",
    "bot/commands/grammar.py",
    "bot/commands/messages.py",
    "bot/commands/router.py",
    "bot/commands/strings.py",
    "bot/digest/messages.py",
    "bot/fleet/grouping.py",
    "bot/drills/messages.py",
    "bot/drills/service.py",
    "bot/fleet/lookup.py",
    "bot/fleet/reader.py",
    "bot/ledger/messages.py",
    "bot/ledger/service.py",
    "bot/freshness/explain.py",
    "bot/freshness/messages.py",
    "bot/freshness/policy.py",
    "bot/i18n/units.py",
    "bot/outbox/messages.py",
    # `check`, the config refusals and the cloud's error sentences (they reach people through
    # `check`, the command line and the {reason} of alerts and replies).
    "bot/app/check.py",
    "bot/config.py",
    "bot/durations.py",
    "bot/cloud/auth.py",
    "bot/cloud/client.py",
    "bot/cloud/failures.py",
    "bot/cloud/session.py",
    "bot/cloud/validation.py",
    "bot/silences/messages.py",
    "bot/silences/service.py",
)
#: Modules whose ValueError is a refusal a person reads (pydantic turns a validator's into the
#: config's refusal; a duration's is quoted by it), not a bug of ours.
VALUE_ERRORS_READ = frozenset({"bot/config.py", "bot/durations.py"})
#: Literals of those modules that are names, not sentences, said the same in every language:
#: `check`'s marks and what each line is about (scripts read them), roles, the cloud's method
#: names and endpoints, the kinds of id the request validation names, and the kinds of
#: credential the token providers log.
NAMES = frozenset(
    {
        "ok  ",
        "organization ",
        "cloud ",
        "cluster ",
        "managed-opensearch.viewer",
        "managed-opensearch.editor",
        "resource-manager.viewer",
        "vpc.user",
        # A drill route's line labels: drills.<n> network|subnet|preset <id>.
        "drills.",
        " network ",
        " subnet ",
        " preset ",
        "{folder: ",
        "30 9 * * mon-fri",
        "0 10 1-7 * mon",
        "s2.micro",
        "(top)",
        "https://iam.api.cloud.yandex.net",
        "IAM token",
        "refreshing token",
        "service account key",
        "OAuth token",
        "metadata service",
        "metadata service at ",
        "IAM endpoint",
        "HTTP ",
        "the ",
        "I/O error",
        "-----BEGIN",
        "Google",
        "Bearer ",
        " (client request id ",
        "a body",
    }
)
#: The calls whose arguments at these places are names: `check`'s findings and problems (what a
#: line is about; ``failed`` picks them by it), and the kind of id the request validation names.
_LABEL_ARGS = {"Finding": slice(1, 2), "Problem": slice(0, 1), "failed": slice(None)}
_LABEL_ARGS["validate_id"] = slice(0, 1)
#: The cloud's RPC method names (Cluster.listBackups) and a config's field description.
_METHOD = re.compile(r"[A-Z][A-Za-z]*\.[a-z][A-Za-z]*|cluster id or name|_[A-Z][a-z]+")
#: Symbols, the same in every language for now: the time zone, the product, byte units (the
#: localisation issue gives sizes to Babel, units and separators together).
SYMBOLS = ("UTC", "OpenSearch", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_LOGGERS = frozenset({"log", "logger", "logging"})
_LOG_CALLS = frozenset({"debug", "info", "warning", "error", "exception", "critical"})
#: Babel's formatting, whose patterns (``EEE d MMM y``) are no words.
_BABEL_CALLS = frozenset({"format_date", "format_datetime", "format_unit", "format_decimal"})
#: Exceptions that are bugs of ours (their text is for the log, never a person).
_BUG_ERRORS = frozenset({"ValueError", "TypeError", "KeyError", "AssertionError", "RuntimeError"})
#: What may stand in a literal and is no word: placeholders, emoji shortcodes, Slack's tokens
#: (``<!date^...>``, ``<@U...>``, also cut by an f-string), entities, strftime codes, symbols.
_NOT_WORDS = re.compile(
    r"\{[^{}]*\}|:[a-z0-9_+-]+:|<[^<>]*>|<[!@#][\w^]*|&[a-z]+;|%[A-Za-z]|\b(?:"
    + "|".join(SYMBOLS)
    + r")\b"
)
_WORD = re.compile(r"[^\W\d_]{2,}")
#: Names, not words: snake_case and lowercase keys (action ids, enum values, config keys, metric
#: labels), UPPERCASE values (the cloud's own: DEAD, ERROR), paths, ``kind:name`` labels. A one
#: word literal a person reads must still go through the catalog; this scan cannot tell it.
_IDENTIFIER = re.compile(r"[a-z0-9]+(?:[_:-][a-z0-9]*)*|[A-Z][A-Z0-9_]*|/[\w/.-]*")
#: The command surface is typed, like kubectl's, and stays as it is in every language.
_COMMANDS = frozenset(
    {"list", "get", "folder", "clusters", "status", "snooze", "unsnooze", "backup", "help"}
    | {"slo", "history"}
    | {"drills", "drill"}
    | {"silence", "silences", "unsilence"}
)
_TYPED = re.compile(r"--[a-z-]+|/backups")


def _has_words(text: str) -> bool:
    if _IDENTIFIER.fullmatch(text) or _TYPED.fullmatch(text):
        return False
    if text.split(" ", 1)[0] in _COMMANDS:  # an example, as typed: "list logs-prod --share"
        return False
    return _WORD.search(_NOT_WORDS.sub(" ", text)) is not None


def _is_name(node: ast.expr, *names: str) -> bool:
    return isinstance(node, ast.Name) and node.id in names


def _exempt_call(call: ast.Call, bug_errors: frozenset[str] = _BUG_ERRORS) -> list[ast.AST]:
    """What of a call holds no word for a person: all of a catalog call (its ids are in the
    catalog), a log line, a regular expression, a bug's message; the keys ``.get`` looks up;
    a finding's label; the command line's help (English, like the verbs)."""
    func = call.func
    if _is_name(func, *CATALOG_CALLS, *bug_errors, *_BABEL_CALLS):
        return [call]
    exempt: list[ast.AST] = [
        k.value for k in call.keywords if k.arg in ("help", "description", "what", "name")
    ]
    if isinstance(func, ast.Name) and func.id in _LABEL_ARGS:
        exempt += call.args[_LABEL_ARGS[func.id]]
    if isinstance(func, ast.Attribute):
        if func.attr in _LOG_CALLS and _is_name(func.value, *_LOGGERS):
            return [call]
        if _is_name(func.value, "re"):
            return [call]
        if func.attr in ("get", "partition", "split", "startswith", "removeprefix"):
            return [*exempt, *call.args]
    return exempt


def _exempt_nodes(tree: ast.Module, bug_errors: frozenset[str] = _BUG_ERRORS) -> set[int]:
    """ids of the literals that are no words for a person: docstrings, what :func:`_exempt_call`
    says, dict keys, subscripts, compared values, an outbox post's subject (for the log), a
    repr and a SQL or URL the code sends."""
    exempt: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "__repr__":
            exempt.append(node)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                exempt.append(body[0])
        elif isinstance(node, ast.Call):
            exempt += _exempt_call(node, bug_errors)
        elif isinstance(node, ast.Dict):
            exempt += [key for key in node.keys if key is not None]
        elif isinstance(node, ast.Subscript):
            exempt.append(node.slice)
        elif isinstance(node, ast.Compare):
            exempt += [node.left, *node.comparators]
        elif isinstance(node, ast.keyword) and node.arg == "subject":
            exempt.append(node.value)
    return {id(sub) for node in exempt for sub in ast.walk(node)}


def _literals_with_words(path: Path, root: Path = ROOT) -> list[str]:
    """Every literal of ``path`` with words in it that is not exempt, and its line."""
    tree = parse(path)
    module = path.relative_to(root).as_posix()
    bug_errors = _BUG_ERRORS - {"ValueError"} if module in VALUE_ERRORS_READ else _BUG_ERRORS
    exempt = _exempt_nodes(tree, bug_errors)
    return [
        f"{module}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in exempt
        and node.value not in NAMES
        and not _METHOD.fullmatch(node.value)
        and not _SENT.search(node.value)
        and _has_words(node.value)
    ]


#: What the code sends, not says: SQL, a database URL and its query, a file suffix.
_SENT = re.compile(r"^(?:PRAGMA|SELECT|BEGIN)\b|^sqlite\+|^[?&][a-z]+=|^-wal$|^[/:][\w/:.-]*$")


def test_no_sentence_a_person_reads_is_outside_the_catalog() -> None:
    found = [line for module in READ_BY_PEOPLE for line in _literals_with_words(ROOT / module)]
    assert found == []


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('said = "Backups status"', ["'Backups status'"]),
        ('said = f"{n} clusters in {folder}"', ["' clusters in '"]),
        ('said = f"*{label}* ({count})"', []),
        ('said = _("Backups status")', []),
        ('said = ngettext("{n} backup", "{n} backups", n)', []),
        ('log.info("posted %s", ts)', []),
        ('raise ValueError("a row does not fit")', []),
        ('raise UsageError("the alert is not open")', ["'the alert is not open'"]),
        ('if kind == "a folder": pass', []),
        ('ACTION_ACK = "alert_ack"', []),
        ('WHEN = "<!date^{ts}^{date_short_pretty}|{fallback}>"', []),
        ('WHEN = f"<!date^{ts}^{{date_short_pretty}}|{fallback}>"', []),
        ('STAMP = "%Y-%m-%d %H:%M UTC"', []),
        ('ICON = ":white_check_mark:"', []),
        ('EXAMPLE = "list logs-prod --limit 30"', []),
        ('NAME = re.compile(r"[A-Za-z0-9_-]+")', []),
        ('SIZE = f"{text} GiB"', []),
        ('post(subject=f"group {label}")', []),
        ('UNIT = "duration-day"', []),
        ('said = format_date(day, "EEE d MMM y", locale=locale)', []),
        ('ONE = "someone"', []),  # a one-word literal passes for a name: the scan's blind spot
        ('WHO = "no one at all"', ["'no one at all'"]),
    ],
)
def test_the_scan_finds_words_and_only_words(
    tmp_path: Path, source: str, flagged: list[str]
) -> None:
    module = tmp_path / "m.py"
    module.write_text(source + "\n", encoding="utf-8")
    found = [line.split(": ", 1)[1] for line in _literals_with_words(module, tmp_path)]
    assert found == flagged


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('raise ValueError("2x is not a duration")', ["'2x is not a duration'"]),
        ('raise ValueError(_("{value} is not a duration"))', []),
        ('Finding(True, "slack mode", "HTTP mode on port 3000")', ["'HTTP mode on port 3000'"]),
        ('Finding(True, "slack mode", _("HTTP mode on port {port}"))', []),
        ('findings = failed("cloud credentials")', []),
        ('parser.add_parser("check", help="validate the config")', []),
        (
            'said = f"{where}: in memory, so alert state is lost"',
            ["': in memory, so alert state is lost'"],
        ),
        ('API = "Cluster.listBackups"', []),
    ],
)
def test_the_scan_of_check_and_the_config_reads_their_refusals(
    tmp_path: Path, source: str, flagged: list[str]
) -> None:
    """In bot/config.py a ValueError is a refusal a person reads; a finding's label is a name."""
    module = tmp_path / "bot" / "config.py"
    module.parent.mkdir()
    module.write_text(source + "\n", encoding="utf-8")
    found = [line.split(": ", 1)[1] for line in _literals_with_words(module, tmp_path)]
    assert found == flagged
