"""SQL that the store's repositories share: INSERT ... ON CONFLICT in the connection's dialect,
an upsert, the version-guarded save, and PostgreSQL's advisory lock.

Every function here runs inside the caller's transaction (``conn``); none begins or commits one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


class Stale(Exception):
    """A guarded write found its row moved on since it was read: the unit of work rolls back."""


def dialect_insert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``table`` that knows ON CONFLICT in ``conn``'s dialect."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {dialect}")


async def upsert(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any], *, key_column: str
) -> None:
    """Insert the row ``values``, or overwrite the row with its ``key_column`` value."""
    key = table.c[key_column]
    await conn.execute(
        dialect_insert(conn, table)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[key],
            set_={name: value for name, value in values.items() if name != key_column},
        )
    )


async def save_guarded(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any], keys: list[str]
) -> int:
    """Save the row ``values`` of ``table``, whose primary key is ``keys``, guarded by the
    version it was read at (``values["version"]``; 0: new): insert it or update it with the next
    version, which is returned. Raises :class:`Stale` when someone saved the row since it was
    read (or, for a new row, created it first)."""
    read_at = int(values["version"])
    if read_at < 0:
        raise ValueError(f"a version must not be negative, got {read_at}")
    row = {**values, "version": read_at + 1}
    columns = [table.c[key] for key in keys]
    if read_at == 0:
        result = await conn.execute(
            dialect_insert(conn, table)
            .values(**row)
            .on_conflict_do_nothing(index_elements=columns)
            .returning(table.c.version)
        )
    else:
        result = await conn.execute(
            update(table)
            .where(*(column == values[column.name] for column in columns))
            .where(table.c.version == read_at)
            .values(**row)
            .returning(table.c.version)
        )
    if result.first() is None:
        raise Stale
    return read_at + 1


async def lock(conn: AsyncConnection, name: str) -> None:
    """Hold a PostgreSQL advisory lock on ``name`` until the transaction ends (SQLite's write
    lock already serialises writers, so there it does nothing)."""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    lock_id = int.from_bytes(digest, "big", signed=True)
    await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
