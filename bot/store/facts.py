"""Small named values the bot keeps between runs: facts ("cluster X had a snapshot schedule"),
markers (named points in time: the last sweep, the last good sweep, the last digest) and the
count of consecutive failed sweeps that tells when the bot has gone blind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ledger.model import Observation
from bot.store.db import Database
from bot.store.ledger import write_observations
from bot.store.sql import dialect_insert, upsert
from bot.store.tables import counters, facts, markers

#: Marker names the store itself sets: in ``record_sweep``, and when a digest's top post is
#: accepted by Slack.
MARKER_LAST_SWEEP = "last_sweep"
MARKER_LAST_SWEEP_OK = "last_sweep_ok"
MARKER_LAST_DIGEST = "last_digest"
COUNTER_SWEEP_FAILURES = "sweep_failures"


class Facts:
    """Facts, markers and the sweep failure count; each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_fact(self, key: str) -> str | None:
        """The value remembered under ``key``, if any."""
        async with self._db.reading() as conn:
            value: str | None = await conn.scalar(select(facts.c.value).where(facts.c.key == key))
            return value

    async def set_fact(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key``, replacing what was there."""
        async with self._db.writing() as conn:
            await upsert(conn, facts, {"key": key, "value": value}, key_column="key")

    async def get_marker(self, name: str) -> datetime | None:
        """The time recorded under ``name``, if any."""
        async with self._db.reading() as conn:
            at: datetime | None = await conn.scalar(
                select(markers.c.at).where(markers.c.name == name)
            )
            return at

    async def record_sweep(
        self, *, ok: bool, now: datetime, ledger: Sequence[Observation] = ()
    ) -> int:
        """Count a sweep; the consecutive failures after it (0 when ``ok``).

        Also sets the markers ``last_sweep`` and, when ``ok``, ``last_sweep_ok`` to ``now``, and
        keeps what the sweep saw in the freshness ledger (``ledger``), in the same transaction:
        before any incident it decides is committed, so an incident resolved by a backup never
        outlives that backup's record.
        """
        c = counters.c
        async with self._db.writing() as conn:
            result = await conn.execute(
                dialect_insert(conn, counters)
                .values(name=COUNTER_SWEEP_FAILURES, value=0 if ok else 1)
                .on_conflict_do_update(
                    index_elements=[c.name],
                    set_={"value": 0 if ok else c.value + 1},
                )
                .returning(c.value)
            )
            failures = int(result.scalar_one())
            await write_marker(conn, MARKER_LAST_SWEEP, now)
            if ok:
                await write_marker(conn, MARKER_LAST_SWEEP_OK, now)
            await write_observations(conn, ledger)
            return failures

    async def sweep_failures(self) -> int:
        """The consecutive failed sweeps so far, as ``record_sweep`` last counted them."""
        async with self._db.reading() as conn:
            value = await conn.scalar(
                select(counters.c.value).where(counters.c.name == COUNTER_SWEEP_FAILURES)
            )
            return int(value or 0)


async def write_marker(conn: AsyncConnection, name: str, at: datetime) -> None:
    """Record ``at`` under ``name`` within ``conn``'s transaction."""
    await upsert(conn, markers, {"name": name, "at": at}, key_column="name")
