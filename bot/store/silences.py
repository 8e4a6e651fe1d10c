"""Silences, as stored: added, listed, lifted. Each call is one short transaction; lifting is a
conditional update, so two people lifting one silence at once both hear the truth."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from bot.silences.model import Silence
from bot.store.db import Database
from bot.store.rows import from_row
from bot.store.tables import silences


def _silence(row: Row[Any]) -> Silence:
    return from_row(Silence, row)


class Silences:
    """The silences; each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, match: str, *, by: str, now: datetime, ends_at: datetime, reason: str = ""
    ) -> Silence:
        """Record a silence of ``match`` from ``now`` to ``ends_at``; the stored one (its id)."""
        async with self._db.writing() as conn:
            result = await conn.execute(
                insert(silences)
                .values(match=match, created_by=by, created_at=now, ends_at=ends_at, reason=reason)
                .returning(silences.c.id)
            )
            silence_id = result.scalar_one()
            row = (await conn.execute(select(silences).where(silences.c.id == silence_id))).one()
            return _silence(row)

    async def get(self, silence_id: int) -> Silence | None:
        async with self._db.reading() as conn:
            row = (await conn.execute(select(silences).where(silences.c.id == silence_id))).first()
            return None if row is None else _silence(row)

    async def active(self, now: datetime) -> list[Silence]:
        """The silences that hold at ``now`` (not lifted, not over), the soonest to end first.
        What the sweep pages by, and what a person's Home tab can list (``created_by``)."""
        c = silences.c
        query = (
            select(silences).where(c.lifted_at.is_(None), c.ends_at > now).order_by(c.ends_at, c.id)
        )
        async with self._db.reading() as conn:
            return [_silence(row) for row in await conn.execute(query)]

    async def lift(self, silence_id: int, *, by: str, now: datetime) -> Silence | None:
        """End a silence that still holds, now; None if there is none such (unknown, over, or
        lifted already, by this call's twin too)."""
        c = silences.c
        async with self._db.writing() as conn:
            lifted = await conn.execute(
                update(silences)
                .where(c.id == silence_id, c.lifted_at.is_(None), c.ends_at > now)
                .values(lifted_by=by, lifted_at=now)
                .returning(c.id)
            )
            if lifted.first() is None:
                return None
            row = (await conn.execute(select(silences).where(c.id == silence_id))).one()
            return _silence(row)
