"""The store: every piece of state the bot keeps, behind one small async API.

Each method is one short transaction. Races between replicas are settled in the database, never
in Python: a claim is an INSERT that does nothing on conflict followed by an UPDATE whose WHERE
says when a takeover is allowed, and an alert save is an UPDATE guarded by the version it read.
The loser of a race gets ``False`` or ``None`` ("another process got there first"), never an
exception. All datetimes go in and come out timezone-aware, in UTC.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from sqlalchemy import (
    Row,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Select

from bot.alerts.model import AlertEntry, AlertGroup, AlertStatus, BotIncident, BotIncidentStatus
from bot.digest.model import ClusterFigures
from bot.errors import StoreUnavailable
from bot.freshness.model import FreshnessState
from bot.outbox.change import (
    EVERY_CHANNEL,
    Change,
    ChannelProblem,
    Committed,
    OutboxState,
    QueuedPost,
    dump_messages,
    dump_payload,
    load_messages,
    load_payload,
)
from bot.outbox.posts import Method, OutboundPost, PostKind
from bot.store.db import apply_migrations, create_engine, writer
from bot.store.tables import (
    alert_groups,
    alerts,
    bot_incidents,
    channel_problems,
    counters,
    digest_figures,
    facts,
    markers,
    operations,
    outbox,
    run_claims,
)

#: Marker names the store itself sets in ``record_sweep``.
MARKER_LAST_SWEEP = "last_sweep"
MARKER_LAST_SWEEP_OK = "last_sweep_ok"
COUNTER_SWEEP_FAILURES = "sweep_failures"
#: Set when a digest's top post is accepted by Slack.
MARKER_LAST_DIGEST = "last_digest"

#: A released claim's lease ends here: before any ``now`` a caller can pass, so the next claimer
#: takes it whatever its clock says.
RELEASED = datetime(1970, 1, 1, tzinfo=UTC)

_OPEN_STATUSES = tuple(status.value for status in AlertStatus if status.is_open)

#: The outbox row of an alert's (or a group's) message, for its ts.
_message = outbox.alias("message")
#: The parent row of a queued post (its thread parent, or the message it replaces).
_parent = outbox.alias("parent")


class _Stale(Exception):
    """A guarded write of :meth:`Store.commit` found the row moved on: roll the change back."""


@dataclass(frozen=True, slots=True)
class PendingOperation:
    """A backup someone started from Slack whose cloud operation is not yet known to be done."""

    operation_id: str
    cluster_id: str
    requested_by: str  # Slack user id
    channel: str
    thread_ts: str | None  # where to reply when it is done
    requested_at: datetime


class Store:
    """Persistent state of the bot in SQLite or PostgreSQL. Open with :meth:`Store.open`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._dialect = engine.dialect.name

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to ``url`` and migrate its schema to the newest revision."""
        engine = create_engine(url)
        try:
            await apply_migrations(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    @property
    def engine(self) -> AsyncEngine:
        """The underlying engine, for tests and diagnostics."""
        return self._engine

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def ping(self) -> None:
        """Run ``SELECT 1``; raises the driver's own error if the database cannot be reached, so
        that readiness and ``check`` can name it."""
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; the database being unreachable becomes StoreUnavailable."""
        with _unavailable_as_store_error():
            async with self._engine.connect() as conn:
                yield conn

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction; it commits whole or not at all, and the database being
        unreachable becomes StoreUnavailable."""
        with _unavailable_as_store_error():
            async with self._writer.begin() as conn:
                yield conn

    # --- run claims ----------------------------------------------------------------------------

    async def claim_run(self, key: str, owner: str, *, now: datetime, lease: timedelta) -> bool:
        """Take the run ``key`` for ``owner`` until ``now + lease``; True if ``owner`` now holds it.

        Refused while another owner's lease runs, and forever once the run is finished. An owner
        that claims again renews its lease.
        """
        _check_lease(lease)
        until = now + lease
        async with self._writing() as conn:
            inserted = await conn.execute(
                self._insert(run_claims)
                .values(key=key, owner=owner, claimed_at=now, lease_until=until)
                .on_conflict_do_nothing(index_elements=[run_claims.c.key])
                .returning(run_claims.c.key)
            )
            if inserted.first() is not None:
                return True
            c = run_claims.c
            taken = await conn.execute(
                update(run_claims)
                .where(
                    c.key == key,
                    c.finished_at.is_(None),
                    or_(c.lease_until < now, c.owner == owner),
                )
                .values(
                    owner=owner,
                    lease_until=until,
                    claimed_at=case((c.owner == owner, c.claimed_at), else_=now),
                )
                .returning(c.key)
            )
            return taken.first() is not None

    async def renew_claim(self, key: str, owner: str, *, now: datetime, lease: timedelta) -> bool:
        """Extend ``owner``'s lease to ``now + lease``; False if it no longer holds the run."""
        _check_lease(lease)
        c = run_claims.c
        async with self._writing() as conn:
            renewed = await conn.execute(
                update(run_claims)
                .where(c.key == key, c.owner == owner, c.finished_at.is_(None))
                .values(lease_until=now + lease)
                .returning(c.key)
            )
            return renewed.first() is not None

    async def finish_run(self, key: str, owner: str, *, now: datetime) -> bool:
        """Mark the run done, so that no one claims it again; False if ``owner`` lost it."""
        c = run_claims.c
        async with self._writing() as conn:
            finished = await conn.execute(
                update(run_claims)
                .where(c.key == key, c.owner == owner)
                # Finishing twice keeps the first time: the call is safe to retry.
                .values(finished_at=func.coalesce(c.finished_at, now))
                .returning(c.key)
            )
            return finished.first() is not None

    async def release_run(self, key: str, owner: str) -> None:
        """Hand an unfinished run back (graceful shutdown): any replica may claim it at once."""
        c = run_claims.c
        async with self._writing() as conn:
            await conn.execute(
                update(run_claims)
                .where(c.key == key, c.owner == owner, c.finished_at.is_(None))
                .values(lease_until=RELEASED)
            )

    async def run_finished(self, key: str) -> bool:
        """Whether the run ``key`` was finished by someone."""
        c = run_claims.c
        async with self._reading() as conn:
            finished_at = await conn.scalar(select(c.finished_at).where(c.key == key))
            return finished_at is not None

    # --- alert incidents -----------------------------------------------------------------------

    async def get_alert(self, cluster_id: str, route_key: str) -> AlertEntry | None:
        """The incident of ``cluster_id`` on the alert route ``route_key``, if any."""
        c = alerts.c
        async with self._reading() as conn:
            result = await conn.execute(
                _alerts_query().where(c.cluster_id == cluster_id, c.route_key == route_key)
            )
            row = result.first()
            return None if row is None else _alert_from_row(row)

    async def list_alerts(
        self,
        *,
        route_key: str | None = None,
        open_only: bool = False,
        group_id: str | None = None,
    ) -> list[AlertEntry]:
        """Incidents, optionally of one route, one group and only open ones, by route then
        cluster."""
        c = alerts.c
        query = _alerts_query().order_by(c.route_key, c.cluster_id)
        if route_key is not None:
            query = query.where(c.route_key == route_key)
        if group_id is not None:
            query = query.where(c.group_id == group_id)
        if open_only:
            query = query.where(c.status.in_(_OPEN_STATUSES))
        async with self._reading() as conn:
            result = await conn.execute(query)
            return [_alert_from_row(row) for row in result]

    async def save_alert(self, entry: AlertEntry) -> AlertEntry | None:
        """Save ``entry`` if nobody saved since it was read; the saved entry, or None if stale.

        ``entry.version`` is the version it was read at (0: new). The returned entry carries the
        next version, to be passed to the next save.
        """
        committed = await self.commit(Change(alerts=[entry]))
        return None if committed is None else committed.alerts[0]

    async def _save_alert(self, conn: AsyncConnection, entry: AlertEntry) -> AlertEntry:
        """Save ``entry`` guarded by its version, within ``conn``'s transaction; raises _Stale."""
        if entry.version < 0:
            raise ValueError(f"alert version must not be negative, got {entry.version}")
        values = _alert_values(entry)
        next_version = entry.version + 1
        c = alerts.c
        if entry.version == 0:
            result = await conn.execute(
                self._insert(alerts)
                .values(**values, version=next_version)
                .on_conflict_do_nothing(index_elements=[c.cluster_id, c.route_key])
                .returning(c.version)
            )
        else:
            result = await conn.execute(
                update(alerts)
                .where(
                    c.cluster_id == entry.cluster_id,
                    c.route_key == entry.route_key,
                    c.version == entry.version,
                )
                .values(**values, version=next_version)
                .returning(c.version)
            )
        if result.first() is None:
            raise _Stale
        return replace(entry, version=next_version)

    # --- digest figures ------------------------------------------------------------------------

    async def get_figures(self, route_key: str) -> dict[str, ClusterFigures]:
        """What the last digest of ``route_key`` showed, by cluster id."""
        c = digest_figures.c
        async with self._reading() as conn:
            result = await conn.execute(
                select(digest_figures).where(c.route_key == route_key).order_by(c.cluster_id)
            )
            return {
                row.cluster_id: ClusterFigures(
                    cluster_id=row.cluster_id,
                    newest_backup_id=row.newest_backup_id,
                    newest_size_bytes=row.newest_size_bytes,
                    newest_indices_total=row.newest_indices_total,
                    backup_count=row.backup_count,
                    taken_at=row.taken_at,
                )
                for row in result
            }

    async def save_figures(self, route_key: str, figures: Iterable[ClusterFigures]) -> None:
        """Replace the figures of ``route_key`` with ``figures``, all at once."""
        async with self._writing() as conn:
            await self._replace_figures(conn, route_key, figures)

    async def _replace_figures(
        self, conn: AsyncConnection, route_key: str, figures: Iterable[ClusterFigures]
    ) -> None:
        rows = [
            {
                "route_key": route_key,
                "cluster_id": f.cluster_id,
                "newest_backup_id": f.newest_backup_id,
                "newest_size_bytes": f.newest_size_bytes,
                "newest_indices_total": f.newest_indices_total,
                "backup_count": f.backup_count,
                "taken_at": f.taken_at,
            }
            for f in figures
        ]
        cluster_ids = [row["cluster_id"] for row in rows]
        if len(set(cluster_ids)) != len(cluster_ids):
            raise ValueError(f"figures of route {route_key!r} name a cluster twice")
        # Two replacements of one route must not interleave their DELETE and INSERT (the second
        # INSERT would collide). SQLite's write lock already serialises them.
        await self._lock(conn, f"figures:{route_key}")
        await conn.execute(delete(digest_figures).where(digest_figures.c.route_key == route_key))
        if rows:
            await conn.execute(insert(digest_figures), rows)

    # --- sweep and digest bookkeeping ----------------------------------------------------------

    async def record_sweep(self, *, ok: bool, now: datetime) -> int:
        """Count a sweep; the consecutive failures after it (0 when ``ok``).

        Also sets the markers ``last_sweep`` and, when ``ok``, ``last_sweep_ok`` to ``now``.
        """
        c = counters.c
        async with self._writing() as conn:
            result = await conn.execute(
                self._insert(counters)
                .values(name=COUNTER_SWEEP_FAILURES, value=0 if ok else 1)
                .on_conflict_do_update(
                    index_elements=[c.name],
                    set_={"value": 0 if ok else c.value + 1},
                )
                .returning(c.value)
            )
            failures = int(result.scalar_one())
            await self._upsert_marker(conn, MARKER_LAST_SWEEP, now)
            if ok:
                await self._upsert_marker(conn, MARKER_LAST_SWEEP_OK, now)
            return failures

    async def sweep_failures(self) -> int:
        """The consecutive failed sweeps so far, as ``record_sweep`` last counted them."""
        async with self._reading() as conn:
            value = await conn.scalar(
                select(counters.c.value).where(counters.c.name == COUNTER_SWEEP_FAILURES)
            )
            return int(value or 0)

    async def get_marker(self, name: str) -> datetime | None:
        """The time recorded under ``name``, if any."""
        async with self._reading() as conn:
            at: datetime | None = await conn.scalar(
                select(markers.c.at).where(markers.c.name == name)
            )
            return at

    async def set_marker(self, name: str, at: datetime) -> None:
        """Record ``at`` under ``name``, replacing what was there."""
        async with self._writing() as conn:
            await self._upsert_marker(conn, name, at)

    # --- facts ---------------------------------------------------------------------------------

    async def get_fact(self, key: str) -> str | None:
        """The value remembered under ``key``, if any."""
        async with self._reading() as conn:
            value: str | None = await conn.scalar(select(facts.c.value).where(facts.c.key == key))
            return value

    async def set_fact(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key``, replacing what was there."""
        async with self._writing() as conn:
            await self._upsert(conn, facts, {"key": key, "value": value}, key_column="key")

    async def delete_facts(self, *keys: str) -> None:
        """Forget the facts under ``keys`` (unknown keys are fine)."""
        if not keys:
            return
        async with self._writing() as conn:
            await conn.execute(delete(facts).where(facts.c.key.in_(keys)))

    async def prune(self, *, before: datetime) -> int:
        """Forget history older than ``before``: finished run claims, finished started backups,
        incidents and grouped alerts resolved before it, and delivered posts no open incident
        still refers to. Open or unfinished work is never touched. Returns the number of rows
        removed. Without this the claims table grows by a row every sweep."""
        removed = 0
        o, a, g = outbox.c, alerts.c, alert_groups.c
        still_referred = (
            select(a.message_id)
            .where(a.status.in_(_OPEN_STATUSES), a.message_id.is_not(None))
            .union(select(g.message_id).where(g.resolved_at.is_(None)))
        )
        waiting_children = select(_parent.c.parent_id).where(
            _parent.c.state.in_(OutboxState.OPEN), _parent.c.parent_id.is_not(None)
        )
        async with self._writing() as conn:
            for statement in (
                delete(run_claims).where(
                    run_claims.c.finished_at.is_not(None), run_claims.c.finished_at < before
                ),
                delete(operations).where(
                    operations.c.finished_at.is_not(None), operations.c.finished_at < before
                ),
                delete(alerts).where(
                    alerts.c.status == AlertStatus.RESOLVED.value, alerts.c.resolved_at < before
                ),
                delete(alert_groups).where(
                    alert_groups.c.resolved_at.is_not(None), alert_groups.c.resolved_at < before
                ),
                delete(outbox).where(
                    o.state.in_(OutboxState.DONE),
                    o.finished_at < before,
                    o.id.not_in(still_referred),
                    o.id.not_in(waiting_children),
                ),
            ):
                result = await conn.execute(statement)
                removed += result.rowcount or 0
        return removed

    # --- backups started from Slack ------------------------------------------------------------

    async def record_operation(
        self,
        operation_id: str,
        cluster_id: str,
        requested_by: str,
        channel: str,
        thread_ts: str | None,
        *,
        now: datetime,
    ) -> None:
        """Remember a started backup until its operation is done. Recording it twice is a no-op."""
        async with self._writing() as conn:
            await conn.execute(
                self._insert(operations)
                .values(
                    operation_id=operation_id,
                    cluster_id=cluster_id,
                    requested_by=requested_by,
                    channel=channel,
                    thread_ts=thread_ts,
                    requested_at=now,
                )
                .on_conflict_do_nothing(index_elements=[operations.c.operation_id])
            )

    async def list_pending_operations(self) -> list[PendingOperation]:
        """Started backups not yet finished, oldest first."""
        c = operations.c
        async with self._reading() as conn:
            result = await conn.execute(
                select(
                    c.operation_id,
                    c.cluster_id,
                    c.requested_by,
                    c.channel,
                    c.thread_ts,
                    c.requested_at,
                )
                .where(c.finished_at.is_(None))
                .order_by(c.requested_at, c.operation_id)
            )
            return [
                PendingOperation(
                    operation_id=row.operation_id,
                    cluster_id=row.cluster_id,
                    requested_by=row.requested_by,
                    channel=row.channel,
                    thread_ts=row.thread_ts,
                    requested_at=row.requested_at,
                )
                for row in result
            ]

    async def finish_operation(self, operation_id: str, *, outcome: str, now: datetime) -> None:
        """Mark a started backup done with ``outcome``; the first finish wins."""
        c = operations.c
        async with self._writing() as conn:
            await conn.execute(
                update(operations)
                .where(c.operation_id == operation_id, c.finished_at.is_(None))
                .values(finished_at=now, outcome=outcome)
            )

    # --- one change, all at once ---------------------------------------------------------------

    async def commit(self, change: Change, *, now: datetime | None = None) -> Committed | None:
        """Write ``change`` in one transaction; None, with nothing written, if any guarded row
        (an incident, a group, a bot incident, the run to finish) moved on since it was read.

        ``now`` dates the queued posts (required when there are any)."""
        if change.posts and now is None:
            raise ValueError("queued posts need a now")
        try:
            async with self._writing() as conn:
                saved_alerts = [await self._save_alert(conn, e) for e in change.alerts]
                saved_groups = [await self._save_group(conn, g) for g in change.groups]
                saved_incidents = [await self._save_incident(conn, i) for i in change.incidents]
                if change.posts:
                    assert now is not None
                    await conn.execute(insert(outbox), [_post_values(p, now) for p in change.posts])
                if change.figures is not None:
                    await self._replace_figures(conn, *change.figures)
                if change.finish_run is not None:
                    finish = change.finish_run
                    c = run_claims.c
                    done = await conn.execute(
                        update(run_claims)
                        .where(c.key == finish.key, c.owner == finish.owner)
                        .values(finished_at=func.coalesce(c.finished_at, finish.now))
                        .returning(c.key)
                    )
                    if done.first() is None:
                        raise _Stale
                if change.finish_operation is not None:
                    op = change.finish_operation
                    finished = await conn.execute(
                        update(operations)
                        .where(
                            operations.c.operation_id == op.operation_id,
                            operations.c.finished_at.is_(None),
                        )
                        .values(finished_at=op.now, outcome=op.outcome)
                        .returning(operations.c.operation_id)
                    )
                    if finished.first() is None:
                        raise _Stale  # finished by someone else: its message is theirs
                for name, at in change.markers.items():
                    await self._upsert_marker(conn, name, at)
        except _Stale:
            return None
        return Committed(tuple(saved_alerts), tuple(saved_groups), tuple(saved_incidents))

    # --- the outbox ----------------------------------------------------------------------------

    async def due_channels(self, now: datetime) -> list[str]:
        """Channels with a post to send by ``now``, oldest queued first; none while the token
        is parked, and not the channels parked until later."""
        o, p = outbox.c, channel_problems.c
        parked = select(p.channel).where(p.next_try > now)
        query = (
            select(o.channel)
            .where(
                o.state.in_(OutboxState.OPEN),
                o.not_before <= now,
                o.channel.not_in(parked),
                ~exists(parked.where(p.channel == EVERY_CHANNEL)),
            )
            .group_by(o.channel)
            .order_by(func.min(o.seq))
        )
        async with self._reading() as conn:
            return [str(channel) for channel in (await conn.scalars(query))]

    async def head_post(self, channel: str) -> QueuedPost | None:
        """The oldest post of ``channel`` not yet sent, with its parent's state and ts."""
        o = outbox.c
        query = (
            _queued_query()
            .where(o.channel == channel, o.state.in_(OutboxState.OPEN))
            .order_by(o.seq)
            .limit(1)
        )
        async with self._reading() as conn:
            row = (await conn.execute(query)).first()
            return None if row is None else _queued_from_row(row)

    async def get_post(self, post_id: str) -> QueuedPost | None:
        """The queued post ``post_id``, in whatever state."""
        async with self._reading() as conn:
            row = (await conn.execute(_queued_query().where(outbox.c.id == post_id))).first()
            return None if row is None else _queued_from_row(row)

    async def list_posts(
        self, *, states: tuple[str, ...] | None = None, ids: list[str] | None = None
    ) -> list[QueuedPost]:
        """Queued posts in queue order, optionally of some states or ids only."""
        query = _queued_query().order_by(outbox.c.seq)
        if states is not None:
            query = query.where(outbox.c.state.in_(states))
        if ids is not None:
            query = query.where(outbox.c.id.in_(ids))
        async with self._reading() as conn:
            return [_queued_from_row(row) for row in await conn.execute(query)]

    async def count_posts(self) -> dict[str, int]:
        """How many queued posts are in each state."""
        o = outbox.c
        async with self._reading() as conn:
            rows = await conn.execute(select(o.state, func.count()).group_by(o.state))
            return {str(state): int(count) for state, count in rows}

    async def mark_sending(self, seq: int, *, now: datetime) -> None:
        """An attempt starts: from here until its answer is recorded the post is in doubt."""
        o = outbox.c
        async with self._writing() as conn:
            await conn.execute(
                update(outbox)
                .where(o.seq == seq)
                .values(
                    state=OutboxState.SENDING,
                    attempts=o.attempts + 1,
                    first_sent_at=func.coalesce(o.first_sent_at, now),
                )
            )

    async def mark_sent(self, seq: int, ts: str, *, now: datetime) -> None:
        """Slack has the post (at ``ts``). A digest's top post also sets ``last_digest``."""
        o = outbox.c
        async with self._writing() as conn:
            result = await conn.execute(
                update(outbox)
                .where(o.seq == seq)
                .values(state=OutboxState.SENT, ts=ts, finished_at=now, in_doubt=False, error=None)
                .returning(o.kind)
            )
            if result.scalar() == PostKind.DIGEST.value:
                await self._upsert_marker(conn, MARKER_LAST_DIGEST, now)

    async def mark_retry(
        self, seq: int, *, not_before: datetime, error: str, in_doubt: bool | None = None
    ) -> None:
        """Not sent this time: try again at ``not_before``. ``in_doubt`` True means it may be in
        the channel (look before posting again); None keeps what the row said."""
        o = outbox.c
        values: dict[str, Any] = {
            "state": OutboxState.PENDING,
            "not_before": not_before,
            "error": error[:255],
        }
        if in_doubt is not None:
            values["in_doubt"] = in_doubt
        async with self._writing() as conn:
            await conn.execute(update(outbox).where(o.seq == seq).values(**values))

    async def mark_text_only(self, seq: int) -> None:
        """Slack refused the blocks: the post goes again, at once, as its text only."""
        o = outbox.c
        async with self._writing() as conn:
            await conn.execute(
                update(outbox).where(o.seq == seq).values(state=OutboxState.PENDING, text_only=True)
            )

    async def mark_failed(self, seq: int, *, error: str, now: datetime) -> None:
        """Give the post up: it is refused for good."""
        o = outbox.c
        async with self._writing() as conn:
            await conn.execute(
                update(outbox)
                .where(o.seq == seq)
                .values(state=OutboxState.FAILED, error=error[:255], finished_at=now)
            )

    async def supersede(self, post: QueuedPost, *, now: datetime) -> bool:
        """Drop an update if a newer one of the same message waits behind it; whether it did."""
        o = outbox.c
        newer = outbox.alias("newer")
        n = newer.c
        async with self._writing() as conn:
            result = await conn.execute(
                update(outbox)
                .where(
                    o.seq == post.seq,
                    o.method == Method.UPDATE.value,
                    exists(
                        select(n.seq).where(
                            n.channel == post.channel,
                            n.method == Method.UPDATE.value,
                            n.state == OutboxState.PENDING,
                            n.seq > post.seq,
                            _same_target(n, post),
                        )
                    ),
                )
                .values(state=OutboxState.SUPERSEDED, finished_at=now)
                .returning(o.seq)
            )
            return result.first() is not None

    # --- channels that refuse the bot ----------------------------------------------------------

    async def park_channel(
        self, channel: str, *, code: str, now: datetime, next_try: datetime
    ) -> bool:
        """Hold every post of ``channel`` (``"*"``: of every channel) until ``next_try``;
        True when it was not parked before (a new problem, to report once)."""
        c = channel_problems.c
        async with self._writing() as conn:
            inserted = await conn.execute(
                self._insert(channel_problems)
                .values(channel=channel, code=code[:255], since=now, next_try=next_try)
                .on_conflict_do_nothing(index_elements=[c.channel])
                .returning(c.channel)
            )
            if inserted.first() is not None:
                return True
            await conn.execute(
                update(channel_problems)
                .where(c.channel == channel)
                .values(code=code[:255], next_try=next_try)
            )
            return False

    async def unpark_channel(self, channel: str) -> ChannelProblem | None:
        """The channel took a post again: forget its problem; the problem it had, if any."""
        c = channel_problems.c
        async with self._writing() as conn:
            result = await conn.execute(
                delete(channel_problems).where(c.channel == channel).returning(*channel_problems.c)
            )
            row = result.first()
        return None if row is None else _problem_from_row(row)

    async def channel_problems(self) -> list[ChannelProblem]:
        """Every parked channel (``"*"`` for the token), by channel."""
        c = channel_problems.c
        async with self._reading() as conn:
            rows = await conn.execute(select(channel_problems).order_by(c.channel))
            return [_problem_from_row(row) for row in rows]

    async def retry_parked(self, *, now: datetime) -> int:
        """Try every parked channel again now (at start, after a config reload); how many."""
        c = channel_problems.c
        async with self._writing() as conn:
            result = await conn.execute(
                update(channel_problems).where(c.next_try > now).values(next_try=now)
            )
            return result.rowcount or 0

    # --- grouped alerts and the bot's own incidents --------------------------------------------

    async def list_groups(
        self, *, route_key: str | None = None, open_only: bool = False
    ) -> list[AlertGroup]:
        """Grouped alerts, optionally of one route and open only, oldest first."""
        g = alert_groups.c
        query = _groups_query().order_by(g.opened_at, g.id)
        if route_key is not None:
            query = query.where(g.route_key == route_key)
        if open_only:
            query = query.where(g.resolved_at.is_(None))
        async with self._reading() as conn:
            return [_group_from_row(row) for row in await conn.execute(query)]

    async def get_group(self, group_id: str) -> AlertGroup | None:
        async with self._reading() as conn:
            row = (await conn.execute(_groups_query().where(alert_groups.c.id == group_id))).first()
            return None if row is None else _group_from_row(row)

    async def get_incident(self, key: str) -> BotIncident | None:
        """The bot's own incident ``key`` ("blind", "channel:<id>"), if it ever had one."""
        async with self._reading() as conn:
            row = (
                await conn.execute(select(bot_incidents).where(bot_incidents.c.key == key))
            ).first()
            return None if row is None else _incident_from_row(row)

    async def list_incidents(self, *, open_only: bool = False) -> list[BotIncident]:
        query = select(bot_incidents).order_by(bot_incidents.c.key)
        if open_only:
            query = query.where(bot_incidents.c.status == BotIncidentStatus.OPEN.value)
        async with self._reading() as conn:
            return [_incident_from_row(row) for row in await conn.execute(query)]

    async def _save_group(self, conn: AsyncConnection, group: AlertGroup) -> AlertGroup:
        values = {
            "id": group.id,
            "route_key": group.route_key,
            "group_key": group.group_key,
            "label": group.label[:255],
            "channel": group.channel,
            "message_id": group.message_id,
            "opened_at": group.opened_at,
            "last_reminded_at": group.last_reminded_at,
            "resolved_at": group.resolved_at,
        }
        await self._guarded(conn, alert_groups, values, [alert_groups.c.id], group.version)
        return replace(group, version=group.version + 1)

    async def _save_incident(self, conn: AsyncConnection, incident: BotIncident) -> BotIncident:
        values = {
            "key": incident.key,
            "status": BotIncidentStatus(incident.status).value,
            "since": incident.since,
            "detail": incident.detail,
            "messages": dump_messages(incident.messages),
        }
        await self._guarded(conn, bot_incidents, values, [bot_incidents.c.key], incident.version)
        return replace(incident, version=incident.version + 1)

    async def _guarded(
        self,
        conn: AsyncConnection,
        table: Table,
        values: dict[str, Any],
        keys: list[Any],
        version: int,
    ) -> None:
        """Insert (version 0) or update (at ``version``) one row, bumping its version; raises
        _Stale when it was saved by someone else meanwhile."""
        if version < 0:
            raise ValueError(f"a version must not be negative, got {version}")
        if version == 0:
            result = await conn.execute(
                self._insert(table)
                .values(**values, version=1)
                .on_conflict_do_nothing(index_elements=keys)
                .returning(table.c.version)
            )
        else:
            result = await conn.execute(
                update(table)
                .where(*(key == values[key.name] for key in keys), table.c.version == version)
                .values(**values, version=version + 1)
                .returning(table.c.version)
            )
        if result.first() is None:
            raise _Stale

    # --- helpers -------------------------------------------------------------------------------

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that knows ON CONFLICT in this engine's dialect."""
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        if self._dialect == "sqlite":
            return sqlite.insert(table)
        raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {self._dialect}")

    async def _upsert(
        self, conn: AsyncConnection, table: Table, values: Mapping[str, Any], *, key_column: str
    ) -> None:
        key = table.c[key_column]
        await conn.execute(
            self._insert(table)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[key],
                set_={name: value for name, value in values.items() if name != key_column},
            )
        )

    async def _upsert_marker(self, conn: AsyncConnection, name: str, at: datetime) -> None:
        await self._upsert(conn, markers, {"name": name, "at": at}, key_column="name")

    async def _lock(self, conn: AsyncConnection, name: str) -> None:
        """Hold a PostgreSQL advisory lock on ``name`` until the transaction ends."""
        if self._dialect != "postgresql":
            return
        digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
        lock_id = int.from_bytes(digest, "big", signed=True)
        await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


