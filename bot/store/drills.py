"""Restore drills, written as they go: a drill is recorded before it restores anything, each
step as it is reached, and its result in the same transaction as the post that reports it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.drills.model import DrillOutcome, DrillRecord, DrillStep
from bot.store.db import Database
from bot.store.rows import from_row, to_row
from bot.store.sql import dialect_insert
from bot.store.tables import drills


def _record(row: Row[Any]) -> DrillRecord:
    columns = row._mapping
    outcome = columns["outcome"]
    return from_row(
        DrillRecord,
        row,
        time_limit=timedelta(seconds=columns["time_limit_seconds"]),
        step=DrillStep(columns["step"]),
        outcome=DrillOutcome(outcome) if outcome else None,
    )


def _row(record: DrillRecord) -> dict[str, Any]:
    return to_row(
        record,
        drills,
        time_limit_seconds=int(record.time_limit.total_seconds()),
        step=record.step.value,
        outcome=record.outcome.value if record.outcome else None,
    )


class Drills:
    """The drills; each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def start_drill(self, record: DrillRecord) -> DrillRecord:
        """Record a drill; if it is recorded already (a replica taking it over), the stored one
        is returned, with its cluster and step."""
        async with self._db.writing() as conn:
            await conn.execute(
                dialect_insert(conn, drills)
                .values(**_row(record))
                .on_conflict_do_nothing(index_elements=[drills.c.id])
            )
            row = (await conn.execute(select(drills).where(drills.c.id == record.id))).one()
            return _record(row)

    async def save_drill(self, record: DrillRecord) -> None:
        """Write where an unfinished drill is (a finished one is never changed)."""
        async with self._db.writing() as conn:
            await write_drill(conn, record, finishing=False)

    async def get_drill(self, drill_id: str) -> DrillRecord | None:
        async with self._db.reading() as conn:
            row = (await conn.execute(select(drills).where(drills.c.id == drill_id))).first()
            return None if row is None else _record(row)

    async def list_drills(
        self, cluster_ids: list[str] | None = None, *, limit: int = 20
    ) -> list[DrillRecord]:
        """Drills, the newest first (of ``cluster_ids`` if given)."""
        query = select(drills).order_by(drills.c.started_at.desc(), drills.c.id).limit(limit)
        if cluster_ids is not None:
            query = query.where(drills.c.cluster_id.in_(cluster_ids))
        async with self._db.reading() as conn:
            return [_record(row) for row in await conn.execute(query)]

    async def running_drills(self) -> list[DrillRecord]:
        """Drills not finished, the oldest first."""
        query = (
            select(drills)
            .where(drills.c.finished_at.is_(None))
            .order_by(drills.c.started_at, drills.c.id)
        )
        async with self._db.reading() as conn:
            return [_record(row) for row in await conn.execute(query)]

    async def drills_by_id(self, ids: list[str]) -> dict[str, DrillRecord]:
        if not ids:
            return {}
        async with self._db.reading() as conn:
            rows = await conn.execute(select(drills).where(drills.c.id.in_(ids)))
            return {record.id: record for record in map(_record, rows)}

    async def finished_between(self, start: datetime, end: datetime) -> list[DrillRecord]:
        """The drills that finished in ``[start, end)``, the oldest first (what the monthly
        report says of the month: the ledger reads its drills here)."""
        c = drills.c
        query = (
            select(drills)
            .where(c.finished_at.is_not(None), c.finished_at >= start, c.finished_at < end)
            .order_by(c.finished_at, c.id)
        )
        async with self._db.reading() as conn:
            return [_record(row) for row in await conn.execute(query)]

    async def last_drills(self) -> dict[str, DrillRecord]:
        """Each cluster's newest finished drill, by cluster id."""
        c = drills.c
        newest = (
            select(c.cluster_id, func.max(c.started_at).label("newest"))
            .where(c.finished_at.is_not(None))
            .group_by(c.cluster_id)
            .subquery()
        )
        query = select(drills).join(
            newest, (c.cluster_id == newest.c.cluster_id) & (c.started_at == newest.c.newest)
        )
        async with self._db.reading() as conn:
            return {record.cluster_id: record for record in map(_record, await conn.execute(query))}


async def write_drill(conn: AsyncConnection, record: DrillRecord, *, finishing: bool) -> bool:
    """Write a drill within ``conn``'s transaction, unless it is finished already; False then
    (its result was reported by someone else)."""
    values = _row(record)
    values.pop("id")
    written = await conn.execute(
        update(drills)
        .where(drills.c.id == record.id, drills.c.finished_at.is_(None))
        .values(**values)
        .returning(drills.c.id)
    )
    return written.first() is not None or not finishing
