"""The clusters the bot watches or watched (:class:`bot.alerts.model.CoverageEntry`): read at
the start of a sweep, written with the posts that say a change of them (``Change.coverage``)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.alerts.model import CoverageEntry
from bot.store.db import Database
from bot.store.sql import upsert
from bot.store.tables import coverage


class Coverage:
    """What the bot knows of its own coverage; each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self) -> dict[str, CoverageEntry]:
        """Every cluster the bot watches or watched, by id."""
        async with self._db.reading() as conn:
            rows = (await conn.execute(select(coverage))).all()
        return {
            row.cluster_id: CoverageEntry(
                cluster_id=row.cluster_id,
                folder_id=row.folder_id,
                name=row.name,
                watching=bool(row.watching),
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                environment=row.environment,
                labels=tuple(sorted(json.loads(row.labels or "{}").items())),
            )
            for row in rows
        }


async def write_coverage(conn: AsyncConnection, entry: CoverageEntry) -> None:
    """Save one cluster's coverage, replacing what was there."""
    await upsert(
        conn,
        coverage,
        {
            "cluster_id": entry.cluster_id,
            "folder_id": entry.folder_id,
            "name": entry.name,
            "watching": entry.watching,
            "first_seen": entry.first_seen,
            "last_seen": entry.last_seen,
            "environment": entry.environment,
            "labels": json.dumps(dict(entry.labels), sort_keys=True),
        },
        key_column="cluster_id",
    )
