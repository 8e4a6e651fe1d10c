"""One ``/backups`` command (or one button click) in, one reply out.

The dispatcher is what Slack's handlers and ``backups-bot exec`` share: it parses the text with
the grammar, checks the access rules, runs ``list``/``get``/``folder`` against the cloud itself,
hands the watcher's commands to the :class:`WatchLike` service, and turns every failure into a
message through :func:`~bot.commands.messages.render_error`. It never raises: a typed error is
answered with what went wrong and what to do; anything else with a short id that is also logged
with its traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.alerts.group_messages import (
    ACTION_GROUP_ACK,
    ACTION_GROUP_SNOOZE_4H,
    ACTION_GROUP_SNOOZE_24H,
)
from bot.alerts.messages import (
    ACTION_ACK,
    ACTION_BACKUP,
    ACTION_LIST,
    ACTION_SNOOZE_4H,
    ACTION_SNOOZE_24H,
)
from bot.chat.card import Card, Chat
from bot.cloud.models import (
    Backup,
    BackupPage,
    Cluster,
    ListPosition,
    OperationPage,
    PolicyPage,
    VersionPage,
    newest_first,
)
from bot.cloud.validation import MAX_PAGE_TOKEN_LENGTH
from bot.commands import messages as rc
from bot.commands import strings
from bot.commands.access import authorize, folder_allowed
from bot.commands.grammar import (
    DEFAULT_LIMIT,
    MAX_ID_LENGTH,
    MAX_LIMIT,
    MIN_LIMIT,
    BackupCmd,
    ClustersCmd,
    Command,
    FolderCmd,
    GetCmd,
    HelpCmd,
    ListCmd,
    SnoozeCmd,
    StatusCmd,
    UnsnoozeCmd,
    parse_command,
)
from bot.commands.ratelimit import CommandLimiter, SlowDown
from bot.config import BotConfig
from bot.errors import AccessDenied, BotError, InvalidArgument, NotFound, UsageError
from bot.fleet.lookup import ClusterCache, looks_like_id, resolve_cluster
from bot.freshness.attempts import AttemptHistory, backup_attempts
from bot.freshness.explain import Explanation, explain, trend_of
from bot.freshness.policy import newest_backup, schedule_for
from bot.freshness.restore import restore_readiness
from bot.i18n.catalog import N_, _
from bot.ops.logging import new_request_id, request_id_var
from bot.slack.blocks import SLACK

if TYPE_CHECKING:
    from bot.cloud.client import CloudClient
    from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

NEXT_PAGE_ACTION = rc.NEXT_PAGE_ACTION
STATUS_NEXT_PAGE_ACTION = rc.STATUS_NEXT_PAGE_ACTION
CLUSTERS_NEXT_PAGE_ACTION = rc.CLUSTERS_NEXT_PAGE_ACTION
BACKUP_CONFIRM_ACTION = rc.BACKUP_CONFIRM_ACTION
BACKUP_CANCEL_ACTION = rc.BACKUP_CANCEL_ACTION

#: Every button action id the dispatcher answers; handlers/ listens for exactly these.
ACTION_IDS: tuple[str, ...] = (
    NEXT_PAGE_ACTION,
    STATUS_NEXT_PAGE_ACTION,
    CLUSTERS_NEXT_PAGE_ACTION,
    BACKUP_CONFIRM_ACTION,
    BACKUP_CANCEL_ACTION,
    ACTION_ACK,
    ACTION_SNOOZE_4H,
    ACTION_SNOOZE_24H,
    ACTION_LIST,
    ACTION_BACKUP,
    ACTION_GROUP_ACK,
    ACTION_GROUP_SNOOZE_4H,
    ACTION_GROUP_SNOOZE_24H,
)

#: How many backups ``folder`` reads before it stops and says the folder has more.
FOLDER_READ_LIMIT = 2000
#: Longest button value the dispatcher will even try to decode (Slack's limit is 2000).
_MAX_VALUE = 2000
_MAX_ROUTE_KEY = 200
#: The furthest row a status or clusters Next page button may start at.
_MAX_PAGE_OFFSET = 1_000_000

_SNOOZE_OF_ACTION = {
    ACTION_SNOOZE_4H: timedelta(hours=4),
    ACTION_SNOOZE_24H: timedelta(hours=24),
    ACTION_GROUP_SNOOZE_4H: timedelta(hours=4),
    ACTION_GROUP_SNOOZE_24H: timedelta(hours=24),
}
_GROUP_ACTIONS = frozenset({ACTION_GROUP_ACK, ACTION_GROUP_SNOOZE_4H, ACTION_GROUP_SNOOZE_24H})
#: The access rule a button click is checked against, by action id.
_COMMAND_OF_ACTION = {
    NEXT_PAGE_ACTION: "list",
    STATUS_NEXT_PAGE_ACTION: "status",
    CLUSTERS_NEXT_PAGE_ACTION: "clusters",
    ACTION_LIST: "list",
    ACTION_ACK: "snooze",  # acknowledging silences reminders, as a snooze does
    ACTION_SNOOZE_4H: "snooze",
    ACTION_SNOOZE_24H: "snooze",
    ACTION_BACKUP: "backup",
    ACTION_GROUP_ACK: "snooze",
    ACTION_GROUP_SNOOZE_4H: "snooze",
    ACTION_GROUP_SNOOZE_24H: "snooze",
    BACKUP_CONFIRM_ACTION: "backup",
    BACKUP_CANCEL_ACTION: "backup",
}

WATCH_COMMANDS = ("clusters", "status", "snooze", "unsnooze", "backup")
#: Commands and buttons that do not reach the cloud, so no rate limit counts them.
_OFFLINE_COMMANDS = frozenset({"help"})
_OFFLINE_ACTIONS = frozenset({BACKUP_CANCEL_ACTION})

WATCHER_OFF = N_(
    "`{command}` needs the bot's watcher, which is not running here. "
    "Ask in the channel where the bot is deployed, or run `backups-bot serve` with a config."
)
BAD_BUTTON = N_("This button's value is not one the bot made, so I ignored it.")
BAD_BUTTON_HINT = N_("Run the command again, e.g. `/backups list <cluster>`.")
UNKNOWN_BUTTON = N_("I don't know the button `{action}`.")
BACKUP_CANCELLED = N_("Backup not started.")


class WatchLike(Protocol):
    """The watcher's side of the commands (bot.alerts.service.WatchService provides it)."""

    async def clusters_view(
        self, folder_id: str | None, *, now: datetime, offset: int = 0
    ) -> Card: ...

    async def status_view(self, target: str | None, *, now: datetime, offset: int = 0) -> Card: ...

    async def snooze(
        self, cluster_ref: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card: ...

    async def unsnooze(self, cluster_ref: str, *, user: str, now: datetime) -> Card: ...

    async def acknowledge(
        self, cluster_id: str, route_key: str, *, user: str, now: datetime
    ) -> Card: ...

    async def snooze_alert(
        self, cluster_id: str, route_key: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card: ...

    async def start_backup(
        self,
        cluster_ref: str,
        *,
        user: str,
        channel: str,
        thread_ts: str | None,
        now: datetime,
    ) -> Card: ...

    async def acknowledge_group(self, group_id: str, *, user: str, now: datetime) -> Card: ...

    async def snooze_group(
        self, group_id: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card: ...


class WatcherUnavailable(BotError):
    """A watcher command was asked of a process that runs no watcher."""


class TooFast(UsageError):
    """A person or a channel went over the rate limit; answered, not queued."""

    def __init__(self, slow: SlowDown) -> None:
        per = (
            strings.SLOW_DOWN_USER_HINT if slow.scope == "user" else strings.SLOW_DOWN_CHANNEL_HINT
        )
        hint = _(per)
        super().__init__(
            _(strings.SLOW_DOWN).format(seconds=slow.retry_after),
            hint=hint.format(limit=slow.limit),
        )
        self.slow = slow


class BadButtonValue(UsageError):
    """A button's value is not one the bot rendered (edited, forged, or from an old version)."""

    def __init__(self) -> None:
        super().__init__(_(BAD_BUTTON), hint=_(BAD_BUTTON_HINT))


@dataclass(frozen=True)
class Invocation:
    """Who asked, and where. ``message_ts`` is the clicked message's, for button actions."""

    user_id: str
    channel_id: str
    user_groups: frozenset[str] = frozenset()
    message_ts: str | None = None


@dataclass(frozen=True)
class Reply:
    """What to answer: messages in order, to the asker only (``ephemeral``) or to the channel.

    ``replace_original`` asks a button's reply to replace the message that carried the button.
    """

    messages: list[Card]
    ephemeral: bool = True
    ok: bool = True
    usage_error: bool = False
    replace_original: bool = False
    correlation_id: str | None = None


@dataclass
class _Outcome:
    messages: list[Card]
    ephemeral: bool = True
    replace_original: bool = False


class Dispatcher:
    """Runs commands and button actions against the cloud and the watcher; never raises."""

    def __init__(
        self,
        cloud: CloudClient,
        config: BotConfig,
        *,
        watch: WatchLike | None = None,
        metrics: Metrics | None = None,
        limiter: CommandLimiter | None = None,
        chat: Chat = SLACK,
    ) -> None:
        self.cloud = cloud
        #: Whose limits the replies are packed within (handlers render them for Slack).
        self.chat = chat
        self.config = config
        self.watch = watch
        self.metrics = metrics
        self.clusters = ClusterCache()
        #: Per-user and per-channel limits of this process (config ``limits``).
        self.limiter = limiter or CommandLimiter(
            user_per_minute=config.limits.user_per_minute,
            channel_per_minute=config.limits.channel_per_minute,
        )

    # --- what handlers need to know ------------------------------------------------------------

    def candidate_groups(self) -> frozenset[str]:
        """User groups named by access rules: the only ones worth asking Slack about."""
        return frozenset(g for rule in self.config.access.rules for g in rule.usergroups)

    # --- commands ------------------------------------------------------------------------------

    async def run(self, text: str, inv: Invocation, *, now: datetime) -> Reply:
        """Run the command ``text`` (what follows ``/backups``) for ``inv``; always a reply."""
        name = "unknown"
        subject: str | None = None
        try:
            command = parse_command(text)
            name = command.name
            subject = _subject_of(command)
            self._authorize(name, inv)
            if name not in _OFFLINE_COMMANDS:
                self._limit(inv, now)
            outcome = await self._execute(command, inv, now=now)
        except Exception as exc:  # the dispatcher answers everything; cancellation passes
            return self._failure(exc, name, inv, subject=subject)
        self._count(name, "ok")
        return Reply(
            outcome.messages,
            ephemeral=outcome.ephemeral,
            replace_original=outcome.replace_original,
        )

    async def _execute(self, command: Command, inv: Invocation, *, now: datetime) -> _Outcome:
        if isinstance(command, HelpCmd):
            return _Outcome([rc.render_help(command.topic)])
        if isinstance(command, ListCmd):
            after = _typed_position(command.page_token)
            message = await self._list(command.cluster, command.limit, after, now=now)
            return _Outcome([message], ephemeral=not command.share)
        if isinstance(command, GetCmd):
            return _Outcome([await self._get(command.backup_id, now=now)], not command.share)
        if isinstance(command, FolderCmd):
            return _Outcome([await self._folder(command.folder_id, now=now)], not command.share)
        watch = self._watch(command.name)
        if isinstance(command, ClustersCmd):
            message = await watch.clusters_view(command.folder_id, now=now)
            return _Outcome([message], ephemeral=not command.share)
        if isinstance(command, StatusCmd):
            message = await watch.status_view(command.target, now=now)
            return _Outcome([message], ephemeral=not command.share)
        if isinstance(command, SnoozeCmd):
            message = await watch.snooze(
                command.cluster, command.duration, user=inv.user_id, now=now
            )
            return _Outcome([message])
        if isinstance(command, UnsnoozeCmd):
            return _Outcome([await watch.unsnooze(command.cluster, user=inv.user_id, now=now)])
        assert isinstance(command, BackupCmd)
        cluster = await self._resolve(command.cluster)
        return _Outcome([rc.render_backup_confirm(cluster.display_name, cluster.id)])

    # --- buttons -------------------------------------------------------------------------------

    async def run_action(
        self, action_id: str, value: str, inv: Invocation, *, now: datetime
    ) -> Reply:
        """Answer a button click; a value the bot did not render is refused with a message."""
        name = f"button:{action_id}" if action_id in ACTION_IDS else "button:unknown"
        try:
            outcome = await self._action(action_id, value, inv, now=now)
        except Exception as exc:  # the dispatcher answers everything; cancellation passes
            return self._failure(exc, name, inv, subject=None)
        self._count(name, "ok")
        return Reply(
            outcome.messages,
            ephemeral=outcome.ephemeral,
            replace_original=outcome.replace_original,
        )

    async def _action(
        self, action_id: str, value: str, inv: Invocation, *, now: datetime
    ) -> _Outcome:
        command = _COMMAND_OF_ACTION.get(action_id)
        if command is None:
            raise UsageError(_(UNKNOWN_BUTTON).format(action=action_id[:100]))
        self._authorize(command, inv)
        if action_id not in _OFFLINE_ACTIONS:
            self._limit(inv, now)
        if action_id == NEXT_PAGE_ACTION:
            cluster_id, after, limit = _decode_next_page(value)
            # A button posted by an older version carries the cloud's page token, which meant a
            # page of the cloud's (undefined) order: start again from the newest, and say so.
            notice = _(strings.LIST_OLD_BUTTON) if after is None else None
            message = await self._list(cluster_id, limit, after, now=now, notice=notice)
            return _Outcome([message])
        if action_id in (STATUS_NEXT_PAGE_ACTION, CLUSTERS_NEXT_PAGE_ACTION):
            target, offset = _decode_view_page(value)
            watch = self._watch(command)
            if action_id == STATUS_NEXT_PAGE_ACTION:
                return _Outcome([await watch.status_view(target, now=now, offset=offset)])
            return _Outcome([await watch.clusters_view(target, now=now, offset=offset)])
        if action_id == BACKUP_CANCEL_ACTION:
            return _Outcome([rc.render_ack(_(BACKUP_CANCELLED))], replace_original=True)
        if action_id == BACKUP_CONFIRM_ACTION:
            cluster_id = _check_cluster_id(value)
            watch = self._watch("backup")
            cluster = await self._resolve(cluster_id)
            message = await watch.start_backup(
                cluster.id, user=inv.user_id, channel=inv.channel_id, thread_ts=None, now=now
            )
            return _Outcome([message], replace_original=True)
        if action_id in _GROUP_ACTIONS:
            group_id = _decode_group(value)
            watch = self._watch(command)
            if action_id == ACTION_GROUP_ACK:
                return _Outcome(
                    [await watch.acknowledge_group(group_id, user=inv.user_id, now=now)]
                )
            duration = _SNOOZE_OF_ACTION[action_id]
            message = await watch.snooze_group(group_id, duration, user=inv.user_id, now=now)
            return _Outcome([message])
        cluster_id, route_key = _decode_alert(value)
        if action_id == ACTION_LIST:
            return _Outcome([await self._list(cluster_id, DEFAULT_LIMIT, None, now=now)])
        watch = self._watch(command)
        if action_id == ACTION_ACK:
            message = await watch.acknowledge(cluster_id, route_key, user=inv.user_id, now=now)
        elif action_id == ACTION_BACKUP:
            message = await watch.start_backup(
                cluster_id,
                user=inv.user_id,
                channel=inv.channel_id,
                thread_ts=inv.message_ts,
                now=now,
            )
        else:
            message = await watch.snooze_alert(
                cluster_id, route_key, _SNOOZE_OF_ACTION[action_id], user=inv.user_id, now=now
            )
        return _Outcome([message])

    # --- the commands the dispatcher runs itself -----------------------------------------------

    async def _resolve(self, ref: str) -> Cluster:
        cluster = await resolve_cluster(
            self.cloud,
            ref,
            folders=self.config.search_folders(),
            allowed_folders=self.config.visible_folders(),
            cache=self.clusters,
        )
        return cluster

    async def _list(
        self,
        ref: str,
        limit: int,
        after: ListPosition | None,
        *,
        now: datetime,
        notice: str | None = None,
    ) -> Card:
        """A page of ``limit`` of the cluster's backups, newest first, after ``after``.

        Every page of the cloud's listing is read (the API promises no order, so the newest
        could be on any page), sorted, and paged here: the Next page button carries the place
        of the last row shown, which stays right after a restart and when a backup lands.
        """
        listing: BackupPage | None = None
        operations: OperationPage | BaseException | None = None
        if looks_like_id(ref):
            # Ask for the cluster, its backups and its operations at once: one round trip
            # instead of two. They are only shown if the cluster is one the bot may show.
            found, fetched, ops = await asyncio.gather(
                self._resolve(ref),
                self.cloud.all_cluster_backups(ref),
                self.cloud.all_cluster_operations(ref),
                return_exceptions=True,
            )
            if isinstance(found, BaseException):
                raise found
            cluster = found
            if cluster.id == ref and isinstance(fetched, BackupPage):
                listing = fetched
                operations = ops
        else:
            cluster = await self._resolve(ref)
        if listing is None:
            fetched, operations = await asyncio.gather(
                self.cloud.all_cluster_backups(cluster.id),
                self.cloud.all_cluster_operations(cluster.id),
                return_exceptions=True,
            )
            if isinstance(fetched, BaseException):
                raise fetched
            listing = fetched
        ordered = newest_first(listing.backups)
        attempts, operations_error = _attempts_of(operations)
        about = explain(
            cluster,
            newest=newest_backup(listing.backups),
            now=now,
            trend=trend_of(listing.backups),
            attempts=attempts,
            operations_error=operations_error,
        )
        start = 0 if after is None else after.after(ordered)
        return rc.render_backup_list(
            cluster.display_name,
            ordered[start : start + limit],
            now=now,
            cluster_id=cluster.id,
            limit=limit,
            more=start + limit < len(ordered),
            first=start + 1,
            total=len(ordered),
            skipped=len(listing.skipped),
            notice=notice,
            explanation=about,
            limits=self.chat.limits,
        )

    async def _get(self, backup_id: str, *, now: datetime) -> Card:
        backup = await self.cloud.get_backup(backup_id)
        if not folder_allowed(backup.folder_id, self.config.visible_folders()):
            log.info(
                "backup %s is in folder %s, outside access.folders", backup_id, backup.folder_id
            )
            raise NotFound(
                404,
                _("backup {id} does not exist or is not in a folder the bot shows").format(
                    id=backup_id
                ),
            )
        explanation, missing = await self._backup_details(backup, now=now)
        return rc.render_backup(
            backup, now=now, explanation=explanation, missing=missing, limits=self.chat.limits
        )

    async def _backup_details(
        self, backup: Backup, *, now: datetime
    ) -> tuple[Explanation | None, list[str]]:
        """What ``get`` says beyond the backup: whether it would restore, its cluster's state,
        last backup attempt and retention policies, and the trend of its backups. Read at once;
        what cannot be read is said in a line (the backup is still shown)."""
        cluster_id = backup.source_cluster_id
        if not cluster_id:
            return None, []
        cluster, listing, operations, policies, versions = await asyncio.gather(
            self.cloud.get_cluster(cluster_id),
            self.cloud.all_cluster_backups(cluster_id),
            self.cloud.all_cluster_operations(cluster_id),
            self.cloud.all_retention_policies(cluster_id),
            self.cloud.all_versions(),
            return_exceptions=True,
        )
        missing: list[str] = []
        unread = (
            (N_("Its cluster could not be read: {reason}"), cluster),
            (N_("The cluster's backups could not be read: {reason}"), listing),
        )
        for template, got in unread:
            if isinstance(got, BaseException):
                missing.append(_(template).format(reason=_failure(got)))
        known = cluster if isinstance(cluster, Cluster) else Cluster(id=cluster_id)
        backups = listing.backups if isinstance(listing, BackupPage) else ()
        policy_list = policies.policies if isinstance(policies, PolicyPage) else None
        version_list = versions.versions if isinstance(versions, VersionPage) else None
        attempts, operations_error = _attempts_of(operations)
        explanation = explain(
            known,
            newest=newest_backup(backups),
            now=now,
            schedule=schedule_for(known, policy_list or ()),
            policies=policy_list,
            policies_offered=None if isinstance(policies, BaseException) else policies is not None,
            policies_error=_failure(policies) if isinstance(policies, BaseException) else "",
            versions=version_list,
            trend=trend_of(backups),
            attempts=attempts,
            operations_error=operations_error,
        )
        restore = restore_readiness(known, backup, version_list) if known is cluster else None
        return replace(explanation, restore=restore), missing

    async def _folder(self, folder_id: str, *, now: datetime) -> Card:
        if not folder_allowed(folder_id, self.config.visible_folders()):
            log.info("folder %s is outside access.folders", folder_id)
            raise NotFound(404, "")
        backups: list[Backup] = []
        truncated = False
        async for backup in self.cloud.list_folder_backups(folder_id):
            if len(backups) >= FOLDER_READ_LIMIT:
                truncated = True
                break
            backups.append(backup)
        names = await self._cluster_names(folder_id)
        by_cluster: dict[str, list[Backup]] = defaultdict(list)
        for backup in backups:
            by_cluster[backup.source_cluster_id].append(backup)
        for cluster_id in names:
            by_cluster.setdefault(cluster_id, [])
        groups = sorted(by_cluster.items(), key=_newest_key, reverse=True)
        labelled = [(_label(cid, names.get(cid, "")), group) for cid, group in groups]
        return rc.render_folder_backups(
            folder_id, labelled, now=now, truncated=truncated, limits=self.chat.limits
        )

    async def _cluster_names(self, folder_id: str) -> dict[str, str]:
        # Names make the grouping readable; without them the ids still do, so a failure here
        # (say, a role that can list backups but not clusters) is not worth failing the reply.
        try:
            return {c.id: c.name async for c in self.cloud.list_clusters(folder_id)}
        except BotError as exc:
            log.warning("cannot list clusters of folder %s for names: %s", folder_id, exc)
            return {}

    # --- plumbing ------------------------------------------------------------------------------

    def _watch(self, command: str) -> WatchLike:
        if self.watch is None:
            raise WatcherUnavailable(_(WATCHER_OFF).format(command=command))
        return self.watch

    def _authorize(self, command: str, inv: Invocation) -> None:
        try:
            authorize(
                command,
                user_id=inv.user_id,
                channel_id=inv.channel_id,
                user_groups=inv.user_groups,
                access=self.config.access,
            )
        except AccessDenied as exc:
            log.warning(
                "access denied: user %s in channel %s may not run %s: %s",
                inv.user_id,
                inv.channel_id,
                command,
                exc,
                extra={"user_id": inv.user_id, "channel_id": inv.channel_id, "command": command},
            )
            raise

    def _limit(self, inv: Invocation, now: datetime) -> None:
        """Count a command that reaches the cloud; over a limit, refuse it (raise TooFast)."""
        slow = self.limiter.admit(inv.user_id, inv.channel_id, now)
        if slow is not None:
            log.info(
                "slowed down user %s in channel %s: over %d a minute per %s; retry in %d s",
                inv.user_id,
                inv.channel_id,
                slow.limit,
                slow.scope,
                slow.retry_after,
            )
            raise TooFast(slow)

    def _failure(self, exc: Exception, name: str, inv: Invocation, *, subject: str | None) -> Reply:
        if isinstance(exc, TooFast):
            self._count(name, "limited")
            return Reply([rc.render_error(exc)], ok=False)
        if isinstance(exc, UsageError):
            self._count(name, "usage_error")
            return Reply([rc.render_error(exc)], ok=False, usage_error=True)
        if isinstance(exc, AccessDenied):
            self._count(name, "denied")
            return Reply([rc.render_error(exc)], ok=False)
        if isinstance(exc, BotError):
            self._count(name, "error")
            log.info("%s failed for user %s: %r", name, inv.user_id, exc)
            return Reply([_safe_render(exc, subject=subject)], ok=False)
        correlation_id = _correlation_id()
        self._count(name, "error")
        log.error(
            "unexpected error in %s (error id %s)",
            name,
            correlation_id,
            exc_info=exc,
            extra={"error_id": correlation_id},
        )
        return Reply(
            [_safe_render(exc, correlation_id=correlation_id)],
            ok=False,
            correlation_id=correlation_id,
        )

    def _count(self, name: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.count_command(name, outcome)


def _failure(exc: BaseException) -> str:
    """Why a read failed, for a person: a typed error says; anything else is a bug of ours."""
    if isinstance(exc, BotError):
        return str(exc).strip() or type(exc).__name__
    raise exc


def _attempts_of(
    operations: OperationPage | BaseException | None,
) -> tuple[AttemptHistory | None, str]:
    """The backup attempts among the operations read, or why they could not be read."""
    if operations is None:
        return None, ""
    if isinstance(operations, BaseException):
        return None, _failure(operations)
    return backup_attempts(operations.operations), ""


def _correlation_id() -> str:
    bound = request_id_var.get()
    return bound if bound and bound != "-" else new_request_id()


def _safe_render(
    exc: BaseException, *, correlation_id: str | None = None, subject: str | None = None
) -> Card:
    try:
        return rc.render_error(exc, correlation_id=correlation_id, subject=subject)
    except Exception:  # a renderer bug must still not leave the person without an answer
        log.exception("render_error failed")
        cid = correlation_id or _correlation_id()
        return Card(_("Something went wrong on my side (error id {id}).").format(id=cid))


def _subject_of(command: Command) -> str | None:
    """What a NotFound reply says could not be found, in plain text."""
    if isinstance(command, ListCmd | SnoozeCmd | UnsnoozeCmd | BackupCmd):
        return _("cluster `{id}`").format(id=command.cluster)
    if isinstance(command, GetCmd):
        return _("backup `{id}`").format(id=command.backup_id)
    if isinstance(command, FolderCmd):
        return _("folder `{id}`").format(id=command.folder_id)
    if isinstance(command, StatusCmd) and command.target:
        return f"`{command.target}`"
    if isinstance(command, ClustersCmd) and command.folder_id:
        return _("folder `{id}`").format(id=command.folder_id)
    return None


def _label(cluster_id: str, name: str) -> str:
    if not cluster_id:
        return _("(no cluster id)")
    return f"{name} ({cluster_id})" if name and name != cluster_id else cluster_id


def _newest_key(item: tuple[str, list[Backup]]) -> tuple[bool, datetime | str]:
    backups = item[1]
    moments = [b.created_at or b.started_at for b in backups]
    known = [m for m in moments if m is not None]
    if not known:
        return (False, item[0])
    return (True, max(known))


# --- button values -------------------------------------------------------------------------------


def _decode_json(value: str) -> dict[str, Any]:
    if not value or len(value) > _MAX_VALUE:
        raise BadButtonValue()
    try:
        data = json.loads(value)
    except ValueError:
        raise BadButtonValue() from None
    if not isinstance(data, dict):
        raise BadButtonValue()
    return data


def _check_cluster_id(value: object) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_ID_LENGTH
        or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in value)
    ):
        raise BadButtonValue()
    return value


def _decode_next_page(value: str) -> tuple[str, ListPosition | None, int]:
    """Cluster id, position and limit of a Next page button; no position for a button of the
    older format, which carried the cloud's page token (``t``) instead."""
    data = _decode_json(value)
    cluster_id = _check_cluster_id(data.get("c"))
    limit = data.get("l")
    if isinstance(limit, bool) or not isinstance(limit, int) or not MIN_LIMIT <= limit <= MAX_LIMIT:
        raise BadButtonValue()
    if "p" in data:
        encoded = data["p"]
        position = ListPosition.decode(encoded) if isinstance(encoded, str) else None
        if position is None:
            raise BadButtonValue()
        return cluster_id, position, limit
    token = data.get("t")
    if not isinstance(token, str) or not token or len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise BadButtonValue()
    return cluster_id, None, limit


def _typed_position(token: str | None) -> ListPosition | None:
    """``--page-token``: the position a Next page button carries (``p``), typed by hand."""
    if token is None:
        return None
    position = ListPosition.decode(token)
    if position is None:
        raise InvalidArgument(
            _(strings.LIST_BAD_POSITION),
            hint=_(strings.HINT_PAGE_TOKEN).format(prefix=strings.PREFIX),
        )
    return position


def _decode_view_page(value: str) -> tuple[str | None, int]:
    """A status/clusters Next page value: the cluster or folder asked for (None: everything
    watched) and the row to start at."""
    data = _decode_json(value)
    target, offset = data.get("t"), data.get("o")
    if target is not None:
        target = _check_cluster_id(target)  # names allow the same characters as ids
    if (
        isinstance(offset, bool)
        or not isinstance(offset, int)
        or not 0 < offset <= _MAX_PAGE_OFFSET
    ):
        raise BadButtonValue()
    return target, offset


def _decode_group(value: str) -> str:
    """The group id a grouped alert's button carries (``g<32 hex>``)."""
    group_id = _decode_json(value).get("g")
    if not isinstance(group_id, str) or not re.fullmatch(r"g[0-9a-f]{32}", group_id):
        raise BadButtonValue()
    return group_id


def _decode_alert(value: str) -> tuple[str, str]:
    data = _decode_json(value)
    cluster_id = _check_cluster_id(data.get("c"))
    route_key = data.get("r")
    if not isinstance(route_key, str) or not route_key or len(route_key) > _MAX_ROUTE_KEY:
        raise BadButtonValue()
    return cluster_id, route_key
