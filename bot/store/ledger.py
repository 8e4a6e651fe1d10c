"""The freshness ledger's store: every backup the sweep has seen, each cluster's maximum age and
state over time, and the spans of time whose backups the bot can vouch for.

:func:`write_observations` runs inside the sweep's unit of work (:meth:`bot.store.Store.commit`),
so what a sweep saw is kept whole or not at all: a span never reaches past backups that were not
written with it. :class:`Ledger` reads a period back as :class:`bot.ledger.model.ClusterHistory`
values and prunes what is older than the retention.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Table, and_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ledger.model import (
    ClusterHistory,
    ClusterState,
    Latest,
    MaxAgeChange,
    Observation,
    SeenBackup,
    Span,
    StartedBackup,
    StateChange,
)
from bot.ledger.policy import next_span
from bot.store.db import Database
from bot.store.sql import dialect_insert
from bot.store.tables import (
    ledger_backups,
    ledger_clusters,
    ledger_max_ages,
    ledger_spans,
    ledger_states,
    operations,
)

#: How late after its completion the cloud may first list a backup and still have it kept.
LATE_LISTING = timedelta(days=1)

#: Ids per IN (...) list: well within SQLite's and asyncpg's limits on bound parameters.
_CHUNK = 500


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


async def _latest(conn: AsyncConnection, table: Table, key: str, ids: Sequence[str]) -> list[Any]:
    """The newest row (by ``key``) of each of ``ids`` in ``table``."""
    rows: list[Any] = []
    c = table.c
    for chunk in _chunks(ids):
        newest = (
            select(c.cluster_id, func.max(c[key]).label("newest"))
            .where(c.cluster_id.in_(chunk))
            .group_by(c.cluster_id)
            .subquery()
        )
        result = await conn.execute(
            select(table).join(
                newest, and_(c.cluster_id == newest.c.cluster_id, c[key] == newest.c.newest)
            )
        )
        rows.extend(result)
    return rows


async def write_observations(conn: AsyncConnection, observations: Sequence[Observation]) -> None:
    """Keep what one read of the fleet saw, within ``conn``'s transaction: new backups, the
    clusters' names, their spans extended (or begun again), changes of maximum age and state."""
    if not observations:
        return
    by_id = {o.cluster_id: o for o in observations}
    ids = sorted(by_id)

    cc = ledger_clusters.c
    insert_clusters = dialect_insert(conn, ledger_clusters)
    await conn.execute(
        insert_clusters.on_conflict_do_update(
            index_elements=[cc.cluster_id],
            set_={
                "name": insert_clusters.excluded.name,
                "folder_id": insert_clusters.excluded.folder_id,
                "labels": insert_clusters.excluded.labels,
                "environment": insert_clusters.excluded.environment,
                "last_seen_at": insert_clusters.excluded.last_seen_at,
            },
        ),
        [
            {
                "cluster_id": o.cluster_id,
                "name": o.name,
                "folder_id": o.folder_id,
                "labels": json.dumps(dict(o.labels), sort_keys=True),
                "environment": o.environment,
                "first_seen_at": o.at,
                "last_seen_at": o.at,
            }
            for o in observations
        ],
    )

    # Backups: a cluster lists the same ones sweep after sweep, so only those completed after
    # the newest one kept (less LATE_LISTING, for one the cloud lists late) are offered; a
    # conflict with one already kept is nothing.
    bc = ledger_backups.c
    newest_kept: dict[str, datetime] = {}
    for chunk in _chunks(ids):
        result = await conn.execute(
            select(bc.cluster_id, func.max(bc.completed_at).label("newest"))
            .where(bc.cluster_id.in_(chunk))
            .group_by(bc.cluster_id)
        )
        newest_kept.update((row.cluster_id, row.newest) for row in result)
    new_backups = [
        {
            "cluster_id": o.cluster_id,
            "backup_id": b.backup_id,
            "started_at": b.started_at,
            "completed_at": b.completed_at,
            "size_bytes": b.size_bytes,
        }
        for o in observations
        for b in o.backups
        if o.cluster_id not in newest_kept
        or b.completed_at >= newest_kept[o.cluster_id] - LATE_LISTING
    ]
    if new_backups:
        await conn.execute(
            dialect_insert(conn, ledger_backups).on_conflict_do_nothing(), new_backups
        )

    # Spans: the newest one extended to this read, or a new one after a gap nobody saw.
    sc = ledger_spans.c
    latest_spans = {
        row.cluster_id: Span(row.span_start, row.span_end)
        for row in await _latest(conn, ledger_spans, "span_start", ids)
    }
    extended: list[dict[str, Any]] = []
    begun: list[dict[str, Any]] = []
    for cluster_id in ids:
        latest = latest_spans.get(cluster_id)
        span = next_span(latest, by_id[cluster_id])
        if span is None:
            continue
        if latest is not None and span.start == latest.start:
            extended.append({"cid": cluster_id, "start": span.start, "end": span.end})
        else:
            begun.append({"cluster_id": cluster_id, "span_start": span.start, "span_end": span.end})
    if extended:
        await conn.execute(
            update(ledger_spans)
            .where(
                sc.cluster_id == bindparam("cid"),
                sc.span_start == bindparam("start"),
                sc.span_end < bindparam("end"),
            )
            .values(span_end=bindparam("end")),
            extended,
        )
    if begun:
        await conn.execute(dialect_insert(conn, ledger_spans).on_conflict_do_nothing(), begun)

    # The maximum age and the state: a row when they change.
    latest_max_age = {
        row.cluster_id: (row.since, row.max_age_seconds, row.source)
        for row in await _latest(conn, ledger_max_ages, "since", ids)
    }
    max_age_rows = []
    for o in observations:
        seconds = int(o.max_age.total_seconds())
        before = latest_max_age.get(o.cluster_id)
        if before is not None and (before[0] >= o.at or before[1:] == (seconds, o.max_age_source)):
            continue
        max_age_rows.append(
            {
                "cluster_id": o.cluster_id,
                "since": o.at,
                "max_age_seconds": seconds,
                "source": o.max_age_source,
            }
        )
    if max_age_rows:
        await conn.execute(
            dialect_insert(conn, ledger_max_ages).on_conflict_do_nothing(), max_age_rows
        )
    latest_state = {
        row.cluster_id: (row.since, row.state)
        for row in await _latest(conn, ledger_states, "since", ids)
    }
    state_rows = []
    for o in observations:
        before_state = latest_state.get(o.cluster_id)
        if before_state is not None and (
            before_state[0] >= o.at or before_state[1] == o.state.value
        ):
            continue
        state_rows.append({"cluster_id": o.cluster_id, "since": o.at, "state": o.state.value})
    if state_rows:
        await conn.execute(dialect_insert(conn, ledger_states).on_conflict_do_nothing(), state_rows)


