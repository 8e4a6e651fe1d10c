"""The words of the ``/backups`` command surface that the pure core needs: usage and help text,
the grammar's error messages and hints, and access refusals.

Templates are plain text with ``<placeholders>`` and backticks; renderers escape them for mrkdwn
(so ``<cluster>`` shows as typed) and the CLI prints them as they are. The reply strings live in
:mod:`bot.render.strings`, which re-exports these, so renderers keep one module to read.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/backups"


@dataclass(frozen=True, slots=True)
class CommandHelp:
    name: str
    usage: str  # without the prefix
    summary: str
    details: str
    examples: tuple[str, ...]


COMMAND_HELP: tuple[CommandHelp, ...] = (
    CommandHelp(
        "list",
        "list <cluster> [--limit N] [--share]",
        "a cluster's backups, newest first",
        "Shows started and finished times, duration, size, index count, OpenSearch version and "
        "id of each backup, under the cluster's last backup attempt and the trend of its last 14 "
        "backups. `--limit` is 1 to 100 (default 10); a *Next page* button shows more. "
        "A cluster is named by its id or its name.",
        ("list c9qexamplecluster001", "list logs-prod --limit 30", "list logs-prod --share"),
    ),
    CommandHelp(
        "get",
        "get <backup-id> [--share]",
        "one backup in full",
        "Shows every size figure (size, incremental, total, free space required), whether a "
        "restore into a cluster of its cluster's shape would fit, its cluster's last backup "
        "attempt, retention policies and backup trend, and the names of up to 100 indices.",
        ("get c9qexamplecluster001:snapshot-20240501",),
    ),
    CommandHelp(
        "folder",
        "folder <folder-id> [--share]",
        "backups of every cluster in a folder",
        "Groups the backups by cluster, newest first; very large folders show the newest few of "
        "each cluster.",
        ("folder b1gexamplefolder0001",),
    ),
    CommandHelp(
        "clusters",
        "clusters [<folder-id>] [--share]",
        "clusters with their newest backup and whether it is fresh",
        "Without a folder id, shows the folders the bot is configured to watch. Each cluster is "
        "fresh, stale, never backed up, unknown (the backups could not be read), stopped or "
        "unscheduled.",
        ("clusters", "clusters b1gexamplefolder0001"),
    ),
    CommandHelp(
        "status",
        "status [<cluster-or-folder-id>] [--share]",
        "the digest view, now",
        "The same view as the daily digest, for everything the bot watches, one folder or one "
        "cluster (one cluster in full: its retention policies, restore readiness and trend).",
        ("status", "status c9qexamplecluster001"),
    ),
    CommandHelp(
        "snooze",
        "snooze <cluster> <duration>",
        "silence a cluster's staleness alert for a while",
        "Durations are a number and a unit: 90m, 4h, 2d, 1w (at most 30d).",
        ("snooze logs-prod 4h", "snooze c9qexamplecluster001 1d"),
    ),
    CommandHelp(
        "unsnooze",
        "unsnooze <cluster>",
        "end a snooze early",
        "Alerts for the cluster resume at the next check.",
        ("unsnooze logs-prod",),
    ),
    CommandHelp(
        "backup",
        "backup <cluster>",
        "start a backup now",
        "Asks you to confirm first. May be limited to some people by the bot's access rules.",
        ("backup logs-prod",),
    ),
    CommandHelp(
        "help",
        "help [<command>]",
        "this help, or the help of one command",
        "",
        ("help", "help list"),
    ),
)

HELP_BY_NAME = {h.name: h for h in COMMAND_HELP}

HELP_TITLE = "Backups bot: what you can ask"
HELP_SHARE_NOTE = (
    "Replies are only visible to you; add `--share` to post one to the channel. "
    "Type `{prefix} help <command>` for details."
)
HELP_COMMAND_TITLE = "{prefix} {name}"
HELP_EXAMPLES = "Examples"


def usage_line(name: str) -> str:
    """``/backups list <cluster> [--limit N] [--share]``."""
    return f"{PREFIX} {HELP_BY_NAME[name].usage}"


# --- grammar errors -----------------------------------------------------------------------------

HINT_HELP = f"Type `{PREFIX} help` to see every command."
UNKNOWN_COMMAND = "I don't know the command `{word}`."
UNKNOWN_COMMAND_NEAR = "Did you mean `{prefix} {near}`? " + HINT_HELP
UNKNOWN_TOPIC = "There is no help on `{word}`."
UNKNOWN_TOPIC_NEAR = "Did you mean `{prefix} help {near}`? " + HINT_HELP
HINT_USAGE = "Type `{usage}`, e.g. `{example}`."
MISSING_ARGUMENT = "`{command}` needs a {what}."
EXTRA_ARGUMENT = "`{command}` takes {takes}; I don't know what to do with `{extra}`."
TAKES_NOTHING = "no arguments"
TAKES_ONE = "one {what}"
TAKES_AT_MOST_ONE = "at most one {what}"
UNKNOWN_FLAG = "`{command}` has no flag `{flag}`."
UNKNOWN_FLAG_NEAR = "Did you mean `{near}`? "
FLAG_NOT_FOR_COMMAND = "`{command}` does not take `{flag}`."
FLAG_NEEDS_VALUE = "`{flag}` needs a value."
FLAG_TAKES_NO_VALUE = "`{flag}` takes no value; I got `{given}`."
BAD_LIMIT = "`--limit` must be a whole number from {low} to {high}; I got `{value}`."
HINT_LIMIT = "e.g. `{prefix} list <cluster> --limit 20`."
PAGE_TOKEN_TOO_LONG = "The page token is {length} characters long; at most {max}."  # noqa: S105
HINT_PAGE_TOKEN = f"Use the *Next page* button, or `{PREFIX} list <cluster>` to start over."
ID_EMPTY = "The {what} is empty."
ID_TOO_LONG = "The {what} is {length} characters long; at most {max}."
ID_BAD_CHARACTERS = "The {what} `{value}` has characters an id cannot have: {bad}."
ID_PLACEHOLDER = "`{value}` is a placeholder; type a {what} in its place."
CHAR_SPACE = "a space"
CHAR_INVISIBLE = "an invisible {code}"
HINT_ID = "Ids are letters, digits, `-` and `_`; find them with `{prefix} clusters`."
HINT_BACKUP_ID = (
    "Backup ids are letters, digits, `-`, `_`, `.` and `:`; "
    "find them with `{prefix} list <cluster>`."
)
BAD_DURATION = "`{value}` is not a duration."
HINT_DURATION = "Write a number and a unit (m, h, d, w), e.g. `{prefix} snooze <cluster> 4h`."
DURATION_TOO_LONG = "A snooze lasts at most {max}; I got `{value}`."
HINT_DURATION_TOO_LONG = (
    "Snooze for {max} or less, e.g. `{prefix} snooze <cluster> 1d`; check the backups instead "
    "if it stays stale."
)

#: What each positional argument is called in messages.
WHAT_CLUSTER = "cluster id or name"
WHAT_CLUSTER_ID = "cluster id"
WHAT_BACKUP = "backup id"
WHAT_FOLDER = "folder id"
WHAT_TARGET = "cluster or folder id"
WHAT_DURATION = "duration"
WHAT_TOPIC = "command name"


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- access -------------------------------------------------------------------------------------

ACCESS_ONLY_WHO = "Only {who} may run `{command}`."
ACCESS_ONLY_WHO_WHERE = "Only {who}, in {where}, may run `{command}`."
ACCESS_ONLY_WHERE = "`{command}` may only be run in {where}."
ACCESS_NOBODY = "Nobody may run `{command}` in this workspace; the bot's access rules disable it."
ACCESS_UNCONFIGURED = (
    "`{command}` starts work on a cluster, so it is only for people the bot's config names, and "
    "it names nobody yet: add a rule with `commands: [{command}]` and the users or user groups "
    "under access.rules."
)
ACCESS_HINT = "Ask whoever runs the bot if you need it (access.rules in its config)."
ACCESS_USER = "@{id}"
ACCESS_GROUP = "members of {group}"
ACCESS_CHANNEL = "#{id}"
ACCESS_AND_MORE = "{n} more"


def join_words(items: list[str], conj: str = "or") -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]
