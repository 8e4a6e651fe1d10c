"""Backups started from Slack, remembered until their cloud operation is done, so that whoever
started one hears how it ended even if the bot restarted meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.rows import from_row
from bot.store.sql import dialect_insert
from bot.store.tables import operations


@dataclass(frozen=True, slots=True)
class PendingOperation:
    """A backup someone started from Slack whose cloud operation is not yet known to be done."""

    operation_id: str
    cluster_id: str
    requested_by: str  # Slack user id
    channel: str
    thread_ts: str | None  # where to reply when it is done
    requested_at: datetime


class Operations:
    """The started backups; each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
        async with self._db.writing() as conn:
            await conn.execute(
                dialect_insert(conn, operations)
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
        query = (
            select(operations)
            .where(c.finished_at.is_(None))
            .order_by(c.requested_at, c.operation_id)
        )
        async with self._db.reading() as conn:
            return [from_row(PendingOperation, row) for row in await conn.execute(query)]

    async def finish_operation(self, operation_id: str, *, outcome: str, now: datetime) -> None:
        """Mark a started backup done with ``outcome``; the first finish wins."""
        async with self._db.writing() as conn:
            await write_operation_finish(conn, operation_id, outcome=outcome, now=now)


async def write_operation_finish(
    conn: AsyncConnection, operation_id: str, *, outcome: str, now: datetime
) -> bool:
    """Mark a started backup done within ``conn``'s transaction; False if it was done already."""
    c = operations.c
    finished = await conn.execute(
        update(operations)
        .where(c.operation_id == operation_id, c.finished_at.is_(None))
        .values(finished_at=now, outcome=outcome)
        .returning(c.operation_id)
    )
    return finished.first() is not None