def _labels(raw: str) -> tuple[tuple[str, str], ...]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return ()
    if not isinstance(value, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def _aware(value: datetime | None) -> datetime | None:
    """A time read back through an aggregate, in UTC (SQLite's come back naive)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _state(value: str) -> ClusterState:
    try:
        return ClusterState(value)
    except ValueError:
        return ClusterState.RUNNING


class Ledger:
    """Reads the ledger back and prunes it; each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def cluster_ids(self) -> list[str]:
        """Every cluster the ledger keeps."""
        async with self._db.reading() as conn:
            result = await conn.execute(
                select(ledger_clusters.c.cluster_id).order_by(ledger_clusters.c.cluster_id)
            )
            return [row.cluster_id for row in result]

    async def histories(
        self, *, start: datetime, end: datetime, cluster_ids: Iterable[str] | None = None
    ) -> list[ClusterHistory]:
        """What the ledger keeps of each cluster (of ``cluster_ids``, or every one) for the
        period [start, end): its backups in it and the newest before it, the maximum age and
        state in force at its start and their changes in it, and the spans that overlap it."""
        cc, bc, sc = ledger_clusters.c, ledger_backups.c, ledger_spans.c
        wanted = None if cluster_ids is None else sorted(set(cluster_ids))
        async with self._db.reading() as conn:
            query = select(ledger_clusters).order_by(cc.cluster_id)
            clusters = list(await conn.execute(query))
            if wanted is not None:
                keep = set(wanted)
                clusters = [row for row in clusters if row.cluster_id in keep]
            ids = [row.cluster_id for row in clusters]
            backups: dict[str, list[SeenBackup]] = defaultdict(list)
            spans: dict[str, list[Span]] = defaultdict(list)
            max_ages: dict[str, list[MaxAgeChange]] = defaultdict(list)
            states: dict[str, list[StateChange]] = defaultdict(list)
            for chunk in _chunks(ids):
                before = (
                    select(bc.cluster_id, func.max(bc.completed_at).label("newest"))
                    .where(bc.cluster_id.in_(chunk), bc.completed_at < start)
                    .group_by(bc.cluster_id)
                    .subquery()
                )
                earlier = select(ledger_backups).join(
                    before,
                    and_(bc.cluster_id == before.c.cluster_id, bc.completed_at == before.c.newest),
                )
                within = select(ledger_backups).where(
                    bc.cluster_id.in_(chunk), bc.completed_at >= start, bc.completed_at < end
                )
                for query in (earlier, within):
                    for row in await conn.execute(query):
                        backups[row.cluster_id].append(
                            SeenBackup(
                                row.backup_id, row.completed_at, row.started_at, row.size_bytes
                            )
                        )
                result = await conn.execute(
                    select(ledger_spans).where(
                        sc.cluster_id.in_(chunk), sc.span_start < end, sc.span_end > start
                    )
                )
                for row in result:
                    spans[row.cluster_id].append(Span(row.span_start, row.span_end))
                result = await conn.execute(
                    select(ledger_max_ages).where(
                        ledger_max_ages.c.cluster_id.in_(chunk), ledger_max_ages.c.since < end
                    )
                )
                for row in result:
                    max_ages[row.cluster_id].append(
                        MaxAgeChange(row.since, timedelta(seconds=row.max_age_seconds), row.source)
                    )
                # A cluster first seen after the period: the maximum age it was first seen with
                # applies to what the cloud listed then (the backups from before).
                missing = [i for i in chunk if not max_ages[i]]
                if missing:
                    mc = ledger_max_ages.c
                    first = (
                        select(mc.cluster_id, func.min(mc.since).label("first"))
                        .where(mc.cluster_id.in_(missing))
                        .group_by(mc.cluster_id)
                        .subquery()
                    )
                    result = await conn.execute(
                        select(ledger_max_ages).join(
                            first,
                            and_(mc.cluster_id == first.c.cluster_id, mc.since == first.c.first),
                        )
                    )
                    for row in result:
                        max_ages[row.cluster_id].append(
                            MaxAgeChange(
                                row.since, timedelta(seconds=row.max_age_seconds), row.source
                            )
                        )
                result = await conn.execute(
                    select(ledger_states).where(
                        ledger_states.c.cluster_id.in_(chunk), ledger_states.c.since < end
                    )
                )
                for row in result:
                    states[row.cluster_id].append(StateChange(row.since, _state(row.state)))
        return [
            ClusterHistory(
                cluster_id=row.cluster_id,
                name=row.name,
                folder_id=row.folder_id,
                labels=_labels(row.labels),
                environment=row.environment,
                backups=tuple(sorted(backups[row.cluster_id], key=lambda b: b.completed_at)),
                max_ages=_from_start(
                    sorted(max_ages[row.cluster_id], key=lambda m: m.since), start
                ),
                states=_from_start(sorted(states[row.cluster_id], key=lambda s: s.since), start),
                spans=tuple(sorted(spans[row.cluster_id], key=lambda s: s.start)),
            )
            for row in clusters
        ]

    async def latest(self) -> list[Latest]:
        """Every cluster the ledger keeps, as last seen: its newest backup, and the maximum age
        and state in force now; by cluster id. Four reads, none per cluster."""
        cc, bc, mc, sc = ledger_clusters.c, ledger_backups.c, ledger_max_ages.c, ledger_states.c
        async with self._db.reading() as conn:
            clusters = list(
                await conn.execute(select(cc.cluster_id, cc.last_seen_at).order_by(cc.cluster_id))
            )
            newest = {
                row.cluster_id: row.newest
                for row in await conn.execute(
                    select(bc.cluster_id, func.max(bc.completed_at).label("newest")).group_by(
                        bc.cluster_id
                    )
                )
            }
            max_ages: dict[str, timedelta] = {}
            for row in await conn.execute(
                select(mc.cluster_id, mc.max_age_seconds).order_by(mc.cluster_id, mc.since)
            ):
                max_ages[row.cluster_id] = timedelta(seconds=row.max_age_seconds)
            states: dict[str, ClusterState] = {}
            for row in await conn.execute(
                select(sc.cluster_id, sc.state).order_by(sc.cluster_id, sc.since)
            ):
                states[row.cluster_id] = _state(row.state)
        return [
            Latest(
                cluster_id=row.cluster_id,
                last_seen_at=row.last_seen_at,
                newest_backup_at=_aware(newest.get(row.cluster_id)),
                max_age=max_ages.get(row.cluster_id),
                state=states.get(row.cluster_id, ClusterState.RUNNING),
            )
            for row in clusters
        ]

    async def started_backups(self, cluster_id: str, *, since: datetime) -> list[StartedBackup]:
        """The backups of ``cluster_id`` started from Slack since ``since``, oldest first (kept
        as long as the store keeps started backups)."""
        async with self._db.reading() as conn:
            return await _started(conn, cluster_id, since)

    async def prune(self, *, before: datetime) -> int:
        """Forget what is older than ``before``, keeping what is still in force then (each
        cluster's newest backup, maximum age and state from before it). Returns the rows
        removed."""
        removed = 0
        async with self._db.writing() as conn:
            for table, column in (
                (ledger_backups, "completed_at"),
                (ledger_max_ages, "since"),
                (ledger_states, "since"),
            ):
                other = table.alias("newer")
                newer_before = (
                    select(other.c[column])
                    .where(
                        other.c.cluster_id == table.c.cluster_id,
                        other.c[column] > table.c[column],
                        other.c[column] <= before,
                    )
                    .exists()
                )
                result = await conn.execute(
                    delete(table).where(table.c[column] < before, newer_before)
                )
                removed += result.rowcount or 0
            gone = select(ledger_clusters.c.cluster_id).where(
                ledger_clusters.c.last_seen_at < before
            )
            for statement in (
                delete(ledger_spans).where(ledger_spans.c.span_end < before),
                *(
                    delete(table).where(table.c.cluster_id.in_(gone))
                    for table in (ledger_backups, ledger_max_ages, ledger_states, ledger_spans)
                ),
                delete(ledger_clusters).where(ledger_clusters.c.last_seen_at < before),
            ):
                result = await conn.execute(statement)
                removed += result.rowcount or 0
        return removed


_Change = TypeVar("_Change", MaxAgeChange, StateChange)


def _from_start(changes: list[_Change], start: datetime) -> tuple[_Change, ...]:
    """The change in force at ``start`` and those after it."""
    first = 0
    for i, change in enumerate(changes):
        if change.since <= start:
            first = i
    return tuple(changes[first:])


async def _started(conn: AsyncConnection, cluster_id: str, since: datetime) -> list[StartedBackup]:
    c = operations.c
    result = await conn.execute(
        select(operations)
        .where(c.cluster_id == cluster_id, c.requested_at >= since)
        .order_by(c.requested_at)
    )
    return [
        StartedBackup(
            operation_id=row.operation_id,
            requested_by=row.requested_by,
            requested_at=row.requested_at,
            finished_at=row.finished_at,
            outcome=row.outcome or "",
        )
        for row in result
    ]