#: What a database that is down, restarting, locked or overloaded raises: SQLAlchemy's wrappers of
#: the driver's errors, its pool timeout, and the OSError asyncpg raises when it cannot connect.
#: Constraint and programming errors are not among them: those are bugs and stay unexpected.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    OSError,
)


@contextmanager
def _unavailable_as_store_error() -> Iterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StoreUnavailable(f"the bot's database did not answer ({type(exc).__name__})") from exc
    except sa_exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        raise StoreUnavailable(
            f"the bot's database dropped the connection ({type(exc).__name__})"
        ) from exc


def _check_lease(lease: timedelta) -> None:
    if lease <= timedelta(0):
        raise ValueError(f"a lease must be positive, got {lease}")


def _alert_values(entry: AlertEntry) -> dict[str, Any]:
    """Every column of ``alerts`` but ``version``, from ``entry``."""
    return {
        "cluster_id": entry.cluster_id,
        "route_key": entry.route_key,
        "status": AlertStatus(entry.status).value,
        "channel": entry.channel,
        # With a message in the outbox its ts is the outbox's; only an incident opened before the
        # outbox keeps the ts it was posted at.
        "message_ts": entry.message_ts if entry.message_id is None else None,
        "message_id": entry.message_id,
        "group_id": entry.group_id,
        "cluster_name": entry.cluster_name[:255] or None,
        "folder_id": entry.folder_id[:255] or None,
        "opened_at": entry.opened_at,
        "stale_since": entry.stale_since,
        "last_notified_at": entry.last_notified_at,
        "acknowledged_by": entry.acknowledged_by,
        "acknowledged_at": entry.acknowledged_at,
        "snoozed_until": entry.snoozed_until,
        "snoozed_by": entry.snoozed_by,
        "resolved_at": entry.resolved_at,
        "last_state": None if entry.last_state is None else FreshnessState(entry.last_state).value,
        "newest_backup_at": entry.newest_backup_at,
    }


