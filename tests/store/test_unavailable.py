"""A database that is down, locked or drops its connections: the store says so with one typed
error whose message is safe to show, and a failed write leaves nothing behind."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.errors import StoreUnavailable
from bot.store import Store, db
from tests.waiting import free_port

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "s3cret-db-password"


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite connections opened after this wait 200 ms for a lock, not 30 s."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)


@pytest.fixture
def sqlite_path(sqlite_url: str) -> str:
    database = make_url(sqlite_url).database
    assert database is not None
    return database


@pytest.mark.postgres
async def test_a_postgres_server_that_refuses_connections_makes_every_call_unavailable() -> None:
    url = f"postgresql+asyncpg://bot:{PASSWORD}@127.0.0.1:{free_port()}/test"
    store = Store(db.create_engine(url))
    try:
        calls = [
            store.get_alert("c9qcluster", "route"),
            store.set_fact("k", "v"),
            store.claim_run("sweep:1", "replica-a", now=NOW, lease=timedelta(minutes=5)),
            store.run_finished("sweep:1"),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailable) as caught:
                await call
            assert "did not answer (ConnectionRefusedError)" in str(caught.value)
            assert PASSWORD not in str(caught.value)
            assert PASSWORD not in repr(caught.value)
            assert "127.0.0.1" not in str(caught.value)
    finally:
        await store.close()


async def test_a_write_that_waits_out_the_sqlite_lock_is_unavailable_and_leaves_nothing(
    short_busy_timeout: None, sqlite_url: str, sqlite_path: str
) -> None:
    store = await Store.open(sqlite_url)
    await store.set_fact("owner", "before")

    blocker = sqlite3.connect(sqlite_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        with pytest.raises(StoreUnavailable, match=r"did not answer \(OperationalError\)"):
            await store.set_fact("owner", "during the lock")
    finally:
        blocker.close()

    try:
        assert await store.get_fact("owner") == "before"
        await store.set_fact("owner", "after")  # the store works again once the lock is gone
        assert await store.get_fact("owner") == "after"
    finally:
        await store.close()


@pytest.mark.postgres
async def test_postgres_connections_killed_under_the_store_are_replaced(
    postgres_store_url: str,
) -> None:
    store = await Store.open(postgres_store_url)
    try:
        await store.set_fact("k", "v")  # leaves a pooled connection open
        admin = make_url(postgres_store_url).set(drivername="postgresql")
        connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            killed = await connection.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()
        assert killed >= 1

        assert await store.get_fact("k") == "v"
    finally:
        await store.close()
