"""The words of the ``/backups`` command surface that the pure core needs: usage and help text,
the grammar's error messages and hints, and access refusals.

Templates are plain text with ``<placeholders>`` and backticks; renderers escape them for mrkdwn
(so ``<cluster>`` shows as typed) and the CLI prints them as they are. The reply strings live in
:mod:`bot.commands.strings`, which re-exports these, so renderers keep one module to read.
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


# --- errors shown for failures ------------------------------------------------------------------

ERROR_ICON_USAGE = ":warning:"
ERROR_ICON_DENIED = ":no_entry:"
ERROR_ICON_CLOUD = ":cloud:"
ERROR_ICON_BUG = ":boom:"
NOT_FOUND = "I can't find {subject}."
NOT_FOUND_CLOUD_SAYS = "I can't find {subject} (the cloud says: {cloud})."
NOT_FOUND_SUBJECT = "that"
NOT_FOUND_HINT = (
    f"Check the id with `{PREFIX} clusters`; the bot only shows the folders it is configured for."
)
PERMISSION_DENIED = "The bot's service account may not read this (the cloud says: {cloud})."
PERMISSION_DENIED_HINT = (
    "Ask an admin to grant the service account the `managed-opensearch.viewer` role on the "
    "folder (and `managed-opensearch.editor` to start backups)."
)
UNAUTHENTICATED = "I can't sign in to Yandex Cloud right now."
UNAUTHENTICATED_HINT = "An admin should check the bot's credentials with `backups-bot check`."
CLOUD_TIMEOUT = "The cloud did not answer in time."
CLOUD_UNREACHABLE = "I can't reach the cloud right now."
CLOUD_RATE_LIMITED = "The cloud is asking me to slow down."
CLOUD_SERVER_ERROR = "The cloud had an error (HTTP {status})."
CLOUD_BAD_REQUEST = "The cloud refused the request (the cloud says: {cloud})."
CLOUD_OTHER = "The cloud answered with an error (HTTP {status}; the cloud says: {cloud})."
CLOUD_MALFORMED = "The cloud sent an answer I don't understand."
TRY_AGAIN = "Try again in a minute."
CONFIG_ERROR = "The bot's configuration is wrong: {detail}"
CONFIG_HINT = "An admin should run `backups-bot check`."
SLACK_ERROR = "Slack refused my message: {detail}"
STORE_UNAVAILABLE = "My database is not answering right now, so nothing was changed."
STORE_HINT = "Try again in a minute; if it keeps failing, tell whoever runs the bot."
UNEXPECTED = "Something went wrong on my side (error id `{id}`)."
UNEXPECTED_NO_ID = "Something went wrong on my side."
UNEXPECTED_HINT = "It is logged; try again, and mention the error id if you report it."
REQUEST_ID = "cloud request id `{id}`"

# --- replies ------------------------------------------------------------------------------------

LIST_TITLE = "*Backups of {cluster}* · newest first"
LIST_EMPTY = "*{cluster}* has no backups yet."
LIST_FOOTER = "{shown} shown · `{prefix} get <backup-id>` shows one in full"
LIST_NOT_SHOWN = "{n} more on this page did not fit; *Next page* starts with them"
LIST_RANGE = "{first}–{last} of {total}"
LIST_NO_MORE = "No more backups of *{cluster}* after the last page."
LIST_SKIPPED = "{n} sent by the cloud could not be read and are not listed"
LIST_POSITION_TOO_LONG = "More backups exist, but the last one's id is too long for a button."
LIST_OLD_BUTTON = (
    "This Next page button came from an older version of the bot, "
    "so the list starts again from the newest backup."
)
LIST_BAD_POSITION = "This page token is not a place in a list the bot made."
LIST_FALLBACK = "Backups of {cluster}: {shown}, newest {newest}."
LIST_FALLBACK_EMPTY = "{cluster} has no backups yet."
LIST_ROW_HEAD = "*{started}* · took {took} · {size} · {indices} · OpenSearch {version}"
LIST_ROW_TAIL = "`{id}` · finished {finished} ({age})"
BUTTON_NEXT_PAGE = "Next page"

BACKUP_TITLE = "*Backup* `{id}`"
BACKUP_OF = "of cluster `{cluster}` in folder `{folder}`"
BACKUP_FIELD_STARTED = "Started"
BACKUP_FIELD_FINISHED = "Finished"
BACKUP_FIELD_DURATION = "Duration"
BACKUP_FIELD_VERSION = "OpenSearch"
BACKUP_FIELD_SIZE = "Size"
BACKUP_FIELD_INCREMENTAL = "Incremental size"
BACKUP_FIELD_TOTAL = "Total size"
BACKUP_FIELD_FREE_SPACE = "Free space required"
BACKUP_FIELD_INDICES = "Indices"
BACKUP_INDICES_TITLE = "*Indices* ({count})"
BACKUP_INDICES_PARTIAL = "*Indices* ({shown} of {total}; the cloud lists at most 100)"
BACKUP_INDICES_NONE = "The cloud lists no index names for this backup."
BACKUP_INDICES_NOT_SHOWN = "{n} more index names did not fit in one message."
BACKUP_FALLBACK = "Backup {id} of {cluster}: finished {finished}, {size}, {indices}."

FOLDER_TITLE = "*Backups in folder* `{folder}` · newest first"
FOLDER_EMPTY = "No backups in folder `{folder}`."
FOLDER_CLUSTER = "*{cluster}* · {count}"
FOLDER_CLUSTER_EMPTY = "*{cluster}* · no backups"
FOLDER_ROW = "{finished} · {size} · {indices} · `{id}`"
FOLDER_MORE_ROWS = "_and {n} older_"
FOLDER_MORE_CLUSTERS = "{n} more clusters did not fit; use `{prefix} list <cluster>` for each."
FOLDER_TRUNCATED = "The folder has more backups than I read; use `{prefix} list <cluster>`."
FOLDER_FALLBACK = "Backups in folder {folder}: {clusters}, {backups}."

CLUSTERS_TITLE = "*Clusters in {folder}*"
CLUSTERS_EMPTY = "No clusters in {folder}."
CLUSTERS_ROW = "{icon} *{name}* `{id}` · {state}{detail}"
CLUSTERS_ROW_NEWEST = " · newest {when} ({age}, max {max_age})"
CLUSTERS_ROW_REASON = " · {reason}"
VIEW_ROWS = "rows {first}–{last} of {total}"
VIEW_MORE = "{n} more: *{button}*"
VIEW_FROM_ROW = "from row {n}"
VIEW_FLEET_CHANGED = (
    "No more clusters after row {n}: the fleet changed since the first page. "
    "Run `{prefix} {command}` again."
)
CLUSTERS_SUMMARY = "{total} clusters: {counts}"
CLUSTERS_FALLBACK = "Clusters in {folder}: {counts}."

#: Shown for each freshness state: an emoji and a word.
STATE_ICON = {
    "fresh": ":white_check_mark:",
    "stale": ":red_circle:",
    "never": ":x:",
    "unknown": ":grey_question:",
    "stopped": ":double_vertical_bar:",
    "unscheduled": ":calendar:",
}
STATE_WORD = {
    "fresh": "fresh",
    "stale": "stale",
    "never": "never backed up",
    "unknown": "unknown",
    "stopped": "stopped",
    "unscheduled": "no schedule",
}

BACKUP_CONFIRM = "Start a backup of *{cluster}* (`{id}`) now?"
BACKUP_CONFIRM_FALLBACK = "Start a backup of {cluster} now?"
BUTTON_CONFIRM_BACKUP = "Start backup"
BUTTON_CANCEL = "Cancel"

SNOOZED = "Snoozed alerts for `{cluster}` until {until}."
UNSNOOZED = "Alerts for `{cluster}` are back on."
BACKUP_STARTED = "Started a backup of `{cluster}` (operation `{operation}`)."
BACKUP_ALREADY_STARTED = (
    "A backup of `{cluster}` was started {ago} ago (operation `{operation}`), so I did not start "
    "another: one backup per cluster every {every}. Ask again after {after} if you need one."
)

# --- limits on what one person or channel can make the bot do --------------------------------

SLOW_DOWN = "Slow down, try again in {seconds} s."
SLOW_DOWN_USER_HINT = (
    "Commands that reach the cloud are limited to {limit} a minute for each person "
    "(limits.user_per_minute in the bot's config)."
)
SLOW_DOWN_CHANNEL_HINT = (
    "Commands that reach the cloud are limited to {limit} a minute for each channel "
    "(limits.channel_per_minute in the bot's config)."
)

EPHEMERAL_NOTE = "(only visible to you)"
UNKNOWN_VALUE = "—"
