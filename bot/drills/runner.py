"""Running one restore drill to its end: claim it, restore, follow, wait for health, delete,
report.

A drill is a claimed run (``drill:<id>``, renewed while it waits), recorded in the store before it
restores anything and at every step, so that a replica taking over a dead one's drill goes on
where it was. Before any restore it looks for the cluster labelled with the drill's id (a crash
after the restore request), and the restore carries an Idempotency-Key derived from the drill's
id (a retry after a lost answer), so that a drill makes at most one cluster. Whatever happens,
the drill cluster is deleted in a ``finally`` and the bot waits until the cloud says it is gone;
what still escapes (a kill -9, a delete the cloud keeps failing) is the reaper's
(:mod:`bot.drills.reaper`). The result is committed with its post, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot import clock
from bot.alerts.model import BotIncident, BotIncidentStatus
from bot.chat.card import Chat
from bot.cloud.client import CloudClient
from bot.cloud.models import Cluster, ClusterStatus, RestoreRequest
from bot.cloud.opensearch_rest import count_indices
from bot.config import DrillRoute
from bot.drills.messages import render_drill_resolved, render_drill_result
from bot.drills.model import (
    DRILL_LABEL,
    DrillOutcome,
    DrillRecord,
    DrillStep,
    delete_key,
    drill_incident_key,
    restore_key,
)
from bot.drills.plan import choose_backup, restore_request
from bot.errors import CloudError, NotFound
from bot.outbox.change import Change, RunFinish
from bot.outbox.posts import PostKind, make_post
from bot.slack.blocks import SLACK
from bot.store import Store

log = logging.getLogger(__name__)

#: How often a drill asks the cloud how its cluster is.
DEFAULT_POLL_INTERVAL = 15.0
#: How long deleting a drill cluster is tried (attempts and waiting) before the reaper takes over.
DELETE_WITHIN = timedelta(minutes=30)
DELETE_ATTEMPTS = 3


def new_admin_password() -> str:
    """A password for the drill cluster's admin, kept in memory only (never stored or logged)."""
    return secrets.token_urlsafe(24) + "-Aa1"


class _Failed(Exception):
    """A step of the drill failed: the step and the words for why."""

    def __init__(self, step: str, error: str) -> None:
        super().__init__(error)
        self.step = step
        self.error = error


