"""Run claims: which replica runs a scheduled run ("sweep:...", "digest:C0TEAM:2024-05-01",
"outbox:C1"), until when, and whether it is done.

A claim is an INSERT that does nothing on conflict followed by an UPDATE whose WHERE says when a
takeover is allowed, so the race between replicas is settled in the database: the loser gets
``False`` ("another process got there first"), never an exception.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.sql import dialect_insert
from bot.store.tables import run_claims

#: What a run says when another replica holds its claim.
SKIPPED_CLAIM = "another replica got there first"

#: A released claim's lease ends here: before any ``now`` a caller can pass, so the next claimer
#: takes it whatever its clock says.
RELEASED = datetime(1970, 1, 1, tzinfo=UTC)


class Claims:
    """The run claims; each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim_run(self, key: str, owner: str, *, now: datetime, lease: timedelta) -> bool:
        """Take the run ``key`` for ``owner`` until ``now + lease``; True if ``owner`` now holds it.

        Refused while another owner's lease runs, and forever once the run is finished. An owner
        that claims again renews its lease.
        """
        _check_lease(lease)
        until = now + lease
        c = run_claims.c
        async with self._db.writing() as conn:
            inserted = await conn.execute(
                dialect_insert(conn, run_claims)
                .values(key=key, owner=owner, claimed_at=now, lease_until=until)
                .on_conflict_do_nothing(index_elements=[c.key])
                .returning(c.key)
            )
            if inserted.first() is not None:
                return True
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
        async with self._db.writing() as conn:
            renewed = await conn.execute(
                update(run_claims)
                .where(c.key == key, c.owner == owner, c.finished_at.is_(None))
                .values(lease_until=now + lease)
                .returning(c.key)
            )
            return renewed.first() is not None

    async def finish_run(self, key: str, owner: str, *, now: datetime) -> bool:
        """Mark the run done, so that no one claims it again; False if ``owner`` lost it."""
        async with self._db.writing() as conn:
            return await write_run_finish(conn, key, owner, now=now)

    async def release_run(self, key: str, owner: str) -> None:
        """Hand an unfinished run back (graceful shutdown): any replica may claim it at once."""
        c = run_claims.c
        async with self._db.writing() as conn:
            await conn.execute(
                update(run_claims)
                .where(c.key == key, c.owner == owner, c.finished_at.is_(None))
                .values(lease_until=RELEASED)
            )

    async def run_finished(self, key: str) -> bool:
        """Whether the run ``key`` was finished by someone."""
        c = run_claims.c
        async with self._db.reading() as conn:
            finished_at = await conn.scalar(select(c.finished_at).where(c.key == key))
            return finished_at is not None


async def write_run_finish(conn: AsyncConnection, key: str, owner: str, *, now: datetime) -> bool:
    """Mark the run done within ``conn``'s transaction; False if ``owner`` does not hold it."""
    c = run_claims.c
    finished = await conn.execute(
        update(run_claims)
        .where(c.key == key, c.owner == owner)
        # Finishing twice keeps the first time: the call is safe to retry.
        .values(finished_at=func.coalesce(c.finished_at, now))
        .returning(c.key)
    )
    return finished.first() is not None


def _check_lease(lease: timedelta) -> None:
    if lease <= timedelta(0):
        raise ValueError(f"a lease must be positive, got {lease}")
