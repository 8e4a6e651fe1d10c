"""Alembic environment for the store.

At start the store runs the migrations itself (bot.store.db.apply_migrations) and hands its
connection over in ``config.attributes["connection"]``. Run from the command line instead
(``alembic -c bot/store/migrations/alembic.ini revision --autogenerate -m "..."``), it connects
to ``DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.db import create_engine
from bot.store.tables import metadata

DEFAULT_URL = "sqlite+aiosqlite:///./backups-bot.db"


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=True,
        compare_type=True,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def run_offline() -> None:
    """``alembic upgrade --sql``: print the DDL instead of running it."""
    context.configure(
        url=os.environ.get("DATABASE_URL", DEFAULT_URL),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate on the store's connection if given one, else on a fresh engine."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_with_own_engine(os.environ.get("DATABASE_URL", DEFAULT_URL)))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
