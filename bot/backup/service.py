"""Backups started on request: ``/backups backup <cluster>`` asks first, *Start backup* starts it
(as an alert's *Start backup now* does), and the follower reports how it went.

A cluster is backed up at most once per ``limits.backup_every``, whoever asks and on whichever
replica: asking again sooner is answered with the backup already started and starts nothing. The
request to the cloud carries an ``Idempotency-Key`` made from the cluster, the person and the
minute, so a double click or a retry after a lost answer starts one backup.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bot.alerts.actions import START_BACKUP, AlertRef
from bot.backup.actions import CANCEL, CONFIRM
from bot.backup.follower import OperationFollower
from bot.backup.messages import render_backup_confirm
from bot.backup.model import backup_blocker
from bot.chat.actions import Answer, BoundAction, Invocation
from bot.chat.card import Card
from bot.cloud.client import CloudClient
from bot.cloud.models import Cluster
from bot.commands import strings
from bot.commands.grammar import BackupCmd
from bot.commands.messages import render_ack
from bot.commands.ratelimit import BackupStart, recent_backup
from bot.commands.router import CommandRoute
from bot.config import BotConfig
from bot.errors import CloudError, UsageError
from bot.fleet.lookup import ClusterFinder
from bot.freshness.messages import utc_text
from bot.i18n.catalog import N_, _
from bot.i18n.units import say_duration
from bot.store import PendingOperation, Store

log = logging.getLogger(__name__)

BACKUP_CANCELLED = N_("Backup not started.")


class BackupService:
    """Starts backups on request and follows them to their end. Without a store (a process that
    runs no watcher) it only takes a Cancel: starting needs the store, where starts are
    recorded, so neither asking nor starting is offered."""

    def __init__(
        self,
        cloud: CloudClient,
        store: Store | None,
        config: BotConfig,
        *,
        follower: OperationFollower | None = None,
        finder: ClusterFinder | None = None,
    ) -> None:
        self.cloud = cloud
        self.store = store
        self.config = config
        self.follower = follower
        self.finder = finder or ClusterFinder(cloud, config)
        #: Backups this process started (the store forgets a start once its operation is done).
        self._started: dict[str, BackupStart] = {}
        #: One start at a time per cluster in this process, so two clicks at once start one.
        self._locks: dict[str, asyncio.Lock] = {}

    def commands(self) -> Iterable[CommandRoute[Any]]:
        if self.store is not None:
            yield CommandRoute(BackupCmd, self._ask)

    def actions(self) -> Iterable[BoundAction]:
        yield CANCEL.bind(self._cancelled)
        if self.store is not None:
            yield CONFIRM.bind(self._confirmed)
            yield START_BACKUP.bind(self._from_alert)

    # --- the command and its buttons -----------------------------------------------------------

    async def _ask(self, command: BackupCmd, inv: Invocation, now: datetime) -> Answer:
        cluster = await self.finder.find(command.cluster)
        _refuse_blocked(cluster)
        return Answer([render_backup_confirm(cluster.display_name, cluster.id)])

    async def _confirmed(self, cluster_id: str, inv: Invocation, now: datetime) -> Answer:
        cluster = await self.finder.find(cluster_id)
        # The outcome goes where on-call looks: the open alert's thread, if there is one (the
        # confirm itself is only visible to the person, so it can hold no thread).
        channel, thread_ts = await self._alert_thread(cluster.id) or (inv.channel_id, None)
        message = await self.start(
            cluster.id, user=inv.user_id, channel=channel, thread_ts=thread_ts, now=now
        )
        return Answer([message], replace_original=True)

    async def _alert_thread(self, cluster_id: str) -> tuple[str, str] | None:
        """The channel and ts of the cluster's open alert (or of the storm it is part of), once
        it is posted; None when there is none."""
        if self.store is None:
            return None
        for entry in await self.store.incidents.list_alerts(open_only=True):
            if entry.cluster_id != cluster_id:
                continue
            if entry.group_id is not None:
                group = await self.store.incidents.get_group(entry.group_id)
                if group is not None and group.message_ts:
                    return group.channel, group.message_ts
            elif entry.message_ts and entry.channel:
                return entry.channel, entry.message_ts
        return None

    async def _cancelled(self, cluster_id: str, inv: Invocation, now: datetime) -> Answer:
        return Answer([render_ack(_(BACKUP_CANCELLED))], replace_original=True)

    async def _from_alert(self, ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
        """An alert's *Start backup now* (its confirm dialog was the asking); the outcome goes
        in the alert's thread."""
        channel, thread_ts = inv.channel_id, inv.message_ts
        if not channel:
            # Pressed on the Home tab (a view: no channel, no message): the alert's own thread.
            channel, thread_ts = await self._alert_thread(ref.cluster_id) or ("", None)
        message = await self.start(
            ref.cluster_id, user=inv.user_id, channel=channel, thread_ts=thread_ts, now=now
        )
        return Answer([message])

    # --- starting ------------------------------------------------------------------------------

    async def start(
        self,
        cluster_ref: str,
        *,
        user: str,
        channel: str | None,
        thread_ts: str | None,
        now: datetime,
    ) -> Card:
        """Start a backup now and follow it, unless one was started within
        ``limits.backup_every`` (also on another replica): then say so and start nothing."""
        cluster = await self.finder.find(cluster_ref)
        _refuse_blocked(cluster)
        lock = self._locks.setdefault(cluster.id, asyncio.Lock())
        async with lock:
            every = self.config.limits.backup_every
            recent = recent_backup(await self._starts(), cluster.id, now=now, every=every)
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
                        ago=say_duration(max(now - recent.requested_at, timedelta(0))),
                        operation=recent.operation_id,
                        every=say_duration(every),
                        after=utc_text(recent.requested_at + every),
                    )
                )
            return await self._start(cluster, user, channel, thread_ts, now)

    async def _starts(self) -> list[BackupStart]:
        """Backups started on request that a new request could repeat: those whose operation
        is still running (from the store, whichever replica started them) and this process's
        own recent starts (done ones included)."""
        assert self.store is not None  # starting is offered only with a store
        pending = [
            BackupStart(p.operation_id, p.cluster_id, p.requested_by, p.requested_at)
            for p in await self.store.operations.list_pending_operations()
        ]
        return [*pending, *self._started.values()]

    async def _start(
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
        assert self.store is not None
        assert self.follower is not None
        await self.store.operations.record_operation(
            operation.id, cluster.id, user, channel or "", thread_ts, now=now
        )
        self._started[cluster.id] = BackupStart(operation.id, cluster.id, user, now)
        self.follower.follow(
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

    async def resume(self, now: datetime) -> list[str]:
        """At start: keep following the backups started before a restart. Their ids."""
        if self.follower is None:
            return []
        resumed = await self.follower.resume()
        if resumed:
            log.info("following %d started backup(s) again at %s", len(resumed), now.isoformat())
        return resumed

    async def aclose(self) -> None:
        """Stop following operations (they are resumed at the next start)."""
        if self.follower is not None:
            await self.follower.aclose()


def _refuse_blocked(cluster: Cluster) -> None:
    """Say why a backup cannot run now, before asking or starting one the cloud would refuse."""
    blocker = backup_blocker(cluster)
    if blocker:
        raise UsageError(
            _("`{cluster}` cannot be backed up now: the cluster is {state}.").format(
                cluster=cluster.display_name, state=blocker
            ),
            hint=_("A backup can run once the cluster is RUNNING and not DEAD."),
        )


def backup_idempotency_key(cluster_id: str, user: str, now: datetime) -> str:
    """The same key for the same cluster, person and minute: a double click starts one backup."""
    minute = now.replace(second=0, microsecond=0).isoformat()
    digest = hashlib.sha256(f"{cluster_id}|{user}|{minute}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