class DrillRunner:
    """Runs drills to their end; one per process."""

    def __init__(
        self,
        cloud: CloudClient,
        store: Store,
        *,
        owner: str,
        lease: timedelta = timedelta(minutes=5),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        queued: Callable[[], None] | None = None,
        chat: Chat = SLACK,
        passwords: Callable[[], str] = new_admin_password,
    ) -> None:
        self.cloud = cloud
        self.store = store
        self.owner = owner
        self.lease = lease
        self.poll_interval = poll_interval
        self.queued = queued
        self.chat = chat
        self._passwords = passwords
        #: The admin password of each drill this process restored, in memory only, for
        #: ``verify: opensearch``; dropped when the drill ends.
        self._admin: dict[str, str] = {}

    async def run(
        self,
        route: DrillRoute,
        source: Cluster,
        *,
        drill: str,
        requested_by: str = "",
        now: datetime | None = None,
    ) -> DrillRecord | None:
        """Run the drill ``drill`` of ``source`` to its end; its record, or None when another
        replica holds it. ``now`` is when the drill started (a drill taken over keeps its
        start, and so its deadline)."""
        started = now or clock.now()
        key = f"drill:{drill}"
        claimed = await self.store.claims.claim_run(
            key, self.owner, now=clock.now(), lease=self.lease
        )
        if not claimed:
            log.info("drill %s is run by another replica", drill)
            return None
        record = await self.store.drills.start_drill(
            DrillRecord(
                id=drill,
                cluster_id=source.id,
                cluster_name=source.name,
                folder_id=route.folder,
                channel=route.channel,
                time_limit=route.time_limit,
                started_at=started,
                requested_by=requested_by,
            )
        )
        if record.finished:
            await self.store.claims.finish_run(key, self.owner, now=clock.now())
            return record
        try:
            record = await self._drive(route, source, record, key)
        except asyncio.CancelledError:
            # A shutdown: ask for the delete (the reaper finishes it) and hand the drill back.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._request_delete(record))
            with contextlib.suppress(Exception):
                await asyncio.shield(self.store.claims.release_run(key, self.owner))
            raise
        return await self._finish(route, record, key)

    # --- the steps ------------------------------------------------------------------------------

    async def _drive(
        self, route: DrillRoute, source: Cluster, record: DrillRecord, key: str
    ) -> DrillRecord:
        try:
            record = await self._restore(route, source, record)
            record = await self._wait_restored(record, key)
            record, hosts = await self._wait_healthy(record, key)
            if route.verify == "opensearch":
                await self._verify(route, record, hosts)
        except _Failed as failure:
            record = record.failed(failure.step, failure.error)
        except Exception as exc:
            log.exception("drill %s failed unexpectedly", record.id)
            record = record.failed("restore", f"the bot failed: {type(exc).__name__}")
        finally:
            self._admin.pop(record.id, None)
            record = await self._delete(route, record, key)
        outcome = DrillOutcome.FAILED if record.failed_step else DrillOutcome.PASSED
        return record.at(DrillStep.DONE, outcome=outcome, finished_at=clock.now())

    async def _save(self, record: DrillRecord) -> DrillRecord:
        await self.store.drills.save_drill(record)
        return record

    async def _find_own(self, route: DrillRoute, record: DrillRecord) -> list[Cluster]:
        return await self.cloud.labelled_clusters(route.folder, DRILL_LABEL, record.id)

    async def _restore(
        self, route: DrillRoute, source: Cluster, record: DrillRecord
    ) -> DrillRecord:
        """Find the drill's cluster (a crash after the restore), else restore into a new one."""
        try:
            own = await self._find_own(route, record)
        except CloudError as exc:
            raise _Failed("restore", str(exc)) from None
        if own:
            return await self._save(record.at(DrillStep.RESTORING, drill_cluster_id=own[0].id))
        if record.drill_cluster_id:
            raise _Failed("restore", "the drill cluster is gone (deleted by someone else)")
        try:
            page = await self.cloud.all_cluster_backups(source.id)
        except CloudError as exc:
            raise _Failed("backup", str(exc)) from None
        backup = choose_backup(page.backups, route, drill=record.id, now=record.started_at)
        if backup is None:
            raise _Failed("backup", "the cluster has no backup to restore")
        password = self._passwords()
        request: RestoreRequest = restore_request(
            route,
            source,
            backup,
            drill=record.id,
            admin_password=password,
            now=record.started_at,
        )
        self._admin[record.id] = password
        record = await self._save(
            record.at(DrillStep.RESTORING, backup_id=backup.id, backup_indices=backup.indices_total)
        )
        try:
            operation = await self.cloud.restore_cluster(
                request, idempotency_key=restore_key(record.id)
            )
        except CloudError as exc:
            raise _Failed("restore", str(exc)) from None
        if not operation.cluster_id:
            raise _Failed("restore", "the cloud's answer names no new cluster")
        log.info(
            "drill %s: restoring %s into %s (operation %s)",
            record.id,
            backup.id,
            operation.cluster_id,
            operation.id,
        )
        return await self._save(
            record.at(
                DrillStep.RESTORING,
                drill_cluster_id=operation.cluster_id,
                operation_id=operation.id,
            )
        )

    async def _tick(self, record: DrillRecord, key: str, step: str) -> None:
        """Wait a poll interval; fail the step if the drill is past its time limit."""
        if clock.now() >= record.deadline:
            raise _Failed(step, "the drill reached its time limit")
        await asyncio.sleep(self.poll_interval)
        await self.store.claims.renew_claim(key, self.owner, now=clock.now(), lease=self.lease)

    async def _wait_restored(self, record: DrillRecord, key: str) -> DrillRecord:
        """Follow the restore until it is done (by its operation, or the cluster's status when
        the drill was taken over without it)."""
        while True:
            try:
                if record.operation_id:
                    operation = await self.cloud.get_operation(record.operation_id)
                    if operation.done:
                        if operation.failed and operation.error is not None:
                            raise _Failed("restore", operation.error.message)
                        break
                else:
                    cluster = await self.cloud.get_cluster(record.drill_cluster_id)
                    if cluster.known_status == ClusterStatus.ERROR:
                        raise _Failed("restore", "the restored cluster is in ERROR")
                    if cluster.known_status == ClusterStatus.RUNNING:
                        break
            except CloudError as exc:
                log.warning("drill %s: cannot read the restore now: %s", record.id, exc)
            await self._tick(record, key, "restore")
        return await self._save(record.at(DrillStep.WAITING, restored_at=clock.now()))

    async def _wait_healthy(self, record: DrillRecord, key: str) -> tuple[DrillRecord, list[str]]:
        """Wait until the cluster is RUNNING and every one of its hosts ALIVE; the record, and
        the hosts' names."""
        while True:
            try:
                cluster = await self.cloud.get_cluster(record.drill_cluster_id)
                if cluster.known_status == ClusterStatus.ERROR:
                    raise _Failed("health", "the restored cluster is in ERROR")
                if cluster.known_status == ClusterStatus.RUNNING:
                    hosts = (await self.cloud.all_cluster_hosts(record.drill_cluster_id)).hosts
                    if hosts and all(host.alive for host in hosts):
                        break
            except CloudError as exc:
                log.warning("drill %s: cannot read the cluster now: %s", record.id, exc)
            await self._tick(record, key, "health")
        record = await self._save(
            record.at(DrillStep.VERIFYING, healthy_at=clock.now(), hosts=len(hosts))
        )
        return record, [host.name for host in hosts if host.name]

    async def _verify(self, route: DrillRoute, record: DrillRecord, hosts: list[str]) -> None:
        """``verify: opensearch``: the restored cluster lists at least as many indices as the
        backup holds (``indicesTotal``), read over its REST API with the generated password."""
        password = self._admin.get(record.id)
        if password is None:
            raise _Failed(
                "verify",
                "the admin password is known only to the process that restored the cluster "
                "(it is never stored), and that process is gone; the next drill checks the data",
            )
        try:
            count = await count_indices(
                hosts, password=password, port=route.verify_port, ca_file=route.verify_ca_file
            )
        except (CloudError, OSError) as exc:
            raise _Failed("verify", str(exc)) from None
        expected = record.backup_indices
        log.info("drill %s: the restored cluster lists %d indices", record.id, count)
        if expected is not None and count < expected:
            raise _Failed(
                "verify",
                f"the restored cluster lists {count} indices; the backup holds {expected}",
            )

    async def _request_delete(self, record: DrillRecord) -> None:
        if record.drill_cluster_id:
            await self.cloud.delete_cluster(
                record.drill_cluster_id,
                idempotency_key=delete_key(record.id, record.drill_cluster_id, 0),
            )

    async def _delete(self, route: DrillRoute, record: DrillRecord, key: str) -> DrillRecord:
        """Delete the drill's cluster (and any other labelled with its id) and wait until the
        cloud says it is gone; on failure the record says so and the reaper takes over."""
        ids = [record.drill_cluster_id] if record.drill_cluster_id else []
        try:
            ids += [c.id for c in await self._find_own(route, record) if c.id not in ids]
        except CloudError as exc:
            log.warning("drill %s: cannot look for its clusters: %s", record.id, exc)
        if not ids:
            return await self._save(record.at(DrillStep.DELETING, deleted_at=clock.now()))
        record = await self._save(
            record.at(DrillStep.DELETING, drill_cluster_id=record.drill_cluster_id or ids[0])
        )
        gone = [await self._delete_one(record, cluster_id, key) for cluster_id in ids]
        if all(gone):
            return await self._save(record.at(DrillStep.DELETING, deleted_at=clock.now()))
        return record.failed("delete", "the cloud did not delete the drill cluster in time")

    async def _delete_one(self, record: DrillRecord, cluster_id: str, key: str) -> bool:
        until = clock.now() + DELETE_WITHIN
        for attempt in range(DELETE_ATTEMPTS):
            try:
                operation = await self.cloud.delete_cluster(
                    cluster_id, idempotency_key=delete_key(record.id, cluster_id, attempt)
                )
            except NotFound:
                return True
            except CloudError as exc:
                log.warning("drill %s: deleting %s: %s", record.id, cluster_id, exc)
                await asyncio.sleep(self.poll_interval)
                continue
            while not operation.done and clock.now() < until:
                await asyncio.sleep(self.poll_interval)
                await self.store.claims.renew_claim(
                    key, self.owner, now=clock.now(), lease=self.lease
                )
                with contextlib.suppress(CloudError):
                    operation = await self.cloud.get_operation(operation.id)
            if not operation.done or operation.failed:
                log.warning(
                    "drill %s: the delete of %s failed: %s",
                    record.id,
                    cluster_id,
                    operation.error.message if operation.error else "not done in time",
                )
                continue
            while clock.now() < until:
                try:
                    await self.cloud.get_cluster(cluster_id)
                except NotFound:
                    return True
                except CloudError as exc:
                    log.warning(
                        "drill %s: cannot confirm %s is gone: %s", record.id, cluster_id, exc
                    )
                await asyncio.sleep(self.poll_interval)
            return False
        return False

    # --- the result -----------------------------------------------------------------------------

    async def _finish(self, route: DrillRoute, record: DrillRecord, key: str) -> DrillRecord:
        """Commit the result with its post and finish the run, at once; once. A failed drill
        opens the cluster's drill incident (its backups cannot be trusted); the next drill that
        passes resolves it, in the failed drill's thread."""
        now = clock.now()
        incident_key = drill_incident_key(record.cluster_id)
        incident = await self.store.incidents.get_incident(incident_key) or BotIncident(
            incident_key
        )
        failed = record.outcome == DrillOutcome.FAILED
        opens = failed and not incident.is_open
        post = make_post(
            PostKind.DRILL,
            route.channel,
            render_drill_result(record, rto_target=route.rto_target, incident=opens),
            chat=self.chat,
            subject=f"drill {record.id} of {record.cluster_id}",
            reason=record.outcome.value if record.outcome else "",
        )
        change = Change(
            posts=[post],
            finish_run=RunFinish(key, self.owner, now),
            finish_drill=record,
        )
        if opens:
            change.incidents.append(
                replace(
                    incident,
                    status=BotIncidentStatus.OPEN,
                    since=now,
                    detail=f"{record.failed_step}: {record.error}"[:500],
                    messages=((route.channel, post.id),),
                )
            )
        elif not failed and incident.is_open:
            for channel, parent in incident.messages:
                change.posts.append(
                    make_post(
                        PostKind.DRILL,
                        channel,
                        render_drill_resolved(record),
                        chat=self.chat,
                        subject=f"drill incident of {record.cluster_id} resolved",
                        parent=(parent, None),
                    )
                )
            change.incidents.append(
                replace(incident, status=BotIncidentStatus.CLOSED, detail="", messages=())
            )
        if await self.store.commit(change, now=now) is None:
            log.info("drill %s was reported by another replica", record.id)
            stored = await self.store.drills.get_drill(record.id)
            return stored or record
        if self.queued is not None:
            self.queued()
        log.info(
            "drill %s of %s: %s%s",
            record.id,
            record.cluster_id,
            record.outcome,
            f" at {record.failed_step}: {record.error}" if record.failed_step else "",
        )
        return record