def _alerts_query() -> Select[Any]:
    """Incidents with the ts of their message, once the outbox has posted it."""
    return select(alerts, _message.c.ts.label("message_sent_ts")).outerjoin(
        _message, _message.c.id == alerts.c.message_id
    )


def _alert_from_row(row: Row[Any]) -> AlertEntry:
    return AlertEntry(
        cluster_id=row.cluster_id,
        route_key=row.route_key,
        status=AlertStatus(row.status),
        channel=row.channel,
        message_ts=row.message_sent_ts if row.message_id is not None else row.message_ts,
        message_id=row.message_id,
        group_id=row.group_id,
        cluster_name=row.cluster_name or "",
        folder_id=row.folder_id or "",
        opened_at=row.opened_at,
        stale_since=row.stale_since,
        last_notified_at=row.last_notified_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        snoozed_until=row.snoozed_until,
        snoozed_by=row.snoozed_by,
        resolved_at=row.resolved_at,
        last_state=None if row.last_state is None else FreshnessState(row.last_state),
        newest_backup_at=row.newest_backup_at,
        version=row.version,
    )


def _post_values(post: OutboundPost, now: datetime) -> dict[str, Any]:
    return {
        "id": post.id,
        "kind": post.kind.value,
        "channel": post.channel,
        "method": post.method.value,
        "payload": dump_payload(post.payload),
        "parent_id": post.parent_id,
        "parent_ts": post.parent_ts,
        "subject": post.subject[:255],
        "state": OutboxState.PENDING,
        "attempts": 0,
        "created_at": now,
        "not_before": now,
        "first_sent_at": None,
        "in_doubt": False,
        "text_only": False,
        "finished_at": None,
        "ts": None,
        "error": None,
    }


