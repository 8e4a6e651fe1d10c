"""The schema is created by the migrations at open, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.store import Store
from bot.store.db import alembic_config, async_url, create_engine, current_revision
from bot.store.tables import metadata

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_open_migrates_a_fresh_database_to_head(fresh_url: str) -> None:
    store = await Store.open(fresh_url)
    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(current_revision) == HEAD
            tables = await conn.run_sync(_table_names)
        assert tables == set(metadata.tables) | {"alembic_version"}
    finally:
        await store.close()


async def test_migrated_schema_matches_the_table_definitions(fresh_url: str) -> None:
    store = await Store.open(fresh_url)
    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_schema_differences) == []
    finally:
        await store.close()


async def test_reopening_is_a_no_op_that_keeps_the_state(fresh_url: str) -> None:
    first = await Store.open(fresh_url)
    try:
        await first.facts.set_fact("schedule:c1", "daily")
        assert await first.claims.claim_run(
            "digest:C1:2024-05-01", "a", now=NOW, lease=timedelta(1)
        )
        assert await first.claims.finish_run("digest:C1:2024-05-01", "a", now=NOW)
    finally:
        await first.close()

    second = await Store.open(fresh_url)
    try:
        assert await second.facts.get_fact("schedule:c1") == "daily"
        assert await second.claims.run_finished("digest:C1:2024-05-01")
        assert not await second.claims.claim_run(
            "digest:C1:2024-05-01", "b", now=NOW, lease=timedelta(1)
        )
        async with second.engine.connect() as conn:
            assert await conn.run_sync(current_revision) == HEAD
    finally:
        await second.close()


async def test_replicas_starting_at_once_all_open_the_same_schema(fresh_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(fresh_url) for _ in range(5)))
    try:
        await stores[0].facts.set_fact("k", "v")
        assert [await s.facts.get_fact("k") for s in stores] == ["v"] * 5
    finally:
        for store in stores:
            await store.close()


async def test_sqlite_file_gets_its_directory_and_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "bot.db"
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        assert path.exists()
        async with store.engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await conn.scalar(text("PRAGMA busy_timeout")) > 0
    finally:
        await store.close()


async def test_in_memory_sqlite_works_for_throwaway_runs() -> None:
    store = await Store.open("sqlite+aiosqlite://")
    try:
        await store.facts.set_fact("k", "v")
        assert await store.facts.get_fact("k") == "v"
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///./backups-bot.db", "sqlite+aiosqlite"),
        ("postgresql://bot@db:5432/bot", "postgresql+asyncpg"),
        ("postgres://bot@db:5432/bot", "postgresql+asyncpg"),
        ("postgresql+asyncpg://bot@db:5432/bot", "postgresql+asyncpg"),
    ],
)
def test_plain_urls_get_an_async_driver(given: str, driver: str) -> None:
    assert async_url(given).drivername == driver


async def test_ping_raises_when_the_database_cannot_be_reached() -> None:
    # Port 1 on loopback: nothing listens, so the connection is refused at once.
    store = Store(create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none"))
    try:
        with pytest.raises(ConnectionRefusedError):
            await store.ping()
    finally:
        await store.close()


async def test_ping_answers_on_a_live_database(store: Store) -> None:
    await store.ping()
