"""The /backups grammar: every command, every mistake with its exact hint, and fuzzing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.grammar import (
    COMMAND_NAMES,
    BackupCmd,
    ClustersCmd,
    Command,
    DrillCmd,
    DrillsCmd,
    FolderCmd,
    GetCmd,
    HelpCmd,
    HistoryCmd,
    ListCmd,
    SilenceCmd,
    SilencesCmd,
    SloCmd,
    SnoozeCmd,
    StatusCmd,
    UnsilenceCmd,
    UnsnoozeCmd,
    parse_command,
    tokenize,
)
from bot.errors import InvalidArgument, UsageError

LIST_USAGE = (
    "Type `/backups list <cluster> [--limit N] [--share]`, "
    "e.g. `/backups list c9qexamplecluster001 --limit 20`."
)
GET_USAGE = (
    "Type `/backups get <backup-id> [--share]`, "
    "e.g. `/backups get c9qexamplecluster001:snapshot-20240501`."
)
SNOOZE_USAGE = (
    "Type `/backups snooze <cluster> <duration>`, e.g. `/backups snooze c9qexamplecluster001 4h`."
)
ID_HINT = "Ids are letters, digits, `-` and `_`; find them with `/backups clusters`."
LIMIT_HINT = "e.g. `/backups list <cluster> --limit 20`."
DURATION_HINT = "Write a number and a unit (m, h, d, w), e.g. `/backups snooze <cluster> 4h`."
HELP_HINT = "Type `/backups help` to see every command."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", HelpCmd()),
        ("   ", HelpCmd()),
        ("help", HelpCmd()),
        ("help list", HelpCmd(topic="list")),
        ("HELP Snooze", HelpCmd(topic="snooze")),
        ("--help", HelpCmd()),
        ("?", HelpCmd()),
        ("list --help", HelpCmd(topic="list")),
        ("get b1 -h", HelpCmd(topic="get")),
        ("/backups", HelpCmd()),
        ("list c9qcluster", ListCmd(cluster="c9qcluster")),
        ("list logs-prod --limit 20", ListCmd(cluster="logs-prod", limit=20)),
        ("list logs-prod --limit=1", ListCmd(cluster="logs-prod", limit=1)),
        ("list --limit 100 logs-prod", ListCmd(cluster="logs-prod", limit=100)),
        ("list logs-prod --share", ListCmd(cluster="logs-prod", share=True)),
        ("list c1 --page-token abc", ListCmd(cluster="c1", page_token="abc")),
        ("list c1 --page-token=a/b+c==", ListCmd(cluster="c1", page_token="a/b+c==")),
        ("list c1 --LIMIT 5 --Share", ListCmd(cluster="c1", limit=5, share=True)),
        ("/backups list c1", ListCmd(cluster="c1")),
        ("LIST c1", ListCmd(cluster="c1")),
        ("  list \u00a0 c1\t\n", ListCmd(cluster="c1")),
        ("list “c1”", ListCmd(cluster="c1")),
        ("list ‘c1’", ListCmd(cluster="c1")),
        ("list c1 —share", ListCmd(cluster="c1", share=True)),
        ("list c1 –limit 3", ListCmd(cluster="c1", limit=3)),
        ("list c1\u200b", ListCmd(cluster="c1")),
        ("list 'c1", ListCmd(cluster="c1")),
        ("get c9qbackup", GetCmd(backup_id="c9qbackup")),
        ("get c9q:snapshot-2024.05.01 --share", GetCmd("c9q:snapshot-2024.05.01", share=True)),
        ("folder b1gfolder", FolderCmd(folder_id="b1gfolder")),
        ("folder b1gfolder --share", FolderCmd(folder_id="b1gfolder", share=True)),
        ("clusters", ClustersCmd()),
        ("clusters b1gfolder", ClustersCmd(folder_id="b1gfolder")),
        ("clusters --share", ClustersCmd(share=True)),
        ("status", StatusCmd()),
        ("status c9qcluster --share", StatusCmd(target="c9qcluster", share=True)),
        ("snooze c1 4h", SnoozeCmd(cluster="c1", duration=timedelta(hours=4))),
        ("snooze c1 1h 30m", SnoozeCmd(cluster="c1", duration=timedelta(minutes=90))),
        ("snooze c1 30d", SnoozeCmd(cluster="c1", duration=timedelta(days=30))),
        ("unsnooze c1", UnsnoozeCmd(cluster="c1")),
        ("backup c1", BackupCmd(cluster="c1")),
        ("backup " + "a" * 50, BackupCmd(cluster="a" * 50)),
        ("get " + "b" * 100, GetCmd(backup_id="b" * 100)),
        ("list c_1-2", ListCmd("c_1-2")),
        ("list <http://logs-prod|logs-prod>", ListCmd("logs-prod")),
        ("status <http://b1gfolder>", StatusCmd(target="b1gfolder")),
        (
            "silence folder:b1gf 6h planned maintenance",
            SilenceCmd("folder:b1gf", timedelta(hours=6), "planned maintenance"),
        ),
        (
            "silence label:team=search 1h 30m",
            SilenceCmd("label:team=search", timedelta(minutes=90)),
        ),
        ("silence logs-prod 2d", SilenceCmd("logs-prod", timedelta(days=2))),
        (
            "silence environment:PRODUCTION 4h “big migration”",
            SilenceCmd("environment:PRODUCTION", timedelta(hours=4), "big migration"),
        ),
        ("silences", SilencesCmd()),
        ("silences --share", SilencesCmd(share=True)),
        ("unsilence 3", UnsilenceCmd(3)),
        ("unsilence #12", UnsilenceCmd(12)),
    ],
)
def test_it_parses_every_command(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


def test_each_command_has_the_name_access_rules_use() -> None:
    names = [
        HelpCmd.name,
        ListCmd.name,
        GetCmd.name,
        FolderCmd.name,
        ClustersCmd.name,
        StatusCmd.name,
        SnoozeCmd.name,
        UnsnoozeCmd.name,
        BackupCmd.name,
        SloCmd.name,
        HistoryCmd.name,
        DrillsCmd.name,
        DrillCmd.name,
        SilenceCmd.name,
        SilencesCmd.name,
        UnsilenceCmd.name,
    ]
    assert tuple(names) == COMMAND_NAMES
    assert parse_command("list c1").name == "list"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("silence", "needs a match or cluster"),
        ("silence folder:b1gf", "needs a duration"),
        ("silence folder:b1gf soon", "`soon` is not a duration"),
        ("silence folder:b1gf 31d", "A silence lasts at most 30d; I got `31d`."),
        ("silence <b1gf> 1h", "is not a cluster"),
        ("silence folder:b1gf 1h " + "x" * 201, "at most 200 characters"),
        ("unsilence", "needs a silence id"),
        ("unsilence abc", "is not a silence id"),
        ("silences extra", "takes no arguments"),
    ],
)
def test_silence_mistakes_say_what_to_type(text: str, says: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_command(text)
    assert says in str(raised.value)
    assert raised.value.hint


def test_list_defaults_to_ten_rows_without_a_token() -> None:
    cmd = parse_command("list c1")
    assert isinstance(cmd, ListCmd)
    assert (cmd.limit, cmd.page_token, cmd.share) == (10, None, False)


@pytest.mark.parametrize(
    ("text", "kind", "message", "hint"),
    [
        (
            "lsit c1",
            UsageError,
            "I don't know the command `lsit`.",
            "Did you mean `/backups list`? " + HELP_HINT,
        ),
        (
            "snoze c1 4h",
            UsageError,
            "I don't know the command `snoze`.",
            "Did you mean `/backups snooze`? " + HELP_HINT,
        ),
        ("xyzzy", UsageError, "I don't know the command `xyzzy`.", HELP_HINT),
        (
            "help lst",
            UsageError,
            "There is no help on `lst`.",
            "Did you mean `/backups help list`? " + HELP_HINT,
        ),
        ("list", UsageError, "`list` needs a cluster id or name.", LIST_USAGE),
        ("list --share", UsageError, "`list` needs a cluster id or name.", LIST_USAGE),
        ("get", UsageError, "`get` needs a backup id.", GET_USAGE),
        (
            "folder",
            UsageError,
            "`folder` needs a folder id.",
            "Type `/backups folder <folder-id> [--share]`, "
            "e.g. `/backups folder b1gexamplefolder0001`.",
        ),
        ("snooze", UsageError, "`snooze` needs a cluster id or name.", SNOOZE_USAGE),
        ("snooze c1", UsageError, "`snooze` needs a duration.", SNOOZE_USAGE),
        (
            "unsnooze",
            UsageError,
            "`unsnooze` needs a cluster id or name.",
            "Type `/backups unsnooze <cluster>`, e.g. `/backups unsnooze c9qexamplecluster001`.",
        ),
        (
            "backup",
            UsageError,
            "`backup` needs a cluster id or name.",
            "Type `/backups backup <cluster>`, e.g. `/backups backup c9qexamplecluster001`.",
        ),
        (
            "list c1 c2",
            UsageError,
            "`list` takes one cluster id or name; I don't know what to do with `c2`.",
            LIST_USAGE,
        ),
        (
            "clusters b1 b2",
            UsageError,
            "`clusters` takes at most one folder id; I don't know what to do with `b2`.",
            "Type `/backups clusters [<folder-id>] [--share]`, "
            "e.g. `/backups clusters b1gexamplefolder0001`.",
        ),
        (
            "help list get",
            UsageError,
            "`help` takes at most one command name; I don't know what to do with `get`.",
            "Type `/backups help [<command>]`, e.g. `/backups help list`.",
        ),
        (
            "list c1 --limt 5",
            UsageError,
            "`list` has no flag `--limt`.",
            "Did you mean `--limit`? " + LIST_USAGE,
        ),
        (
            "list c1 -share",
            UsageError,
            "`list` has no flag `-share`.",
            "Did you mean `--share`? " + LIST_USAGE,
        ),
        ("list c1 --verbose", UsageError, "`list` has no flag `--verbose`.", LIST_USAGE),
        ("get b1 --limit 3", UsageError, "`get` does not take `--limit`.", GET_USAGE),
        (
            "snooze c1 4h --share",
            UsageError,
            "`snooze` does not take `--share`.",
            SNOOZE_USAGE,
        ),
        (
            "list c1 --share=yes",
            UsageError,
            "`--share` takes no value; I got `--share=yes`.",
            LIST_USAGE,
        ),
        ("list c1 --limit", UsageError, "`--limit` needs a value.", LIMIT_HINT),
        ("list c1 --limit --share", UsageError, "`--limit` needs a value.", LIMIT_HINT),
        (
            "list c1 --limit 0",
            InvalidArgument,
            "`--limit` must be a whole number from 1 to 100; I got `0`.",
            LIMIT_HINT,
        ),
        (
            "list c1 --limit=101",
            InvalidArgument,
            "`--limit` must be a whole number from 1 to 100; I got `101`.",
            LIMIT_HINT,
        ),
        (
            "list c1 --limit ten",
            InvalidArgument,
            "`--limit` must be a whole number from 1 to 100; I got `ten`.",
            LIMIT_HINT,
        ),
        (
            "list c1 --limit ١٢",  # Arabic-Indic digits: int() takes them, ids must not
            InvalidArgument,
            "`--limit` must be a whole number from 1 to 100; I got `١٢`.",
            LIMIT_HINT,
        ),
        (
            "list c1 --page-token",
            UsageError,
            "`--page-token` needs a value.",
            "Use the *Next page* button, or `/backups list <cluster>` to start over.",
        ),
        (
            "list c1 --page-token " + "t" * 101,
            InvalidArgument,
            "The page token is 101 characters long; at most 100.",
            "Use the *Next page* button, or `/backups list <cluster>` to start over.",
        ),
        (
            "list " + "c" * 57,
            InvalidArgument,
            "The cluster id is 57 characters long; at most 50.",
            ID_HINT,
        ),
        (
            "folder " + "f" * 51,
            InvalidArgument,
            "The folder id is 51 characters long; at most 50.",
            ID_HINT,
        ),
        (
            "get " + "b" * 101,
            InvalidArgument,
            "The backup id is 101 characters long; at most 100.",
            "Backup ids are letters, digits, `-`, `_`, `.` and `:`; "
            "find them with `/backups list <cluster>`.",
        ),
        (
            "list a.b",
            InvalidArgument,
            "The cluster id `a.b` has characters an id cannot have: `.`.",
            ID_HINT,
        ),
        (
            "list 'my cluster'",
            InvalidArgument,
            "The cluster id `my cluster` has characters an id cannot have: a space.",
            ID_HINT,
        ),
        (
            "status c1/b2",
            InvalidArgument,
            "The cluster or folder id `c1/b2` has characters an id cannot have: `/`.",
            ID_HINT,
        ),
        ("list ''", UsageError, "The cluster id is empty.", ID_HINT),
        (
            "list <cluster>",
            UsageError,
            "`<cluster>` is a placeholder; type a cluster id in its place.",
            ID_HINT,
        ),
        (
            "list &lt;cluster&gt;",
            UsageError,
            "`<cluster>` is a placeholder; type a cluster id in its place.",
            ID_HINT,
        ),
        ("snooze c1 soon", UsageError, "`soon` is not a duration.", DURATION_HINT),
        ("snooze c1 4", UsageError, "`4` is not a duration.", DURATION_HINT),
        ("snooze c1 0h", UsageError, "`0h` is not a duration.", DURATION_HINT),
        (
            "snooze c1 31d",
            InvalidArgument,
            "A snooze lasts at most 30d; I got `31d`.",
            "Snooze for 30d or less, e.g. `/backups snooze <cluster> 1d`; "
            "check the backups instead if it stays stale.",
        ),
        (
            "snooze " + "c" * 51 + " 4h",
            InvalidArgument,
            "The cluster id is 51 characters long; at most 50.",
            ID_HINT,
        ),
    ],
)
def test_each_mistake_says_what_was_wrong_and_what_to_type(
    text: str, kind: type[UsageError], message: str, hint: str
) -> None:
    with pytest.raises(UsageError) as info:
        parse_command(text)
    assert type(info.value) is kind
    assert str(info.value) == message
    assert info.value.hint == hint


def test_a_huge_duration_is_a_usage_error_not_an_overflow() -> None:
    with pytest.raises(UsageError):
        parse_command("snooze c1 " + "999999w" * 2000)


def test_values_quoted_back_are_bounded_and_cannot_break_a_code_span() -> None:
    with pytest.raises(UsageError) as info:
        parse_command("x`" + "y" * 500)
    message = str(info.value)
    assert len(message) < 100
    assert message.count("`") == 2


def test_tokenize_groups_quotes_and_treats_long_dashes_as_flags() -> None:
    assert tokenize('a "b c" „d e“ —share ––limit') == ["a", "b c", "d e", "--share", "--limit"]
    assert tokenize('list "unclosed quote') == ["list", "unclosed quote"]
    assert tokenize('x ""') == ["x", ""]


def _parse_or_error(text: str) -> Command | UsageError:
    """Any other exception escapes and fails the test."""
    try:
        return parse_command(text)
    except UsageError as err:
        return err


WORDS = st.sampled_from(
    [
        *COMMAND_NAMES,
        "/backups",
        "--share",
        "--limit",
        "--limit=5",
        "--page-token",
        "--help",
        "-h",
        "—share",
        "c9qcluster",
        "b1gfolder",
        "4h",
        "1h",
        "30m",
        "0",
        "101",
        '"',
        "'",
        "“",
        "<cluster>",
        "&lt;",
        "a" * 60,
        "=",
        "--",
        "-",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_command_or_a_usage_error(text: str) -> None:
    result = _parse_or_error(text)
    if isinstance(result, UsageError):
        assert str(result)
        assert result.hint
    else:
        assert result.name in COMMAND_NAMES


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=8))
def test_any_sequence_of_likely_words_is_a_command_or_a_usage_error(words: list[str]) -> None:
    result = _parse_or_error(" ".join(words))
    if isinstance(result, UsageError):
        assert result.hint
    else:
        assert result.name in COMMAND_NAMES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("list c1 c2", "`list` takes one cluster id or name; I don't know what to do with `c2`."),
        ("get b1 b2 b3", "`get` takes one backup id; I don't know what to do with `b2`."),
        ("folder f1 f2", "`folder` takes one folder id; I don't know what to do with `f2`."),
        (
            "clusters f1 f2",
            "`clusters` takes at most one folder id; I don't know what to do with `f2`.",
        ),
        (
            "status c1 c2",
            "`status` takes at most one cluster or folder id; I don't know what to do with `c2`.",
        ),
        (
            "unsnooze c1 c2",
            "`unsnooze` takes one cluster id or name; I don't know what to do with `c2`.",
        ),
        (
            "backup c1 c2",
            "`backup` takes one cluster id or name; I don't know what to do with `c2`.",
        ),
    ],
)
def test_a_word_too_many_is_a_usage_error_naming_it(text: str, message: str) -> None:
    verb = text.split()[0]
    with pytest.raises(UsageError) as info:
        parse_command(text)
    assert type(info.value) is UsageError
    assert str(info.value) == message
    assert info.value.hint is not None
    assert info.value.hint.startswith(f"Type `/backups {verb} ")


ID_HINT_TEXT = "Ids are letters, digits, `-` and `_`; find them with `/backups clusters`."


@pytest.mark.parametrize(
    ("text", "kind", "message", "hint"),
    [
        (
            "list a\x07b",
            InvalidArgument,
            "The cluster id `a b` has characters an id cannot have: an invisible U+0007.",
            ID_HINT_TEXT,
        ),
        (
            "list c1>",
            InvalidArgument,
            "The cluster id `c1>` has characters an id cannot have: `>`.",
            ID_HINT_TEXT,
        ),
        (
            "list <>",
            UsageError,
            "`<>` is a placeholder; type a cluster id in its place.",
            ID_HINT_TEXT,
        ),
        (
            "list a/b?c*d%e^f&g",  # six characters wrong: five are named
            InvalidArgument,
            "The cluster id `a/b?c*d%e^f&g` has characters an id cannot have: `/` `?` `*` `%` `^`.",
            ID_HINT_TEXT,
        ),
        (
            "clusters b/1",
            InvalidArgument,
            "The folder id `b/1` has characters an id cannot have: `/`.",
            ID_HINT_TEXT,
        ),
        (
            "unsnooze c/1",
            InvalidArgument,
            "The cluster id `c/1` has characters an id cannot have: `/`.",
            ID_HINT_TEXT,
        ),
        (
            "backup c/1",
            InvalidArgument,
            "The cluster id `c/1` has characters an id cannot have: `/`.",
            ID_HINT_TEXT,
        ),
        ("help zzzz", UsageError, "There is no help on `zzzz`.", HELP_HINT),
        (
            "snooze c1 4h --shar",  # --share is a flag, but not of snooze: no "did you mean"
            UsageError,
            "`snooze` has no flag `--shar`.",
            SNOOZE_USAGE,
        ),
        (
            "status a b",
            UsageError,
            "`status` takes at most one cluster or folder id; I don't know what to do with `b`.",
            "Type `/backups status [<cluster-or-folder-id>] [--share]`, "
            "e.g. `/backups status c9qexamplecluster001`.",
        ),
        (
            "x" * 45,  # quoted back cut to 40 characters
            UsageError,
            "I don't know the command `" + "x" * 39 + "…`.",
            HELP_HINT,
        ),
    ],
)
def test_more_mistakes_say_exactly_what_was_wrong(
    text: str, kind: type[UsageError], message: str, hint: str
) -> None:
    with pytest.raises(UsageError) as info:
        parse_command(text)
    assert type(info.value) is kind
    assert str(info.value) == message
    assert info.value.hint == hint


def test_a_word_of_forty_characters_is_quoted_back_whole() -> None:
    with pytest.raises(UsageError) as info:
        parse_command("y" * 40)
    assert str(info.value) == "I don't know the command `" + "y" * 40 + "`."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list C9QCLUSTER", ListCmd(cluster="C9QCLUSTER")),  # ids may have capitals
        ("get ABC:snapshot.1", GetCmd(backup_id="ABC:snapshot.1")),
        ("list -", ListCmd(cluster="-")),  # a lone dash is a word, not a flag
        ("list c1 --page-token " + "t" * 100, ListCmd(cluster="c1", page_token="t" * 100)),
        ("help list --help", HelpCmd(topic="list")),
    ],
)
def test_edge_cases_that_are_commands(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


def test_plain_help_has_no_topic() -> None:
    assert parse_command("help").topic is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("list «a b»", ["list", "a b"]),
        ("list \u201aa b\u201b", ["list", "a b"]),
        ("list \u201ea b\u201f", ["list", "a b"]),
        ("a&amp;b X1", ["a&b", "X1"]),
        *[(f"{dash}share", ["--share"]) for dash in "\u2014\u2013\u2012\u2015\u2212\u2010\u2011"],
        ("\u2014Xy", ["--Xy"]),
    ],
)
def test_what_phones_and_slack_do_to_text_is_undone(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens
