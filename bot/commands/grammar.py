"""The ``/backups`` command grammar, shared by Slack and ``backups-bot exec``.

:func:`parse_command` turns the text after ``/backups`` into one of a few frozen dataclasses. It
is forgiving about what Slack and phones do to text (smart quotes, long dashes for ``--``,
non-breaking and zero-width spaces, a leading ``/backups``, HTML entities) and strict about ids.
Every mistake raises :class:`~bot.errors.UsageError` (or its subclass
:class:`~bot.errors.InvalidArgument` for a broken limit) with a short message and a ``hint``
saying what to type instead; no input text makes it raise anything else.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from bot.commands import strings as s
from bot.durations import format_duration, parse_duration
from bot.errors import InvalidArgument, UsageError
from bot.i18n.catalog import _

DEFAULT_LIMIT = 10
MIN_LIMIT = 1
MAX_LIMIT = 100
MAX_ID_LENGTH = 50
#: Backup ids are not documented as cluster-id-like; other MDB services name them
#: ``<cluster-id>:<snapshot-name>``, so ``:`` and ``.`` are allowed and the bound is looser.
MAX_BACKUP_ID_LENGTH = 100
MAX_PAGE_FLAG_LENGTH = 100
MAX_SNOOZE = timedelta(days=30)
#: The most characters of a silence's reason (bot.silences.model.MAX_REASON).
MAX_REASON_LENGTH = 200

_ID = re.compile(r"[A-Za-z0-9_-]+")
_BACKUP_ID = re.compile(r"[A-Za-z0-9_.:-]+")
_ID_CHAR = re.compile(r"[A-Za-z0-9_-]")
_BACKUP_ID_CHAR = re.compile(r"[A-Za-z0-9_.:-]")
_DIGITS = re.compile(r"[0-9]{1,9}")


# --- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HelpCmd:
    topic: str | None = None
    name: ClassVar[str] = "help"


@dataclass(frozen=True, slots=True)
class ListCmd:
    cluster: str
    limit: int = DEFAULT_LIMIT
    page_token: str | None = None
    share: bool = False
    name: ClassVar[str] = "list"


@dataclass(frozen=True, slots=True)
class GetCmd:
    backup_id: str
    share: bool = False
    name: ClassVar[str] = "get"


@dataclass(frozen=True, slots=True)
class FolderCmd:
    folder_id: str
    share: bool = False
    name: ClassVar[str] = "folder"


@dataclass(frozen=True, slots=True)
class ClustersCmd:
    folder_id: str | None = None
    share: bool = False
    name: ClassVar[str] = "clusters"


@dataclass(frozen=True, slots=True)
class StatusCmd:
    #: A cluster id or name, or a folder id; None means everything the bot watches.
    target: str | None = None
    share: bool = False
    name: ClassVar[str] = "status"


@dataclass(frozen=True, slots=True)
class SnoozeCmd:
    cluster: str
    duration: timedelta
    name: ClassVar[str] = "snooze"


@dataclass(frozen=True, slots=True)
class UnsnoozeCmd:
    cluster: str
    name: ClassVar[str] = "unsnooze"


@dataclass(frozen=True, slots=True)
class BackupCmd:
    cluster: str
    name: ClassVar[str] = "backup"


@dataclass(frozen=True, slots=True)
class SloCmd:
    #: A cluster id or name, a folder id, or a match (``folder:<id>``, ``label:<k>=<v>``,
    #: ``environment:<ENV>``); None means everything the bot watches.
    target: str | None = None
    month: str | None = None  # YYYY-MM; None: this month to date
    share: bool = False
    name: ClassVar[str] = "slo"


@dataclass(frozen=True, slots=True)
class HistoryCmd:
    cluster: str
    days: int = 30
    share: bool = False
    name: ClassVar[str] = "history"


@dataclass(frozen=True, slots=True)
class DrillsCmd:
    cluster: str | None = None
    share: bool = False
    name: ClassVar[str] = "drills"


@dataclass(frozen=True, slots=True)
class DrillCmd:
    cluster: str
    name: ClassVar[str] = "drill"


@dataclass(frozen=True, slots=True)
class SilenceCmd:
    #: A match as the config writes it (``folder:<id>``, ``label:<k>=<v>``,
    #: ``environment:<ENV>``), or a cluster id or name.
    match: str
    duration: timedelta
    reason: str = ""
    name: ClassVar[str] = "silence"


@dataclass(frozen=True, slots=True)
class SilencesCmd:
    share: bool = False
    name: ClassVar[str] = "silences"


@dataclass(frozen=True, slots=True)
class UnsilenceCmd:
    silence_id: int
    name: ClassVar[str] = "unsilence"


Command = (
    HelpCmd
    | ListCmd
    | GetCmd
    | FolderCmd
    | ClustersCmd
    | StatusCmd
    | SnoozeCmd
    | UnsnoozeCmd
    | BackupCmd
    | SloCmd
    | HistoryCmd
    | DrillsCmd
    | DrillCmd
    | SilenceCmd
    | SilencesCmd
    | UnsilenceCmd
)

COMMAND_NAMES: tuple[str, ...] = (
    "help",
    "list",
    "get",
    "folder",
    "clusters",
    "status",
    "snooze",
    "unsnooze",
    "backup",
    "slo",
    "history",
    "drills",
    "drill",
    "silence",
    "silences",
    "unsilence",
)

#: Russian words taken for a command where they can mean only that one. The commands stay
#: English words (they are the interface, like kubectl's: help and errors name them so); these
#: are accepted, never shown. Flags have none.
SYNONYMS: dict[str, str] = {
    "помощь": "help",
    "справка": "help",
    "список": "list",
    "статус": "status",
    "состояние": "status",
    "кластеры": "clusters",
    "каталог": "folder",
    "заглушить": "snooze",
}

_SHARE = "--share"
_LIMIT = "--limit"
_PAGE_FLAG = "--page-token"
_HELP_FLAGS = ("--help", "-h")
_MONTH = "--month"
_DAYS = "--days"
_VALUE_FLAGS = (_LIMIT, _PAGE_FLAG, _MONTH, _DAYS)
_ALL_FLAGS = (_SHARE, _LIMIT, _PAGE_FLAG, _MONTH, _DAYS, "--help")
DEFAULT_DAYS = 30
MAX_DAYS = 400
_MONTH_VALUE = re.compile(r"(\d{4})-(\d{2})")
#: What ``slo`` takes: an id or name, or a match as the config writes it.
_SCOPE = re.compile(r"(?:folder:|environment:|label:[A-Za-z0-9_.\-/]{1,63}=)?[A-Za-z0-9_.\-]{1,63}")
#: What ``silence`` takes: the same, and ``cluster:<id-or-name>``.
_SILENCE_MATCH = re.compile(
    r"(?:folder:|environment:|cluster:|label:[A-Za-z0-9_.\-/]{1,63}=)?[A-Za-z0-9_.\-]{1,63}"
)
#: A silence's id as people type it back: ``3`` or ``#3``.
_SILENCE_ID = re.compile(r"#?([0-9]{1,9})")

_FLAGS_OF: dict[str, tuple[str, ...]] = {
    "help": (),
    "list": (_LIMIT, _PAGE_FLAG, _SHARE),
    "get": (_SHARE,),
    "folder": (_SHARE,),
    "clusters": (_SHARE,),
    "status": (_SHARE,),
    "snooze": (),
    "unsnooze": (),
    "backup": (),
    "slo": (_MONTH, _SHARE),
    "history": (_DAYS, _SHARE),
    "drills": (_SHARE,),
    "drill": (),
    "silence": (),
    "silences": (_SHARE,),
    "unsilence": (),
}

#: Examples used in hints, per command.
_EXAMPLE: dict[str, str] = {
    "help": "help list",
    "list": "list c9qexamplecluster001 --limit 20",
    "get": "get c9qexamplecluster001:snapshot-20240501",
    "folder": "folder b1gexamplefolder0001",
    "clusters": "clusters b1gexamplefolder0001",
    "status": "status c9qexamplecluster001",
    "snooze": "snooze c9qexamplecluster001 4h",
    "unsnooze": "unsnooze c9qexamplecluster001",
    "backup": "backup c9qexamplecluster001",
    "slo": "slo folder:b1gexamplefolder0001 --month 2026-11",
    "history": "history logs-prod --days 30",
    "drills": "drills c9qexamplecluster001",
    "drill": "drill c9qexamplecluster001",
    "silence": "silence folder:b1gexamplefolder0001 6h planned maintenance",
    "silences": "silences",
    "unsilence": "unsilence 3",
}


# --- tokenising ---------------------------------------------------------------------------------

_TRANSLATE = str.maketrans(
    {
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u201f": '"',
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",
        "\u201b": "'",
        "\u200b": None,  # zero-width space, joiners, BOM, word joiner
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
    }
)
_SLACK_LABELLED = re.compile(r"<[^<>|\s]*\|([^<>]*)>")
_SLACK_BARE = re.compile(r"<(?:https?://|mailto:)([^<>|\s]*)>")
#: Phones and macOS turn ``--`` into an en or em dash; a token starting with one is a flag.
_DASHES = ("\u2014", "\u2013", "\u2012", "\u2015", "\u2212", "\u2010", "\u2011")


def tokenize(text: str) -> list[str]:
    """Split like a shell, forgivingly: quotes group, an unclosed quote runs to the end, and
    there are no backslash escapes (ids never need them, Windows paths pasted by mistake do)."""
    # With "escape channels, users and links" on, Slack sends `logs.example` as
    # `<http://logs.example|logs.example>`: keep what the person typed. Raw < > only come from
    # Slack's own markup, so this runs before the entities below are decoded.
    text = _SLACK_LABELLED.sub(r"\1", text)
    text = _SLACK_BARE.sub(r"\1", text)
    # Slack escapes &, < and > in command text; undo it so `<cluster>` is recognised as typed.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = text.translate(_TRANSLATE)
    tokens: list[str] = []
    current: list[str] = []
    quote: str | None = None
    in_token = False
    for ch in text:
        if quote is not None:
            if ch == quote:
                quote = None
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
            in_token = True
        elif ch.isspace():
            if in_token:
                tokens.append("".join(current))
                current = []
                in_token = False
        else:
            current.append(ch)
            in_token = True
    if in_token:
        tokens.append("".join(current))
    return [_normalise_dash(t) for t in tokens]


def _normalise_dash(token: str) -> str:
    if token[:1] in _DASHES:
        return "--" + token[1:].lstrip("".join(_DASHES) + "-")
    return token


def _show(value: str, limit: int = 40) -> str:
    """A value quoted back in a message: one line, bounded, no backticks to break the span."""
    flat = "".join(ch if ch.isprintable() else " " for ch in value).replace("`", "'")
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat


# --- parsing ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Parsed:
    positionals: list[str]
    share: bool = False
    limit: int = DEFAULT_LIMIT
    page_token: str | None = None
    wants_help: bool = False
    month: str | None = None
    days: int = DEFAULT_DAYS


def _usage_hint(command: str) -> str:
    return _(s.HINT_USAGE).format(
        usage=s.usage_line(command), example=f"{s.PREFIX} {_EXAMPLE[command]}"
    )


def _nearest(word: str, choices: tuple[str, ...]) -> str | None:
    if len(word) > 40:  # nothing is that long; and difflib is quadratic
        return None
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


def _split_flags(command: str, args: list[str]) -> _Parsed:
    parsed = _Parsed(positionals=[])
    allowed = _FLAGS_OF[command]
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if not word.startswith("-") or word == "-":
            parsed.positionals.append(word)
            continue
        flag, eq, inline = word.partition("=")
        flag = flag.lower()
        if flag in _HELP_FLAGS:
            parsed.wants_help = True
            continue
        if flag not in _ALL_FLAGS:
            near = _nearest("--" + flag.lstrip("-"), allowed or _ALL_FLAGS)
            hint = _usage_hint(command)
            if near is not None and near in allowed:
                hint = _(s.UNKNOWN_FLAG_NEAR).format(near=near) + " " + hint
            raise UsageError(_(s.UNKNOWN_FLAG).format(command=command, flag=_show(flag)), hint=hint)
        if flag not in allowed:
            raise UsageError(
                _(s.FLAG_NOT_FOR_COMMAND).format(command=command, flag=flag),
                hint=_usage_hint(command),
            )
        if flag not in _VALUE_FLAGS:
            if eq:
                raise UsageError(
                    _(s.FLAG_TAKES_NO_VALUE).format(flag=flag, given=_show(word)),
                    hint=_usage_hint(command),
                )
            parsed.share = True
            continue
        if eq:
            value = inline
        elif i < len(args) and not args[i].startswith("--"):
            value = args[i]
            i += 1
        else:
            value = ""
        if flag == _LIMIT:
            parsed.limit = _parse_limit(value)
        elif flag == _MONTH:
            parsed.month = _parse_month(value)
        elif flag == _DAYS:
            parsed.days = _parse_days(value)
        else:
            parsed.page_token = _parse_page_token(value)
    return parsed


def _parse_limit(value: str) -> int:
    hint = _(s.HINT_LIMIT).format(prefix=s.PREFIX)
    if not value:
        raise UsageError(_(s.FLAG_NEEDS_VALUE).format(flag=_LIMIT), hint=hint)
    if not _DIGITS.fullmatch(value) or not MIN_LIMIT <= int(value) <= MAX_LIMIT:
        raise InvalidArgument(
            _(s.BAD_LIMIT).format(low=MIN_LIMIT, high=MAX_LIMIT, value=_show(value)), hint=hint
        )
    return int(value)


def _parse_month(value: str) -> str:
    hint = _(s.HINT_MONTH).format(prefix=s.PREFIX)
    if not value:
        raise UsageError(_(s.FLAG_NEEDS_VALUE).format(flag=_MONTH), hint=hint)
    found = _MONTH_VALUE.fullmatch(value)
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise InvalidArgument(_(s.BAD_MONTH).format(value=_show(value)), hint=hint)
    return value


def _parse_days(value: str) -> int:
    hint = _(s.HINT_DAYS).format(prefix=s.PREFIX, high=MAX_DAYS)
    if not value:
        raise UsageError(_(s.FLAG_NEEDS_VALUE).format(flag=_DAYS), hint=hint)
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= MAX_DAYS:
        raise InvalidArgument(
            _(s.BAD_LIMIT).format(low=1, high=MAX_DAYS, value=_show(value)), hint=hint
        )
    return int(value)


def _parse_page_token(value: str) -> str:
    if not value:
        raise UsageError(
            _(s.FLAG_NEEDS_VALUE).format(flag=_PAGE_FLAG),
            hint=_(s.HINT_PAGE_TOKEN).format(prefix=s.PREFIX),
        )
    if len(value) > MAX_PAGE_FLAG_LENGTH:
        raise InvalidArgument(
            _(s.PAGE_TOKEN_TOO_LONG).format(length=len(value), max=MAX_PAGE_FLAG_LENGTH),
            hint=_(s.HINT_PAGE_TOKEN).format(prefix=s.PREFIX),
        )
    return value


def _show_char(ch: str) -> str:
    if ch.isspace():
        return _(s.CHAR_SPACE)
    if not ch.isprintable():
        return _(s.CHAR_INVISIBLE).format(code=f"U+{ord(ch):04X}")
    return f"`{_show(ch)}`"


def _check_id(value: str, what: str, *, backup: bool = False) -> str:
    """Validate an id (or cluster name, which allows the same characters)."""
    pattern, char, max_length = (
        (_BACKUP_ID, _BACKUP_ID_CHAR, MAX_BACKUP_ID_LENGTH)
        if backup
        else (_ID, _ID_CHAR, MAX_ID_LENGTH)
    )
    hint = _(s.HINT_BACKUP_ID if backup else s.HINT_ID).format(prefix=s.PREFIX)
    if not value:
        raise UsageError(_(s.ID_EMPTY).format(what=_(what)), hint=hint)
    if len(value) >= 2 and value[0] == "<" and value[-1] == ">":
        raise UsageError(_(s.ID_PLACEHOLDER).format(value=_show(value), what=_(what)), hint=hint)
    if len(value) > max_length:
        raise InvalidArgument(
            _(s.ID_TOO_LONG).format(what=_(what), length=len(value), max=max_length), hint=hint
        )
    if not pattern.fullmatch(value):
        bad: list[str] = []
        for ch in value:
            if not char.fullmatch(ch) and ch not in bad:
                bad.append(ch)
        shown = " ".join(_show_char(ch) for ch in bad[:5])
        raise InvalidArgument(
            _(s.ID_BAD_CHARACTERS).format(what=_(what), value=_show(value), bad=shown), hint=hint
        )
    return value


def _positionals(
    command: str, parsed: _Parsed, what: str, *, required: int, allowed: int
) -> list[str]:
    args = parsed.positionals
    if len(args) < required:
        raise UsageError(
            _(s.MISSING_ARGUMENT).format(command=command, what=_(what)), hint=_usage_hint(command)
        )
    if len(args) > allowed:
        if allowed == 0:
            takes = _(s.TAKES_NOTHING)
        elif required == allowed:
            takes = _(s.TAKES_ONE).format(what=_(what))
        else:
            takes = _(s.TAKES_AT_MOST_ONE).format(what=_(what))
        raise UsageError(
            _(s.EXTRA_ARGUMENT).format(command=command, takes=takes, extra=_show(args[allowed])),
            hint=_usage_hint(command),
        )
    return args


def _parse_duration(words: list[str], *, silence: bool = False) -> timedelta:
    # "1h 30m" arrives as two tokens; parse_duration ignores spaces, so join them back.
    value = " ".join(words)
    hint = _(s.HINT_DURATION).format(prefix=s.PREFIX)
    try:
        duration = parse_duration(value)
    except (ValueError, OverflowError):
        raise UsageError(_(s.BAD_DURATION).format(value=_show(value)), hint=hint) from None
    if duration > MAX_SNOOZE:
        most = format_duration(MAX_SNOOZE)
        too_long, too_long_hint = (
            (s.SILENCE_TOO_LONG, s.HINT_SILENCE_TOO_LONG)
            if silence
            else (s.DURATION_TOO_LONG, s.HINT_DURATION_TOO_LONG)
        )
        raise InvalidArgument(
            _(too_long).format(max=most, value=_show(value)),
            hint=_(too_long_hint).format(max=most, prefix=s.PREFIX),
        )
    return duration


def _parse_silence(parsed: _Parsed) -> SilenceCmd:
    """``silence <match> <duration> [reason...]``: the duration is the words after the match
    that read as one ("1h 30m" is two), the reason the rest."""
    verb = "silence"
    found = parsed.positionals
    if not found:
        raise UsageError(
            _(s.MISSING_ARGUMENT).format(command=verb, what=_(s.WHAT_MATCH)),
            hint=_usage_hint(verb),
        )
    match = found[0]
    if not _SILENCE_MATCH.fullmatch(match):
        raise InvalidArgument(_(s.BAD_SCOPE).format(value=_show(match)), hint=_usage_hint(verb))
    words = found[1:]
    taken = 0
    while taken < len(words) and _is_duration(words[taken]):
        taken += 1
    if taken == 0:
        if words:
            raise UsageError(
                _(s.BAD_DURATION).format(value=_show(words[0])),
                hint=_(s.HINT_SILENCE_DURATION).format(prefix=s.PREFIX),
            )
        raise UsageError(
            _(s.MISSING_ARGUMENT).format(command=verb, what=_(s.WHAT_DURATION)),
            hint=_usage_hint(verb),
        )
    duration = _parse_duration(words[:taken], silence=True)
    reason = " ".join(words[taken:]).strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidArgument(
            _(s.REASON_TOO_LONG).format(max=MAX_REASON_LENGTH, length=len(reason)),
            hint=_usage_hint(verb),
        )
    return SilenceCmd(match=match, duration=duration, reason=reason)


def _is_duration(word: str) -> bool:
    try:
        parse_duration(word)
    except (ValueError, OverflowError):
        return False
    return True


def _parse_help(args: list[str]) -> HelpCmd:
    words = [a for a in args if a.lower() not in _HELP_FLAGS]
    if not words:
        return HelpCmd()
    topic = words[0].lower().removeprefix("/backups")
    topic = SYNONYMS.get(topic, topic)
    if topic not in COMMAND_NAMES:
        near = _nearest(topic, COMMAND_NAMES)
        hint = (
            _(s.UNKNOWN_TOPIC_NEAR).format(prefix=s.PREFIX, near=near)
            if near
            else _(s.HINT_HELP).format(prefix=s.PREFIX)
        )
        raise UsageError(_(s.UNKNOWN_TOPIC).format(word=_show(words[0])), hint=hint)
    if len(words) > 1:
        raise UsageError(
            _(s.EXTRA_ARGUMENT).format(
                command="help",
                takes=_(s.TAKES_AT_MOST_ONE).format(what=_(s.WHAT_TOPIC)),
                extra=_show(words[1]),
            ),
            hint=_usage_hint("help"),
        )
    return HelpCmd(topic=topic)


def parse_command(text: str) -> Command:
    """Parse the text of a ``/backups`` command. Raises UsageError (only) on a mistake."""
    tokens = tokenize(text)
    if tokens and tokens[0].lower() == s.PREFIX:
        tokens = tokens[1:]
    if not tokens:
        return HelpCmd()
    verb, args = tokens[0].lower(), tokens[1:]
    verb = SYNONYMS.get(verb, verb)
    if verb in ("help", "?", *_HELP_FLAGS):
        return _parse_help(args)
    if verb not in COMMAND_NAMES:
        near = _nearest(verb, COMMAND_NAMES)
        hint = (
            _(s.UNKNOWN_COMMAND_NEAR).format(prefix=s.PREFIX, near=near)
            if near
            else _(s.HINT_HELP).format(prefix=s.PREFIX)
        )
        raise UsageError(_(s.UNKNOWN_COMMAND).format(word=_show(tokens[0])), hint=hint)
    parsed = _split_flags(verb, args)
    if parsed.wants_help:
        return HelpCmd(topic=verb)
    share = parsed.share
    if verb == "list":
        (cluster,) = _positionals(verb, parsed, s.WHAT_CLUSTER, required=1, allowed=1)
        return ListCmd(
            cluster=_check_id(cluster, s.WHAT_CLUSTER_ID),
            limit=parsed.limit,
            page_token=parsed.page_token,
            share=share,
        )
    if verb == "get":
        (backup_id,) = _positionals(verb, parsed, s.WHAT_BACKUP, required=1, allowed=1)
        return GetCmd(backup_id=_check_id(backup_id, s.WHAT_BACKUP, backup=True), share=share)
    if verb == "folder":
        (folder,) = _positionals(verb, parsed, s.WHAT_FOLDER, required=1, allowed=1)
        return FolderCmd(folder_id=_check_id(folder, s.WHAT_FOLDER), share=share)
    if verb == "clusters":
        found = _positionals(verb, parsed, s.WHAT_FOLDER, required=0, allowed=1)
        folder_id = _check_id(found[0], s.WHAT_FOLDER) if found else None
        return ClustersCmd(folder_id=folder_id, share=share)
    if verb == "status":
        found = _positionals(verb, parsed, s.WHAT_TARGET, required=0, allowed=1)
        target = _check_id(found[0], s.WHAT_TARGET) if found else None
        return StatusCmd(target=target, share=share)
    if verb == "snooze":
        found = parsed.positionals
        if not found:
            raise UsageError(
                _(s.MISSING_ARGUMENT).format(command=verb, what=_(s.WHAT_CLUSTER)),
                hint=_usage_hint(verb),
            )
        cluster = _check_id(found[0], s.WHAT_CLUSTER_ID)
        if len(found) < 2:
            raise UsageError(
                _(s.MISSING_ARGUMENT).format(command=verb, what=_(s.WHAT_DURATION)),
                hint=_usage_hint(verb),
            )
        return SnoozeCmd(cluster=cluster, duration=_parse_duration(found[1:]))
    if verb == "slo":
        found = _positionals(verb, parsed, s.WHAT_SCOPE, required=0, allowed=1)
        scope = None
        if found:
            scope = found[0]
            if not _SCOPE.fullmatch(scope):
                raise InvalidArgument(
                    _(s.BAD_SCOPE).format(value=_show(scope)), hint=_usage_hint(verb)
                )
        return SloCmd(target=scope, month=parsed.month, share=share)
    if verb == "history":
        (cluster,) = _positionals(verb, parsed, s.WHAT_CLUSTER, required=1, allowed=1)
        return HistoryCmd(
            cluster=_check_id(cluster, s.WHAT_CLUSTER_ID), days=parsed.days, share=share
        )
    if verb == "unsnooze":
        (cluster,) = _positionals(verb, parsed, s.WHAT_CLUSTER, required=1, allowed=1)
        return UnsnoozeCmd(cluster=_check_id(cluster, s.WHAT_CLUSTER_ID))
    if verb == "drills":
        found = _positionals(verb, parsed, s.WHAT_CLUSTER, required=0, allowed=1)
        named = _check_id(found[0], s.WHAT_CLUSTER_ID) if found else None
        return DrillsCmd(cluster=named, share=share)
    if verb == "drill":
        (cluster,) = _positionals(verb, parsed, s.WHAT_CLUSTER, required=1, allowed=1)
        return DrillCmd(cluster=_check_id(cluster, s.WHAT_CLUSTER_ID))
    if verb == "silence":
        return _parse_silence(parsed)
    if verb == "silences":
        _positionals(verb, parsed, s.WHAT_SILENCE, required=0, allowed=0)
        return SilencesCmd(share=share)
    if verb == "unsilence":
        (given,) = _positionals(verb, parsed, s.WHAT_SILENCE, required=1, allowed=1)
        found_id = _SILENCE_ID.fullmatch(given)
        if found_id is None:
            raise InvalidArgument(
                _(s.BAD_SILENCE_ID).format(value=_show(given)),
                hint=_(s.HINT_SILENCE_ID).format(prefix=s.PREFIX),
            )
        return UnsilenceCmd(silence_id=int(found_id.group(1)))
    (cluster,) = _positionals(verb, parsed, s.WHAT_CLUSTER, required=1, allowed=1)
    return BackupCmd(cluster=_check_id(cluster, s.WHAT_CLUSTER_ID))
