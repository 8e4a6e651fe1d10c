"""The words of the ``/backups`` command surface: usage and help text, the grammar's error
messages and hints, access refusals, errors, and the replies' templates.

Every template is a message id of the string catalog (:mod:`bot.i18n.catalog`), marked with
:func:`~bot.i18n.catalog.N_` here and translated where it is used (``_(LIST_TITLE).format(...)``):
whole sentences with named ``{placeholders}``, filled after translation. Templates are plain text
with ``<metavariables>`` and backticks; renderers escape them for mrkdwn (so ``<cluster>`` shows
as typed) and the CLI prints them as they are. Command names and examples are what people type,
like ``kubectl``'s: they stay as they are in every language.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n.catalog import N_, _, ngettext

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
        N_("list <cluster> [--limit N] [--share]"),
        N_("a cluster's backups, newest first"),
        N_(
            "Shows started and finished times, duration, size, index count, OpenSearch version "
            "and id of each backup, under the cluster's last backup attempt and the trend of its "
            "last 14 backups. `--limit` is 1 to 100 (default 10); a *Next page* button shows "
            "more. A cluster is named by its id or its name."
        ),
        ("list c9qexamplecluster001", "list logs-prod --limit 30", "list logs-prod --share"),
    ),
    CommandHelp(
        "get",
        N_("get <backup-id> [--share]"),
        N_("one backup in full"),
        N_(
            "Shows every size figure (size, incremental, total, free space required), whether a "
            "restore into a cluster of its cluster's shape would fit, its cluster's last backup "
            "attempt, retention policies and backup trend, and the names of up to 100 indices."
        ),
        ("get c9qexamplecluster001:snapshot-20240501",),
    ),
    CommandHelp(
        "folder",
        N_("folder <folder-id> [--share]"),
        N_("backups of every cluster in a folder"),
        N_(
            "Groups the backups by cluster, newest first; very large folders show the newest few "
            "of each cluster."
        ),
        ("folder b1gexamplefolder0001",),
    ),
    CommandHelp(
        "clusters",
        N_("clusters [<folder-id>] [--share]"),
        N_("clusters with their newest backup and whether it is fresh"),
        N_(
            "Without a folder id, shows the folders the bot is configured to watch. Each cluster "
            "is fresh, stale, never backed up, unknown (the backups could not be read), stopped "
            "or unscheduled."
        ),
        ("clusters", "clusters b1gexamplefolder0001"),
    ),
    CommandHelp(
        "status",
        N_("status [<cluster-or-folder-id>] [--share]"),
        N_("the digest view, now"),
        N_(
            "The same view as the daily digest, for everything the bot watches, one folder or one "
            "cluster (one cluster in full: its retention policies, restore readiness and trend)."
        ),
        ("status", "status c9qexamplecluster001"),
    ),
    CommandHelp(
        "snooze",
        N_("snooze <cluster> <duration>"),
        N_("silence a cluster's staleness alert for a while"),
        N_("Durations are a number and a unit: 90m, 4h, 2d, 1w (at most 30d)."),
        ("snooze logs-prod 4h", "snooze c9qexamplecluster001 1d"),
    ),
    CommandHelp(
        "unsnooze",
        N_("unsnooze <cluster>"),
        N_("end a snooze early"),
        N_("Alerts for the cluster resume at the next check."),
        ("unsnooze logs-prod",),
    ),
    CommandHelp(
        "backup",
        N_("backup <cluster>"),
        N_("start a backup now"),
        N_("Asks you to confirm first. May be limited to some people by the bot's access rules."),
        ("backup logs-prod",),
    ),
    CommandHelp(
        "slo",
        N_("slo [<cluster>|<folder-id>|<match>] [--month YYYY-MM] [--share]"),
        N_("how much of the month each cluster was within its maximum age"),
        N_(
            "The share of the observed time within the maximum age (stopped time left out, time "
            "the bot cannot vouch for shown as unknown), the clusters below `slo.target` worst "
            "first with their worst gap, the share per day and the error budget left. A match is "
            "written as the config's: `folder:<id>`, `label:<name>=<value>`, `environment:<ENV>`. "
            "Without `--month`: this month to date."
        ),
        ("slo", "slo label:team=search", "slo logs-prod --month 2026-11"),
    ),
    CommandHelp(
        "history",
        N_("history <cluster> [--days N] [--share]"),
        N_("a cluster's backups, gaps, incidents and changes, in one timeline"),
        N_(
            "Its backups with the gaps between them, its incidents (opened, acknowledged, "
            "snoozed, resolved), the backups started from Slack and the changes of its maximum "
            "age and state, newest first. `--days` is 1 to 400 (default 30)."
        ),
        ("history logs-prod", "history logs-prod --days 90"),
    ),
    CommandHelp(
        "drills",
        N_("drills [<cluster>]"),
        N_("restore drills and their results"),
        N_(
            "Lists the newest restore drills (of one cluster if named): when, whether the backup "
            "restored, and how long it took."
        ),
        ("drills", "drills logs-prod"),
    ),
    CommandHelp(
        "drill",
        N_("drill <cluster>"),
        N_("run a restore drill now"),
        N_(
            "Restores the cluster's backup into a throwaway cluster, checks it comes up healthy, "
            "deletes it and posts the result. It costs money: it asks you to confirm first, "
            "with the most it may cost, and only people the bot's access rules name may run it."
        ),
        ("drill logs-prod",),
    ),
    CommandHelp(
        "silence",
        N_("silence <match> <duration> [<reason>]"),
        N_("page nobody about a set of clusters for a while"),
        N_(
            "A match is written as the config's: `folder:<id>`, `label:<name>=<value>`, "
            "`environment:<ENV>`, or a cluster id or name. Their incidents still open and show "
            "as silenced in the digest and in `status`, but nobody is mentioned and no alert or "
            "reminder is posted. It ends by itself (at most 30d); if an alert is still open "
            "then, its thread says so."
        ),
        (
            "silence folder:b1gexamplefolder0001 6h planned maintenance",
            "silence label:team=search 2d",
            "silence logs-prod 90m",
        ),
    ),
    CommandHelp(
        "silences",
        N_("silences [--share]"),
        N_("the silences that hold now"),
        N_("Each with its id, its match, who set it, until when and why."),
        ("silences",),
    ),
    CommandHelp(
        "unsilence",
        N_("unsilence <id>"),
        N_("end a silence early"),
        N_("Alerts for its clusters resume at the next check."),
        ("unsilence 3",),
    ),
    CommandHelp(
        "help",
        N_("help [<command>]"),
        N_("this help, or the help of one command"),
        "",
        ("help", "help list"),
    ),
)

HELP_BY_NAME = {h.name: h for h in COMMAND_HELP}

HELP_TITLE = N_("Backups bot: what you can ask")
HELP_SHARE_NOTE = N_(
    "Replies are only visible to you; add `--share` to post one to the channel. "
    "Type `{prefix} help <command>` for details."
)
HELP_COMMAND_TITLE = "{prefix} {name}"
HELP_EXAMPLES = N_("Examples")


def usage_line(name: str) -> str:
    """``/backups list <cluster> [--limit N] [--share]``, in the current locale."""
    return f"{PREFIX} {_(HELP_BY_NAME[name].usage)}"


# --- grammar errors -----------------------------------------------------------------------------

HINT_HELP = N_("Type `{prefix} help` to see every command.")
UNKNOWN_COMMAND = N_("I don't know the command `{word}`.")
UNKNOWN_COMMAND_NEAR = N_(
    "Did you mean `{prefix} {near}`? Type `{prefix} help` to see every command."
)
UNKNOWN_TOPIC = N_("There is no help on `{word}`.")
UNKNOWN_TOPIC_NEAR = N_(
    "Did you mean `{prefix} help {near}`? Type `{prefix} help` to see every command."
)
HINT_USAGE = N_("Type `{usage}`, e.g. `{example}`.")
MISSING_ARGUMENT = N_("`{command}` needs a {what}.")
EXTRA_ARGUMENT = N_("`{command}` takes {takes}; I don't know what to do with `{extra}`.")
TAKES_NOTHING = N_("no arguments")
TAKES_ONE = N_("one {what}")
TAKES_AT_MOST_ONE = N_("at most one {what}")
UNKNOWN_FLAG = N_("`{command}` has no flag `{flag}`.")
UNKNOWN_FLAG_NEAR = N_("Did you mean `{near}`?")
FLAG_NOT_FOR_COMMAND = N_("`{command}` does not take `{flag}`.")
FLAG_NEEDS_VALUE = N_("`{flag}` needs a value.")
FLAG_TAKES_NO_VALUE = N_("`{flag}` takes no value; I got `{given}`.")
BAD_LIMIT = N_("`--limit` must be a whole number from {low} to {high}; I got `{value}`.")
HINT_LIMIT = N_("e.g. `{prefix} list <cluster> --limit 20`.")
PAGE_TOKEN_TOO_LONG = N_("The page token is {length} characters long; at most {max}.")
HINT_PAGE_TOKEN = N_("Use the *Next page* button, or `{prefix} list <cluster>` to start over.")
ID_EMPTY = N_("The {what} is empty.")
ID_TOO_LONG = N_("The {what} is {length} characters long; at most {max}.")
ID_BAD_CHARACTERS = N_("The {what} `{value}` has characters an id cannot have: {bad}.")
ID_PLACEHOLDER = N_("`{value}` is a placeholder; type a {what} in its place.")
CHAR_SPACE = N_("a space")
CHAR_INVISIBLE = N_("an invisible {code}")
HINT_ID = N_("Ids are letters, digits, `-` and `_`; find them with `{prefix} clusters`.")
HINT_BACKUP_ID = N_(
    "Backup ids are letters, digits, `-`, `_`, `.` and `:`; "
    "find them with `{prefix} list <cluster>`."
)
BAD_DURATION = N_("`{value}` is not a duration.")
HINT_DURATION = N_("Write a number and a unit (m, h, d, w), e.g. `{prefix} snooze <cluster> 4h`.")
DURATION_TOO_LONG = N_("A snooze lasts at most {max}; I got `{value}`.")
HINT_DURATION_TOO_LONG = N_(
    "Snooze for {max} or less, e.g. `{prefix} snooze <cluster> 1d`; check the backups instead "
    "if it stays stale."
)
SILENCE_TOO_LONG = N_("A silence lasts at most {max}; I got `{value}`.")
HINT_SILENCE_TOO_LONG = N_(
    "Silence for {max} or less, e.g. `{prefix} silence folder:<id> 7d`, and set another when it "
    "ends if you must."
)

#: What each positional argument is called in messages.
WHAT_CLUSTER = N_("cluster id or name")
WHAT_CLUSTER_ID = N_("cluster id")
WHAT_BACKUP = N_("backup id")
WHAT_FOLDER = N_("folder id")
WHAT_TARGET = N_("cluster or folder id")
WHAT_SCOPE = N_("cluster, folder id or match")
HINT_MONTH = N_("Write the month as YYYY-MM, e.g. `{prefix} slo --month 2026-11`.")
BAD_MONTH = N_("`{value}` is not a month.")
HINT_DAYS = N_(
    "Write a number of days from 1 to {high}, e.g. `{prefix} history logs-prod --days 30`."
)
BAD_SCOPE = N_(
    "`{value}` is not a cluster, a folder id or a match "
    "(`folder:<id>`, `label:<name>=<value>`, `environment:<ENV>`)."
)
WHAT_DURATION = N_("duration")
WHAT_MATCH = N_("match or cluster")
WHAT_SILENCE = N_("silence id")
BAD_SILENCE_ID = N_("`{value}` is not a silence id.")
HINT_SILENCE_ID = N_("Type `{prefix} silences` to see the silences and their ids.")
HINT_SILENCE_DURATION = N_(
    "Write the match, then how long, then why, e.g. "
    "`{prefix} silence folder:<id> 6h planned maintenance`."
)
REASON_TOO_LONG = N_("A reason is at most {max} characters; yours is {length}.")
WHAT_TOPIC = N_("command name")


def capitalized(text: str) -> str:
    """``text`` with a capital first letter (templates are written to fit mid-sentence too)."""
    return text[:1].upper() + text[1:]


# --- access -------------------------------------------------------------------------------------

ACCESS_ONLY_WHO = N_("Only {who} may run `{command}`.")
ACCESS_ONLY_WHO_WHERE = N_("Only {who}, in {where}, may run `{command}`.")
ACCESS_ONLY_WHERE = N_("`{command}` may only be run in {where}.")
ACCESS_NOBODY = N_(
    "Nobody may run `{command}` in this workspace; the bot's access rules disable it."
)
ACCESS_UNCONFIGURED = N_(
    "`{command}` starts work on a cluster, so it is only for people the bot's config names, and "
    "it names nobody yet: add a rule with `commands: [{command}]` and the users or user groups "
    "under access.rules."
)
ACCESS_HINT = N_("Ask whoever runs the bot if you need it (access.rules in its config).")
ACCESS_USER = "@{id}"
ACCESS_GROUP = N_("members of {group}")
ACCESS_CHANNEL = "#{id}"
#: The last of a few choices: "a, b or c".
ONE_OF = N_("{some} or {last}")


def join_words(items: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    if len(items) <= 1:
        return "".join(items)
    return _(ONE_OF).format(some=", ".join(items[:-1]), last=items[-1])


# --- errors shown for failures ------------------------------------------------------------------

ERROR_ICON_USAGE = ":warning:"
ERROR_ICON_DENIED = ":no_entry:"
ERROR_ICON_CLOUD = ":cloud:"
ERROR_ICON_BUG = ":boom:"
NOT_FOUND = N_("I can't find {subject}.")
NOT_FOUND_CLOUD_SAYS = N_("I can't find {subject} (the cloud says: {cloud}).")
NOT_FOUND_SUBJECT = N_("that")
NOT_FOUND_HINT = N_(
    "Check the id with `{prefix} clusters`; the bot only shows the folders it is configured for."
)
PERMISSION_DENIED = N_("The bot's service account may not read this (the cloud says: {cloud}).")
PERMISSION_DENIED_HINT = N_(
    "Ask an admin to grant the service account the `managed-opensearch.viewer` role on the "
    "folder (and `managed-opensearch.editor` to start backups)."
)
UNAUTHENTICATED = N_("I can't sign in to Yandex Cloud right now.")
UNAUTHENTICATED_HINT = N_("An admin should check the bot's credentials with `backups-bot check`.")
CLOUD_TIMEOUT = N_("The cloud did not answer in time.")
CLOUD_UNREACHABLE = N_("I can't reach the cloud right now.")
CLOUD_RATE_LIMITED = N_("The cloud is asking me to slow down.")
CLOUD_SERVER_ERROR = N_("The cloud had an error (HTTP {status}).")
CLOUD_BAD_REQUEST = N_("The cloud refused the request (the cloud says: {cloud}).")
CLOUD_OTHER = N_("The cloud answered with an error (HTTP {status}; the cloud says: {cloud}).")
CLOUD_MALFORMED = N_("The cloud sent an answer I don't understand.")
TRY_AGAIN = N_("Try again in a minute.")
CONFIG_ERROR = N_("The bot's configuration is wrong: {detail}")
CONFIG_HINT = N_("An admin should run `backups-bot check`.")
SLACK_ERROR = N_("Slack refused my message: {detail}")
STORE_UNAVAILABLE = N_("My database is not answering right now, so nothing was changed.")
STORE_HINT = N_("Try again in a minute; if it keeps failing, tell whoever runs the bot.")
UNEXPECTED = N_("Something went wrong on my side (error id `{id}`).")
UNEXPECTED_NO_ID = N_("Something went wrong on my side.")
UNEXPECTED_HINT = N_("It is logged; try again, and mention the error id if you report it.")
REQUEST_ID = N_("cloud request id `{id}`")

# --- replies ------------------------------------------------------------------------------------

LIST_TITLE = N_("*Backups of {cluster}* · newest first")
LIST_EMPTY = N_("*{cluster}* has no backups yet.")
LIST_FOOTER = N_("{shown} shown · `{prefix} get <backup-id>` shows one in full")
LIST_RANGE = N_("{first}–{last} of {total}")
LIST_NO_MORE = N_("No more backups of *{cluster}* after the last page.")
LIST_POSITION_TOO_LONG = N_("More backups exist, but the last one's id is too long for a button.")
LIST_OLD_BUTTON = N_(
    "This Next page button came from an older version of the bot, "
    "so the list starts again from the newest backup."
)
LIST_BAD_POSITION = N_("This page token is not a place in a list the bot made.")
LIST_FALLBACK = N_("Backups of {cluster}: {shown}, newest {newest}.")
LIST_FALLBACK_EMPTY = N_("{cluster} has no backups yet.")
LIST_ROW_HEAD = N_("*{started}* · took {took} · {size} · {indices} · OpenSearch {version}")
LIST_ROW_TAIL = N_("`{id}` · finished {finished} ({age})")
BUTTON_NEXT_PAGE = N_("Next page")

BACKUP_TITLE = N_("*Backup* `{id}`")
BACKUP_OF = N_("of cluster `{cluster}` in folder `{folder}`")
BACKUP_FIELD_STARTED = N_("Started")
BACKUP_FIELD_FINISHED = N_("Finished")
BACKUP_FIELD_DURATION = N_("Duration")
BACKUP_FIELD_VERSION = N_("OpenSearch")
BACKUP_FIELD_SIZE = N_("Size")
BACKUP_FIELD_INCREMENTAL = N_("Incremental size")
BACKUP_FIELD_TOTAL = N_("Total size")
BACKUP_FIELD_FREE_SPACE = N_("Free space required")
BACKUP_FIELD_INDICES = N_("Indices")
BACKUP_INDICES_TITLE = N_("*Indices* ({count})")
BACKUP_INDICES_PARTIAL = N_("*Indices* ({shown} of {total}; the cloud lists at most 100)")
BACKUP_INDICES_NONE = N_("The cloud lists no index names for this backup.")
BACKUP_FALLBACK = N_("Backup {id} of {cluster}: finished {finished}, {size}, {indices}.")

FOLDER_TITLE = N_("*Backups in folder* `{folder}` · newest first")
FOLDER_EMPTY = N_("No backups in folder `{folder}`.")
FOLDER_CLUSTER = N_("*{cluster}* · {count}")
FOLDER_CLUSTER_EMPTY = N_("*{cluster}* · no backups")
FOLDER_ROW = N_("{finished} · {size} · {indices} · `{id}`")
FOLDER_TRUNCATED = N_(
    "The folder has more than {limit} backups: I read the first {limit} the cloud listed, in no "
    "particular order, so a newer one may be missing here; `{prefix} list <cluster>` reads one "
    "cluster in full."
)
FOLDER_FALLBACK = N_("Backups in folder {folder}: {clusters}, {backups}.")

CLUSTERS_TITLE = N_("*Clusters in {folder}*")
CLUSTERS_EMPTY = N_("No clusters in {folder}.")
CLUSTERS_ROW = N_("{icon} *{name}* `{id}` · {state}{detail}")
CLUSTERS_ROW_NEWEST = N_("newest {when} ({age}, max {max_age})")
VIEW_ROWS = N_("rows {first}–{last} of {total}")
VIEW_FROM_ROW = N_("from row {n}")
VIEW_FLEET_CHANGED = N_(
    "No more clusters after row {n}: the fleet changed since the first page. "
    "Run `{prefix} {command}` again."
)
CLUSTERS_FALLBACK = N_("Clusters in {folder}: {counts}.")

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
    "fresh": N_("fresh"),
    "stale": N_("stale"),
    "never": N_("never backed up"),
    "unknown": N_("unknown"),
    "stopped": N_("stopped"),
    "unscheduled": N_("no schedule"),
}

BACKUP_CONFIRM = N_("Start a backup of *{cluster}* (`{id}`) now?")
BACKUP_CONFIRM_FALLBACK = N_("Start a backup of {cluster} now?")
BUTTON_CONFIRM_BACKUP = N_("Start backup")
BUTTON_CANCEL = N_("Cancel")

SNOOZED = N_("Snoozed alerts for `{cluster}` until {until}.")
UNSNOOZED = N_("Alerts for `{cluster}` are back on.")
BACKUP_STARTED = N_("Started a backup of `{cluster}` (operation `{operation}`).")
BACKUP_ALREADY_STARTED = N_(
    "A backup of `{cluster}` was started {ago} ago (operation `{operation}`), so I did not start "
    "another: one backup per cluster every {every}. Ask again after {after} if you need one."
)

# --- limits on what one person or channel can make the bot do --------------------------------

SLOW_DOWN = N_("Slow down, try again in {seconds} s.")
SLOW_DOWN_USER_HINT = N_(
    "Commands that reach the cloud are limited to {limit} a minute for each person "
    "(limits.user_per_minute in the bot's config)."
)
SLOW_DOWN_CHANNEL_HINT = N_(
    "Commands that reach the cloud are limited to {limit} a minute for each channel "
    "(limits.channel_per_minute in the bot's config)."
)

EPHEMERAL_NOTE = N_("(only visible to you)")
UNKNOWN_VALUE = "—"


# --- counts: the form for ``n``, in the current locale (Russian has three) ----------------------
# Where today's English says the same for one as for many, both forms are that English, so that
# English reads exactly as it did; a translation still gets every form its language needs.


def count_backups(n: int) -> str:
    """``1 backup``, ``1,234 backups``."""
    return ngettext("{n} backup", "{n} backups", n).format(n=f"{n:,}")


def count_indices(n: int) -> str:
    """``1 index``, ``42 indices``."""
    return ngettext("{n} index", "{n} indices", n).format(n=f"{n:,}")


def count_clusters(n: int) -> str:
    """``1 cluster``, ``12 clusters``."""
    return ngettext("{n} cluster", "{n} clusters", n).format(n=f"{n:,}")


def and_more(n: int) -> str:
    """The template ``{n} more``, for a list cut short."""
    return ngettext("{n} more", "{n} more", n)


def list_not_shown(n: int) -> str:
    """The template for rows of a ``list`` page that did not fit."""
    return ngettext(
        "{n} more on this page did not fit; *Next page* starts with them",
        "{n} more on this page did not fit; *Next page* starts with them",
        n,
    )


def list_skipped(n: int) -> str:
    """The template for backups the cloud sent that could not be read."""
    return ngettext(
        "{n} sent by the cloud could not be read and are not listed",
        "{n} sent by the cloud could not be read and are not listed",
        n,
    )


def indices_not_shown(n: int) -> str:
    """The template for index names of ``get`` that did not fit."""
    return ngettext(
        "{n} more index names did not fit in one message.",
        "{n} more index names did not fit in one message.",
        n,
    )


def folder_more_rows(n: int) -> str:
    """The template for a cluster's older backups ``folder`` leaves out."""
    return ngettext("_and {n} older_", "_and {n} older_", n)


def folder_more_clusters(n: int) -> str:
    """The template for clusters of ``folder`` that did not fit."""
    return ngettext(
        "{n} more clusters did not fit; use `{prefix} list <cluster>` for each.",
        "{n} more clusters did not fit; use `{prefix} list <cluster>` for each.",
        n,
    )


def view_more(n: int) -> str:
    """The template for the rows a Next page button leads to."""
    return ngettext("{n} more: *{button}*", "{n} more: *{button}*", n)


def clusters_summary(total: int) -> str:
    """The template heading the counts of ``clusters``."""
    return ngettext("{total} clusters: {counts}", "{total} clusters: {counts}", total)
