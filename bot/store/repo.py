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

from sqlalchemy import Row, Table, case, delete, func, insert, or_, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.types import AlertEntry, AlertStatus, ClusterFigures, FreshnessState
from bot.errors import StoreUnavailable
from bot.store.db import apply_migrations, create_engine, writer
from bot.store.tables import (
    alerts,
    counters,
    digest_figures,
    facts,
    markers,
    operations,
    run_claims,
)

#: Marker names the store itself sets in ``record_sweep``.
MARKER_LAST_SWEEP = "last_sweep"
MARKER_LAST_SWEEP_OK = "last_sweep_ok"
COUNTER_SWEEP_FAILURES = "sweep_failures"

#: A released claim's lease ends here: before any ``now`` a caller can pass, so the next claimer
#: takes it whatever its clock says.
RELEASED = datetime(1970, 1, 1, tzinfo=UTC)

_OPEN_STATUSES = tuple(status.value for status in AlertStatus if status.is_open)


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
                select(alerts).where(c.cluster_id == cluster_id, c.route_key == route_key)
            )
            row = result.first()
            return None if row is None else _alert_from_row(row)

    async def list_alerts(
        self, *, route_key: str | None = None, open_only: bool = False
    ) -> list[AlertEntry]:
        """Incidents, optionally of one route and only open ones, by route then cluster."""
        c = alerts.c
        query = select(alerts).order_by(c.route_key, c.cluster_id)
        if route_key is not None:
            query = query.where(c.route_key == route_key)
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
        if entry.version < 0:
            raise ValueError(f"alert version must not be negative, got {entry.version}")
        values = _alert_values(entry)
        next_version = entry.version + 1
        c = alerts.c
        async with self._writing() as conn:
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
                return None
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
        async with self._writing() as conn:
            # Two replacements of one route must not interleave their DELETE and INSERT (the
            # second INSERT would collide). SQLite's write lock already serialises them.
            await self._lock(conn, f"figures:{route_key}")
            await conn.execute(
                delete(digest_figures).where(digest_figures.c.route_key == route_key)
            )
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
        """Forget history older than ``before``: finished run claims, finished started backups
        and incidents resolved before it. Open or unfinished work is never touched. Returns the
        number of rows removed. Without this the claims table grows by a row every sweep."""
        removed = 0
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
        "message_ts": entry.message_ts,
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


def _alert_from_row(row: Row[Any]) -> AlertEntry:
    return AlertEntry(
        cluster_id=row.cluster_id,
        route_key=row.route_key,
        status=AlertStatus(row.status),
        channel=row.channel,
        message_ts=row.message_ts,
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
