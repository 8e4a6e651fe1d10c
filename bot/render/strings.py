"""Every user-facing string of the ``/backups`` command surface, in one place.

Usage and help text, the grammar's error messages and hints and access refusals come from
:mod:`bot.core.strings` (the core needs them and may not import this package); the reply labels,
error texts and button labels are here. Templates are plain text with ``<placeholders>`` and
backticks; renderers escape them for mrkdwn (so ``<cluster>`` shows as typed) and the CLI prints
them as they are.
"""

from __future__ import annotations

from bot.core.strings import *  # noqa: F403  (one module for renderers to read)
from bot.core.strings import PREFIX

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