def _queued_query() -> Select[Any]:
    return select(
        outbox,
        _parent.c.state.label("parent_state"),
        _parent.c.ts.label("parent_sent_ts"),
    ).outerjoin(_parent, _parent.c.id == outbox.c.parent_id)


def _queued_from_row(row: Row[Any]) -> QueuedPost:
    return QueuedPost(
        seq=int(row.seq),
        id=row.id,
        kind=PostKind(row.kind),
        channel=row.channel,
        payload=load_payload(row.payload),
        parent_id=row.parent_id,
        parent_ts=row.parent_ts,
        subject=row.subject,
        state=row.state,
        attempts=int(row.attempts),
        created_at=row.created_at,
        not_before=row.not_before,
        first_sent_at=row.first_sent_at,
        in_doubt=bool(row.in_doubt),
        text_only=bool(row.text_only),
        ts=row.ts,
        error=row.error,
        parent_state=row.parent_state,
        parent_sent_ts=row.parent_sent_ts,
    )


def _same_target(columns: Any, post: QueuedPost) -> Any:
    """Rows that update the same message as ``post``."""
    if post.parent_id is not None:
        return columns.parent_id == post.parent_id
    if post.parent_ts is not None:
        return and_(columns.parent_id.is_(None), columns.parent_ts == post.parent_ts)
    return literal(False)


def _groups_query() -> Select[Any]:
    return select(alert_groups, _message.c.ts.label("message_sent_ts")).outerjoin(
        _message, _message.c.id == alert_groups.c.message_id
    )


def _group_from_row(row: Row[Any]) -> AlertGroup:
    return AlertGroup(
        id=row.id,
        route_key=row.route_key,
        group_key=row.group_key,
        label=row.label,
        channel=row.channel,
        message_id=row.message_id,
        opened_at=row.opened_at,
        last_reminded_at=row.last_reminded_at,
        resolved_at=row.resolved_at,
        message_ts=row.message_sent_ts,
        version=int(row.version),
    )


def _incident_from_row(row: Row[Any]) -> BotIncident:
    return BotIncident(
        key=row.key,
        status=BotIncidentStatus(row.status),
        since=row.since,
        detail=row.detail,
        messages=load_messages(row.messages),
        version=int(row.version),
    )


def _problem_from_row(row: Row[Any]) -> ChannelProblem:
    return ChannelProblem(
        channel=row.channel, code=row.code, since=row.since, next_try=row.next_try
    )
