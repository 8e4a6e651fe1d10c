"""Databases for store tests: an SQLite file per test, and the real PostgreSQL server.

``postgres_url`` and ``fresh_postgres_url`` are meant to be reused by any test that needs the
real server on 127.0.0.1:5432 (or on ``BACKUPS_BOT_TEST_POSTGRES``): each creates a uniquely
named database and drops it afterwards. If the server is down the tests error, they are not
skipped: CI starts the server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.alerts.model import AlertEntry
from bot.outbox.change import Change
from bot.store import Store
from bot.store.tables import metadata

#: The maintenance database that tests connect to in order to create and drop their own.
POSTGRES_ADMIN_URL = os.environ.get(
    "BACKUPS_BOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)

OpenStore = Callable[[], Awaitable[Store]]


async def save_alert(store: Store, entry: AlertEntry) -> AlertEntry | None:
    """Save one incident alone, as a change of its own: the saved entry (at its next version),
    or None when its version was stale."""
    committed = await store.commit(Change(alerts=[entry]))
    return None if committed is None else committed.alerts[0]


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _new_postgres_database() -> tuple[str, str]:
    """Create an empty database; its name, and its SQLAlchemy URL."""
    name = f"bbtest_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
    return name, url.render_as_string(hide_password=False)


async def _drop_postgres_database(name: str) -> None:
    # FORCE: a test that failed half-way may have left connections open.
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A database of its own for the test session, dropped at the end. Shared by tests, so a
    test must not rely on it being empty (``postgres_store_url`` empties the store's tables)."""
    name, url = await _new_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def fresh_postgres_url() -> AsyncIterator[str]:
    """A new, empty database (no schema at all) for one test, dropped after it."""
    name, url = await _new_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def one_connection_postgres_url() -> AsyncIterator[str]:
    """The URL of a new, empty database owned by a new role that may hold one connection at a
    time (``CONNECTION LIMIT 1``); both are dropped after the test."""
    name = f"bbtest_{secrets.token_hex(6)}"
    await _admin(f'CREATE ROLE "{name}" LOGIN CONNECTION LIMIT 1')
    try:
        await _admin(f'CREATE DATABASE "{name}" OWNER "{name}"')
        try:
            url = make_url(POSTGRES_ADMIN_URL).set(
                drivername="postgresql+asyncpg", username=name, password=None, database=name
            )
            yield url.render_as_string(hide_password=False)
        finally:
            await _drop_postgres_database(name)
    finally:
        await _admin(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
async def postgres_store_url(postgres_url: str) -> str:
    """The session database, migrated, with every store table emptied."""
    store = await Store.open(postgres_url)
    try:
        async with store.engine.begin() as conn:
            names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names}"))
    finally:
        await store.close()
    return postgres_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of an SQLite file that does not exist yet, in a directory that does not either."""
    return f"sqlite+aiosqlite:///{tmp_path / 'state' / 'backups-bot.db'}"


BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest) -> str:
    """An empty store's URL, once on SQLite and once on PostgreSQL."""
    fixture = "postgres_store_url" if request.param == "postgres" else "sqlite_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest) -> str:
    """The URL of a database with no schema yet, once on SQLite and once on PostgreSQL."""
    fixture = "fresh_postgres_url" if request.param == "postgres" else "sqlite_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def open_store(store_url: str) -> AsyncIterator[OpenStore]:
    """Opens more Stores (each with its own engine) on the same database; closes them after."""
    opened: list[Store] = []

    async def open_one() -> Store:
        store = await Store.open(store_url)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: OpenStore) -> Store:
    """A Store on an empty, migrated database."""
    return await open_store()
