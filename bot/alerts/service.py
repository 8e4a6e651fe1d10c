"""The watcher's side of the Slack commands and buttons: clusters and status views, snoozes and
acknowledgements of alert incidents, and backups started on request.

The dispatcher calls these with the ``now`` it read once. Every change to an incident is a save
guarded by the version it was read at (a click racing a sweep, or two clicks, never both win: the
loser tries again on the fresh entry), committed with the update of its alert message (or of its
grouped alert's post), which the delivery executor sends.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, InitVar, dataclass, field, replace
from datetime import datetime, timedelta

from bot.alerts import policy as alerts
from bot.alerts.group_messages import GroupMember, render_group_alert
from bot.alerts.messages import render_alert
from bot.alerts.model import AlertEntry, AlertGroup, AlertStatus
from bot.alerts.plan import cluster_of
from bot.alerts.policy import Decision
from bot.alerts.sweep import alert_route_key, had_schedule_ids
from bot.backup.follower import OperationFollower
from bot.chat.card import Card
from bot.chat.mrkdwn import escape
from bot.cloud.models import Cluster
from bot.commands import strings
from bot.commands.access import folder_allowed
from bot.commands.messages import ClusterRow, render_ack, render_clusters
from bot.commands.ratelimit import BackupStart, recent_backup
from bot.config import AlertRoute, Match
from bot.context import WatchPart
from bot.digest.messages import render_status
from bot.digest.model import DigestInput, build_digest
from bot.durations import format_duration
from bot.errors import BotError, CloudError, NotFound, UsageError
from bot.fleet.lookup import ClusterCache, resolve_cluster
from bot.fleet.reader import ClusterReading, read_cluster, read_clusters, read_fleet
from bot.freshness.messages import utc_text
from bot.freshness.model import FreshnessReport
from bot.freshness.policy import classify, max_age_for
from bot.i18n.catalog import _, ngettext
from bot.outbox.change import Change
from bot.outbox.posts import OutboundPost, PostKind
from bot.store import PendingOperation

log = logging.getLogger(__name__)

#: A change to an incident: the pure step of bot.alerts.policy applied to the entry as read.
_Step = Callable[[AlertEntry], Decision]

#: Tries of a read-modify-save of one incident before giving up (each loser re-reads).
_SAVE_TRIES = 5


@dataclass(eq=False, repr=False)
class WatchService(WatchPart):
    """What the Slack dispatcher asks of the watcher (see ``bot.commands.router.WatchLike``)."""

    _: KW_ONLY
    #: Follows started backups to their end; when not given, the service makes its own.
    follower: InitVar[OperationFollower | None] = None
    operations: OperationFollower = field(init=False)
    #: Name and id look-ups of the last minute, shared by every command and button.
    _clusters: ClusterCache = field(default_factory=ClusterCache, init=False)
    #: Backups this process started (the store forgets a start once its operation is done).
    _backups_started: dict[str, BackupStart] = field(default_factory=dict, init=False)
    #: One start at a time per cluster in this process, so two clicks at once start one backup.
    _backup_locks: dict[str, asyncio.Lock] = field(default_factory=dict, init=False)

    def __post_init__(self, follower: OperationFollower | None) -> None:
        self.operations = follower or OperationFollower(
            self.cloud,
            self.store,
            self.notifier,
            owner=self.owner,
            lease=self.config.sweep.lease,
            queued=self.queued,
            chat=self.chat,
        )

    # --- views ---------------------------------------------------------------------------------

    async def clusters_view(self, folder_id: str | None, *, now: datetime, offset: int = 0) -> Card:
        """One page of the clusters of a folder (default: the watched folders) with their
        freshness, worst first, from row ``offset``; a Next page button leads on."""
        if folder_id is None:
            folders = list(dict.fromkeys(self.config.watch.folders))
            if not folders:
                raise UsageError(
                    _("the bot watches no folder, so there is no default"),
                    hint=_("name one: clusters <folder-id>"),
                )
        else:
            if not folder_allowed(folder_id, self.config.visible_folders()):
                raise NotFound(
                    404, _("folder {folder} is not one the bot shows").format(folder=folder_id)
                )
            folders = [folder_id]
        clusters: list[Cluster] = []
        for folder in folders:
            clusters.extend([c async for c in self.cloud.list_clusters(folder)])
        readings = await read_clusters(
            self.cloud, clusters, freshness=self.config.freshness, now=now
        )
        had = await had_schedule_ids(self.store)
        rows = [ClusterRow(r.cluster, self._report(r, had, now)) for r in readings]
        return render_clusters(
            ", ".join(folders),
            rows,
            now=now,
            offset=offset,
            target=folder_id,
            limits=self.chat.limits,
        )

    async def status_view(self, target: str | None, *, now: datetime, offset: int = 0) -> Card:
        """The digest view, now, in one message: for a cluster (id or name), a folder id, or
        every watched cluster; worst first from row ``offset``, a Next page button for more."""
        had = await had_schedule_ids(self.store)
        freshness = self.config.freshness
        one = False  # the status of one cluster: in full (policies, restore, trend)
        if target is None:
            title = _("Backups status")
            fleet = await read_fleet(self.cloud, self.config, now=now)
            readings, errors = list(fleet.clusters), list(fleet.errors)
        elif target in self.config.watch.folders or target in self.config.visible_folders():
            title = _("Backups status of folder {folder}").format(folder=target)
            clusters = [c async for c in self.cloud.list_clusters(target)]
            readings = await read_clusters(self.cloud, clusters, freshness=freshness, now=now)
            errors = []
        else:
            cluster = await self._resolve(target)
            title = _("Backups status of {cluster}").format(cluster=cluster.display_name)
            readings = await read_clusters(
                self.cloud, [cluster], freshness=freshness, now=now, full=True
            )
            errors, one = [], True
        if errors and not readings:
            raise CloudError(errors[0])
        items = [
            DigestInput(
                cluster=r.cluster,
                report=self._report(r, had, now),
                backups=r.backups,
                backup_count=r.count,
            )
            for r in readings
        ]
        digest = build_digest(
            items, {}, now=now, shrink_threshold=self.config.freshness.shrink_warning
        )
        return render_status(
            digest,
            title=title,
            console_url=self.console_url,
            limits=self.chat.limits,
            warnings=errors,
            target=target,
            offset=offset,
            detailed=one,
        )

    # --- incidents -----------------------------------------------------------------------------

    async def snooze(
        self, cluster_ref: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card:
        """Snooze every open incident of a cluster (all alert routes) for ``duration``."""
        cluster = await self._resolve(cluster_ref)
        until = now + duration
        entries = await self._open_entries(cluster.id)
        if not entries:
            raise UsageError(
                _("{cluster} has no open alert to snooze").format(cluster=cluster.display_name)
            )
        for entry in entries:
            await self._change(
                entry.cluster_id,
                entry.route_key,
                lambda e: alerts.snooze(e, until=until, user=user, now=now),
                now=now,
                cluster=cluster,
            )
        return render_ack(
            _(strings.SNOOZED).format(cluster=cluster.display_name, until=utc_text(until))
        )

    async def unsnooze(self, cluster_ref: str, *, user: str, now: datetime) -> Card:
        """End the snooze of every snoozed incident of a cluster."""
        cluster = await self._resolve(cluster_ref)
        entries = [
            e for e in await self._open_entries(cluster.id) if e.status == AlertStatus.SNOOZED
        ]
        if not entries:
            raise UsageError(
                _("alerts for {cluster} are not snoozed").format(cluster=cluster.display_name)
            )
        for entry in entries:
            await self._change(
                entry.cluster_id,
                entry.route_key,
                lambda e: alerts.unsnooze(e, now=now),
                now=now,
                cluster=cluster,
            )
        log.info("%s unsnoozed the alerts of %s", user, cluster.id)
        return render_ack(_(strings.UNSNOOZED).format(cluster=cluster.display_name))

    async def acknowledge(
        self, cluster_id: str, route_key: str, *, user: str, now: datetime
    ) -> Card:
        """The Acknowledge button: no more reminders until the incident resolves."""
        decision, cluster = await self._change(
            cluster_id, route_key, lambda e: alerts.acknowledge(e, user=user, now=now), now=now
        )
        name = cluster.display_name
        if not decision.actions:
            by = decision.entry.acknowledged_by
            said = _("The alert for `{cluster}` was already acknowledged by {who}.")
            return render_ack(said.format(cluster=name, who=by))
        said = _("Acknowledged the alert for `{cluster}`: no more reminders until it resolves.")
        return render_ack(said.format(cluster=name))

    async def snooze_alert(
        self, cluster_id: str, route_key: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card:
        """The Snooze buttons: silence one incident for ``duration``."""
        until = now + duration
        _decision, cluster = await self._change(
            cluster_id,
            route_key,
            lambda e: alerts.snooze(e, until=until, user=user, now=now),
            now=now,
        )
        return render_ack(
            _(strings.SNOOZED).format(cluster=cluster.display_name, until=utc_text(until))
        )

    async def acknowledge_group(self, group_id: str, *, user: str, now: datetime) -> Card:
        """The Acknowledge all button of a grouped alert: every open cluster of the storm."""
        group, changed = await self.change_group(
            group_id, lambda e: alerts.acknowledge(e, user=user, now=now), now=now
        )
        label = escape(group.label)
        if not changed:
            said = _("Every cluster of the storm in {group} was already acknowledged.")
            return render_ack(said.format(group=label))
        said = ngettext(
            "Acknowledged {n} cluster of the storm in {group}: no more reminders until they "
            "resolve.",
            "Acknowledged {n} clusters of the storm in {group}: no more reminders until they "
            "resolve.",
            changed,
        )
        return render_ack(said.format(n=changed, group=label))

    async def snooze_group(
        self, group_id: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card:
        """The Snooze all buttons of a grouped alert."""
        until = now + duration
        group, changed = await self.change_group(
            group_id, lambda e: alerts.snooze(e, until=until, user=user, now=now), now=now
        )
        said = ngettext(
            "Snoozed {n} cluster of the storm in {group} until {until}.",
            "Snoozed {n} clusters of the storm in {group} until {until}.",
            changed,
        )
        return render_ack(said.format(n=changed, group=escape(group.label), until=utc_text(until)))

    # --- backups on request --------------------------------------------------------------------

    async def start_backup(
        self,
        cluster_ref: str,
        *,
        user: str,
        channel: str | None,
        thread_ts: str | None,
        now: datetime,
    ) -> Card:
        """Start a backup now and follow it. A cluster is backed up at most once per
        ``limits.backup_every``, whoever asks: asking again sooner is answered with the backup
        already started (also when another replica started it), and starts nothing."""
        cluster = await self._resolve(cluster_ref)
        lock = self._backup_locks.setdefault(cluster.id, asyncio.Lock())
        async with lock:
            every = self.config.limits.backup_every
            started = await self._backup_starts()
            recent = recent_backup(started, cluster.id, now=now, every=every)
            if recent is not None:
                log.info(
                    "not starting a backup of %s for %s: operation %s started at %s",
                    cluster.id,
                    user,
                    recent.operation_id,
                    recent.requested_at.isoformat(),
                )
                return render_ack(
                    _(strings.BACKUP_ALREADY_STARTED).format(
                        cluster=cluster.display_name,
                        ago=format_duration(max(now - recent.requested_at, timedelta(0))),
                        operation=recent.operation_id,
                        every=format_duration(every),
                        after=utc_text(recent.requested_at + every),
                    )
                )
            return await self._start_backup(cluster, user, channel, thread_ts, now)

    async def _backup_starts(self) -> list[BackupStart]:
        """Backups started on request that a new request could repeat: those whose operation
        is still running (from the store, whichever replica started them) and this process's
        own recent starts (done ones included)."""
        pending = [
            BackupStart(p.operation_id, p.cluster_id, p.requested_by, p.requested_at)
            for p in await self.store.list_pending_operations()
        ]
        return [*pending, *self._backups_started.values()]

    async def _start_backup(
        self,
        cluster: Cluster,
        user: str,
        channel: str | None,
        thread_ts: str | None,
        now: datetime,
    ) -> Card:
        key = backup_idempotency_key(cluster.id, user, now)
        operation = await self.cloud.backup_cluster(cluster.id, idempotency_key=key)
        if operation.failed:
            reason = operation.error.message if operation.error else _("no reason given")
            raise CloudError(
                _("the cloud refused to back up {cluster}: {reason}").format(
                    cluster=cluster.display_name, reason=reason
                )
            )
        await self.store.record_operation(
            operation.id, cluster.id, user, channel or "", thread_ts, now=now
        )
        self._backups_started[cluster.id] = BackupStart(operation.id, cluster.id, user, now)
        self.operations.follow(
            PendingOperation(
                operation_id=operation.id,
                cluster_id=cluster.id,
                requested_by=user,
                channel=channel or "",
                thread_ts=thread_ts,
                requested_at=now,
            )
        )
        return render_ack(
            _(strings.BACKUP_STARTED).format(cluster=cluster.display_name, operation=operation.id)
        )

    async def resume_pending_operations(self, now: datetime) -> list[str]:
        """At start: keep following the backups started before a restart. Their ids."""
        resumed = await self.operations.resume()
        if resumed:
            log.info("following %d started backup(s) again at %s", len(resumed), now.isoformat())
        return resumed

    async def aclose(self) -> None:
        """Stop following operations (they are resumed at the next start)."""
        await self.operations.aclose()

    # --- helpers -------------------------------------------------------------------------------

    async def _resolve(self, ref: str) -> Cluster:
        return await resolve_cluster(
            self.cloud,
            ref,
            folders=self.config.search_folders(),
            allowed_folders=self.config.visible_folders(),
            cache=self._clusters,
        )

    async def _open_entries(self, cluster_id: str) -> list[AlertEntry]:
        return [
            e for e in await self.store.list_alerts(open_only=True) if e.cluster_id == cluster_id
        ]

    def _route(self, entry: AlertEntry) -> AlertRoute:
        # A route that left the config since the incident opened renders as its channel alone.
        return self._route_of_key(entry.route_key, entry.channel)

    def _report(self, reading: ClusterReading, had: set[str], now: datetime) -> FreshnessReport:
        return reading.report(
            self.config.freshness, now=now, had_schedule=reading.cluster.id in had
        )

    async def _change(
        self,
        cluster_id: str,
        route_key: str,
        step: _Step,
        *,
        now: datetime,
        cluster: Cluster | None = None,
    ) -> tuple[Decision, Cluster]:
        """Read the incident, apply ``step``, commit it with the update of its message (again on
        a lost race)."""
        reading: ClusterReading | None = None
        for _try in range(_SAVE_TRIES):
            entry = await self.store.get_alert(cluster_id, route_key)
            if entry is None or not entry.status.is_open:
                raise UsageError(_("this alert is no longer open; nothing to change"))
            decision = step(entry)
            if not decision.actions:
                return decision, cluster or cluster_of(entry)
            nxt = decision.entry
            change = Change(alerts=[nxt])
            if nxt.group_id is not None:
                group_change = await self._group_update(nxt.group_id, {nxt.cluster_id: nxt}, now)
                change.groups, change.posts = group_change.groups, group_change.posts
                known = cluster or cluster_of(nxt)
            else:
                if reading is None:
                    reading = await read_cluster(
                        self.cloud, cluster_id, freshness=self.config.freshness, now=now
                    )
                known = reading.cluster if reading.error is None else cluster or cluster_of(nxt)
                post = await self._alert_update(nxt, reading, known, now)
                if post is not None:
                    change.posts.append(post)
            committed = await self.store.commit(change, now=now)
            if committed is None:
                continue  # a sweep or another click moved it meanwhile: redo on the new entry
            if change.posts:
                self._queued()
            return replace(decision, entry=committed.alerts[0]), known
        raise BotError(_("the alert kept changing while I tried to update it; try again"))

    async def _alert_update(
        self, entry: AlertEntry, reading: ClusterReading, cluster: Cluster, now: datetime
    ) -> OutboundPost | None:
        """The update of an incident's own alert message, rendered anew; None without one."""
        if entry.message_id is None and entry.message_ts is None:
            return None
        had = await had_schedule_ids(self.store)
        report = self._entry_report(entry, reading, cluster, had, now)
        message = render_alert(
            entry,
            cluster=cluster,
            report=report,
            route=self._route(entry),
            console_url=self.console_url,
            limits=self.chat.limits,
            now=now,
        )
        return OutboundPost(
            kind=PostKind.ALERT_UPDATE,
            channel=entry.channel,
            payload=self.chat.render(message),
            parent_id=entry.message_id,
            parent_ts=entry.message_ts if entry.message_id is None else None,
            subject=entry.cluster_id,
        )

    async def _group_update(
        self, group_id: str, changed: dict[str, AlertEntry], now: datetime
    ) -> Change:
        """The grouped alert with ``changed`` members as given: its version-guarded save and
        the update of its post, rendered from what the incidents remember (no cloud read for
        a storm of 300)."""
        group = await self.store.get_group(group_id)
        if group is None:
            return Change()
        members = [
            changed.get(e.cluster_id, e) for e in await self.store.list_alerts(group_id=group_id)
        ]
        shown = [GroupMember(cluster_of(e), None, e) for e in members]
        top, _thread = render_group_alert(
            group,
            shown,
            route=self._route_of_key(group.route_key, group.channel),
            console_url=self.console_url,
            limits=self.chat.limits,
            now=now,
        )
        post = OutboundPost(
            kind=PostKind.GROUP_UPDATE,
            channel=group.channel,
            payload=self.chat.render(top),
            parent_id=group.message_id,
            subject=f"group {group.label}",
        )
        return Change(groups=[group], posts=[post])

    async def change_group(
        self, group_id: str, step: _Step, *, now: datetime
    ) -> tuple[AlertGroup, int]:
        """Apply ``step`` to every open incident of a grouped alert (its buttons: acknowledge
        all, snooze all), committed at once with the update of the group's post; the group and
        how many incidents changed."""
        for _try in range(_SAVE_TRIES):
            group = await self.store.get_group(group_id)
            if group is None or not group.is_open:
                raise UsageError(_("this storm is over: every cluster in it has recovered"))
            members = await self.store.list_alerts(group_id=group_id, open_only=True)
            decisions = [step(entry) for entry in members]
            changed = {d.entry.cluster_id: d.entry for d in decisions if d.actions}
            if not changed:
                return group, 0
            change = await self._group_update(group_id, changed, now)
            change.alerts = list(changed.values())
            if await self.store.commit(change, now=now) is None:
                continue
            self._queued()
            return group, len(changed)
        raise BotError(_("the storm kept changing while I tried to update it; try again"))

    def _route_of_key(self, route_key: str, channel: str) -> AlertRoute:
        for route in self.config.alerts:
            if alert_route_key(route) == route_key:
                return route
        return AlertRoute(channel=channel, match=Match())

    def _entry_report(
        self,
        entry: AlertEntry,
        reading: ClusterReading,
        cluster: Cluster,
        had: set[str],
        now: datetime,
    ) -> FreshnessReport:
        """The cluster's freshness for the message: read now, or as the sweep last saw it."""
        max_age = max_age_for(cluster, self.config.freshness)
        if reading.error is None:
            return self._report(reading, had, now)
        if entry.last_state is None:
            return classify(cluster, None, max_age=max_age, now=now, read_error=reading.error)
        newest_at = entry.newest_backup_at
        return FreshnessReport(
            cluster_id=entry.cluster_id,
            state=entry.last_state,
            max_age=max_age,
            newest_backup_at=newest_at,
            age=max(now - newest_at, timedelta(0)) if newest_at is not None else None,
        )


def backup_idempotency_key(cluster_id: str, user: str, now: datetime) -> str:
    """The same key for the same cluster, person and minute: a double click starts one backup."""
    minute = now.replace(second=0, microsecond=0).isoformat()
    digest = hashlib.sha256(f"{cluster_id}|{user}|{minute}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
