"""Digest figures: what the last digest of a route showed of each cluster, so that the next one
can say what changed since."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.digest.model import ClusterFigures
from bot.store.db import Database
from bot.store.rows import from_row, to_row
from bot.store.sql import lock
from bot.store.tables import digest_figures


class Figures:
    """The digest figures of every route; each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_figures(self, route_key: str) -> dict[str, ClusterFigures]:
        """What the last digest of ``route_key`` showed, by cluster id."""
        c = digest_figures.c
        async with self._db.reading() as conn:
            result = await conn.execute(
                select(digest_figures).where(c.route_key == route_key).order_by(c.cluster_id)
            )
            return {row.cluster_id: from_row(ClusterFigures, row) for row in result}


async def write_figures(
    conn: AsyncConnection, route_key: str, figures: Iterable[ClusterFigures]
) -> None:
    """Replace the figures of ``route_key`` within ``conn``'s transaction; a ValueError when two
    name one cluster."""
    rows = [to_row(f, digest_figures, route_key=route_key) for f in figures]
    cluster_ids = [row["cluster_id"] for row in rows]
    if len(set(cluster_ids)) != len(cluster_ids):
        raise ValueError(f"figures of route {route_key!r} name a cluster twice")
    # Two replacements of one route must not interleave their DELETE and INSERT (the second
    # INSERT would collide). SQLite's write lock already serialises them.
    await lock(conn, f"figures:{route_key}")
    await conn.execute(delete(digest_figures).where(digest_figures.c.route_key == route_key))
    if rows:
        await conn.execute(insert(digest_figures), rows)
