"""A database that is down, locked, out of connections or drops its connections: the store says
so with one typed error whose message is safe to show, a person reads that the database is not
answering (not that something went wrong), and a failed write leaves nothing behind."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.commands.messages import render_error
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
            store.incidents.get_alert("c9qcluster", "route"),
            store.facts.set_fact("k", "v"),
            store.claims.claim_run("sweep:1", "replica-a", now=NOW, lease=timedelta(minutes=5)),
            store.claims.run_finished("sweep:1"),
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
    await store.facts.set_fact("owner", "before")

    blocker = sqlite3.connect(sqlite_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        with pytest.raises(StoreUnavailable, match=r"did not answer \(OperationalError\)"):
            await store.facts.set_fact("owner", "during the lock")
    finally:
        blocker.close()

    try:
        assert await store.facts.get_fact("owner") == "before"
        await store.facts.set_fact("owner", "after")  # the store works again once the lock is gone
        assert await store.facts.get_fact("owner") == "after"
    finally:
        await store.close()


@pytest.mark.postgres
async def test_postgres_connections_killed_under_the_store_are_replaced(
    postgres_store_url: str,
) -> None:
    store = await Store.open(postgres_store_url)
    try:
        await store.facts.set_fact("k", "v")  # leaves a pooled connection open
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

        assert await store.facts.get_fact("k") == "v"
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_postgres_server_out_of_connections_is_unavailable_and_a_person_reads_so(
    one_connection_postgres_url: str,
) -> None:
    url = one_connection_postgres_url
    role = make_url(url).username
    assert role is not None
    first = await Store.open(url)
    second = Store(db.create_engine(url))  # another replica, on the same role
    try:
        async with first.engine.connect():  # the one connection the role may hold
            with pytest.raises(StoreUnavailable) as caught:
                await second.facts.get_fact("k")
            with pytest.raises(StoreUnavailable):
                await second.claims.claim_run("sweep:1", "b", now=NOW, lease=timedelta(minutes=5))
    finally:
        await second.close()
        await first.close()

    # The server said "too many connections for role ...": SQLSTATE 53300.
    assert "did not answer (TooManyConnectionsError, SQLSTATE 53300)" in str(caught.value)
    assert role not in str(caught.value)
    reply = render_error(caught.value, correlation_id="c0ffee")
    assert "My database is not answering right now" in reply.text
    assert "Something went wrong" not in reply.text
    assert "c0ffee" not in reply.text  # not an unexpected error: no id to quote


async def test_a_pool_with_no_connection_free_in_time_is_unavailable(
    sqlite_url: str, sqlite_path: str
) -> None:
    Path(sqlite_path).parent.mkdir(parents=True)
    engine = create_async_engine(sqlite_url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    store = Store(engine)
    try:
        async with engine.connect():  # the pool's only connection, busy
            with pytest.raises(StoreUnavailable, match=r"did not answer \(TimeoutError\)"):
                await store.facts.set_fact("k", "v")
    finally:
        await store.close()


class _Refused(Exception):
    """A driver error carrying a SQLSTATE, as asyncpg's (and SQLAlchemy's adapter's) do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"refused with {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("08006", True),  # connection failure
        ("08001", True),  # the client could not establish the connection
        ("53300", True),  # too many connections
        ("53100", True),  # disk full
        ("57P01", True),  # admin shutdown (the server is stopping)
        ("57P03", True),  # cannot connect now (the server is starting)
        ("23505", False),  # a unique violation is a bug, not an outage
        ("42P01", False),  # an undefined table: a bug
        ("57014", False),  # a statement cancelled (our own timeout): not the database away
    ],
)
def test_driver_errors_are_unavailable_by_their_sqlstate_class(
    sqlstate: str, unavailable: bool
) -> None:
    wrapped = sa_exc.DBAPIError("SELECT 1", None, _Refused(sqlstate))

    reason = db.unavailable_reason(wrapped)

    if unavailable:
        assert reason == f"did not answer (_Refused, SQLSTATE {sqlstate})"
    else:
        assert reason is None


def _fail_while_handling_an_outage() -> None:
    try:
        raise ConnectionRefusedError("the first try")
    except ConnectionRefusedError:
        raise ValueError("a bug in the handler")  # noqa: B904  (the context is the point)


def test_an_error_raised_while_handling_an_outage_is_not_taken_for_one() -> None:
    with pytest.raises(ValueError, match="a bug") as caught:
        _fail_while_handling_an_outage()
    assert isinstance(caught.value.__context__, ConnectionRefusedError)

    assert db.unavailable_reason(caught.value) is None
