"""Engines, migrations and the transaction boundary: the store's connection to SQLite or
PostgreSQL.

``create_engine`` builds an async engine tuned for its dialect; ``apply_migrations`` brings the
schema to the newest Alembic revision. Several replicas may start at once against one database:
PostgreSQL serialises their migrations with an advisory lock, SQLite with its write lock.
:class:`Database` hands the repositories their connections, and turns every error that means
"the database is not answering" into :class:`~bot.errors.StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from bot.errors import ConfigError, StoreUnavailable
from bot.i18n.catalog import _

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: Execution option read by the SQLite ``begin`` hook: write transactions start with
#: ``BEGIN IMMEDIATE``. A deferred transaction that reads and then writes cannot wait for the lock
#: (SQLite answers "database is locked" at once to avoid a deadlock), so writers take the lock up
#: front and queue behind each other within ``busy_timeout`` instead.
SQLITE_BEGIN_OPTION = "backups_bot_sqlite_begin"

#: How long a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Seconds to wait for a PostgreSQL connection, and for one statement.
POSTGRES_CONNECT_TIMEOUT = 10
POSTGRES_COMMAND_TIMEOUT = 60
#: Any fixed number: the advisory lock that lets one replica at a time migrate.
MIGRATION_LOCK_ID = 0x6261636B757073  # "backups"

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


def async_url(url: str | URL) -> URL:
    """The URL with an async driver: ``postgresql://`` and ``sqlite://`` are accepted as well."""
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


#: The async driver the bot has for each database it supports.
SUPPORTED_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
URL_EXAMPLES = "sqlite+aiosqlite:///./backups-bot.db or postgresql+asyncpg://user@host:5432/db"


def check_database_url(url: str) -> URL:
    """The parsed DATABASE_URL with its async driver, or a ConfigError in one line that says
    what to write instead. Nothing here connects, and no message shows the password."""
    try:
        parsed = async_url(url)
    except Exception:  # SQLAlchemy's message quotes the whole URL, password and all
        raise ConfigError(
            _("DATABASE_URL is not a database URL; write one like {examples}").format(
                examples=URL_EXAMPLES
            )
        ) from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    wanted = SUPPORTED_DRIVERS.get(backend)
    if wanted is None:
        raise ConfigError(
            _(
                "DATABASE_URL: {backend} databases are not supported; use SQLite or "
                "PostgreSQL, e.g. {examples}"
            ).format(backend=repr(backend[:40]), examples=URL_EXAMPLES)
        )
    if driver != wanted:
        raise ConfigError(
            _("DATABASE_URL: the driver {driver} is not one the bot has; write {url}").format(
                driver=repr(driver[:40]), url=f"{backend}+{wanted}://..."
            )
        )
    if backend == "postgresql" and not parsed.database:
        raise ConfigError(
            _("DATABASE_URL names no PostgreSQL database; add /<database> after the host")
        )
    return parsed


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        if is_sqlite_file(url):
            return _("the SQLite file {path}").format(path=url.database)
        return _("SQLite in memory")
    host = url.host or "localhost"
    return _("PostgreSQL at {address}").format(address=f"{host}:{url.port or 5432}")


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, the driver's error it wraps, and what caused them (a few levels)."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(out) < 8 and current not in out:
        out.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return out


def describe_connect_failure(url: URL, exc: BaseException, *, timeout: float) -> str:
    """Why the database at ``url`` could not be reached, in one line naming the host (never the
    password) and what to check."""
    where = _where(url)
    for cause in _causes(exc):
        names = {cls.__name__ for cls in type(cause).__mro__}
        if isinstance(cause, TimeoutError):
            return _(
                "DATABASE_URL: {where} did not answer within {seconds} s; check the host"
            ).format(where=where, seconds=f"{timeout:g}")
        if isinstance(cause, socket.gaierror):
            return _("DATABASE_URL: the host {host} is not known; check the host name").format(
                host=url.host
            )
        if isinstance(cause, ConnectionRefusedError):
            return _(
                "DATABASE_URL: {where} refused the connection; check the host and the port, "
                "and that the server runs"
            ).format(where=where)
        if names & {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}:
            return _(
                "DATABASE_URL: {where} refused the user {user}; check the user name and its "
                "password"
            ).format(where=where, user=url.username or "(none)")
        if "InvalidCatalogNameError" in names:
            return _("DATABASE_URL: {where} has no database {database}; create it first").format(
                where=where, database=url.database
            )
        if isinstance(cause, sqlite3.DatabaseError | OSError):
            reason = cause.strerror if isinstance(cause, OSError) else str(cause)
            return _(
                "DATABASE_URL: cannot open {where} ({reason}); check that the path is a "
                "database file in a directory the bot may write"
            ).format(where=where, reason=str(reason)[:100])
    return _("DATABASE_URL: cannot reach {where} ({error}); check DATABASE_URL").format(
        where=where, error=type(exc).__name__
    )


async def probe_database(url: str, *, timeout: float = POSTGRES_CONNECT_TIMEOUT) -> None:  # noqa: ASYNC109
    """Connect once and ask ``SELECT 1``: a ConfigError in one line when the URL is wrong or the
    database cannot be reached. ``check`` and ``serve`` both ask this before anything else."""
    parsed = check_database_url(url)
    engine: AsyncEngine | None = None
    try:
        async with asyncio.timeout(timeout):
            engine = create_engine(parsed)
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ConfigError(describe_connect_failure(parsed, exc, timeout=timeout)) from None
    finally:
        if engine is not None:
            await engine.dispose()


def is_sqlite_file(url: URL) -> bool:
    """Whether the URL names an SQLite database in a file (not in memory)."""
    database = url.database or ""
    return (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
        and url.query.get("mode") != "memory"
    )


def create_engine(url: str | URL) -> AsyncEngine:
    """An async engine for ``url``. For an SQLite file, its directory is created if missing."""
    parsed = async_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if is_sqlite_file(parsed):
            assert parsed.database is not None
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_async_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
            connect_args={
                "timeout": POSTGRES_CONNECT_TIMEOUT,
                "command_timeout": POSTGRES_COMMAND_TIMEOUT,
            },
        )
    return create_async_engine(parsed, pool_pre_ping=True)


def _switch_to_wal(cursor: Any) -> None:
    """Put a SQLite file in WAL mode. Switching takes an exclusive lock, and SQLite may refuse
    it at once, without waiting out the busy timeout, while another connection (a replica
    starting at the same moment) is switching or migrating: such a refusal is tried again."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)  # in the driver's own thread: the event loop does not wait


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, and transactions that SQLAlchemy (not the sqlite3 module) begins."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # The sqlite3 module's legacy mode skips BEGIN before SELECT and DDL, which breaks
        # transactional migrations and read-then-write claims; the begin hook below takes over.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # The busy timeout first, so that everything after it waits for a lock instead of
            # failing at once.
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # WAL lets readers and one writer work at once, across processes sharing the file.
            _switch_to_wal(cursor)
            # SQLite's advice for WAL: NORMAL never corrupts the file and spares an fsync per
            # commit; a power cut (not a crash of the bot) may lose the last commits, which at
            # worst re-posts an alert whose post was being recorded.
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) whose transactions are meant to write."""
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations, without an ini file.

    With ``connection``, env.py migrates on it (inside the caller's transaction).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Held until the transaction ends: a replica starting alongside waits here, then finds
        # the schema at head and does nothing.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    command.upgrade(alembic_config(connection), "head")


async def apply_migrations(engine: AsyncEngine) -> None:
    """Upgrade the schema to the newest revision, in one transaction. A no-op when at head."""
    async with writer(engine).begin() as conn:
        await conn.run_sync(_upgrade)


def current_revision(connection: Connection) -> str | None:
    """The schema revision recorded in the database, or None before the first migration."""
    return MigrationContext.configure(connection).get_current_revision()


class Database:
    """The engine and the transaction boundary that the store and its repositories share.

    Each repository call is one short transaction taken here: :meth:`reading` for reads,
    :meth:`writing` for a write that commits whole or not at all. Either way a database that is
    not answering becomes :class:`~bot.errors.StoreUnavailable`.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._writer = writer(engine)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads."""
        with unavailable_as_store_error():
            async with self.engine.connect() as conn:
                yield conn

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction (on SQLite it takes the write lock up front)."""
        with unavailable_as_store_error():
            async with self._writer.begin() as conn:
                yield conn


#: What a database that is down, restarting, locked or overloaded raises: SQLAlchemy's wrappers of
#: the driver's errors, its pool timeout, and the OSError asyncpg raises when it cannot connect.
#: Constraint and programming errors are not among them: those are bugs and stay unexpected.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    OSError,
)

#: SQLSTATEs of a PostgreSQL server that cannot serve the bot right now, whatever class the
#: driver gives them (asyncpg's ``too many connections`` reaches SQLAlchemy as a bare DBAPIError):
#: class 08, connection exceptions; class 53, insufficient resources (too many connections, out
#: of memory, disk full); 57P01-57P03, the server shutting down, crashed, or starting up.
UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")


def _driver_chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps, down to the driver's own error. Only explicit causes
    (SQLAlchemy's ``orig``, ``raise ... from``): an error raised while handling another is not
    that other error."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(out) < 8 and current not in out:
        out.append(current)
        current = getattr(current, "orig", None) or current.__cause__
    return out


def unavailable_reason(exc: BaseException) -> str | None:
    """Why ``exc`` means the database is not answering, in a few words safe to show (no host,
    user or SQL); None when it is some other error (a constraint, a bug)."""
    chain = _driver_chain(exc)
    innermost = type(chain[-1]).__name__
    for cause in chain:
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(UNAVAILABLE_SQLSTATES):
            return f"did not answer ({innermost}, SQLSTATE {sqlstate[:5]})"
    if isinstance(exc, _UNAVAILABLE):
        return f"did not answer ({type(exc).__name__})"
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return f"dropped the connection ({type(exc).__name__})"
    return None


@contextmanager
def unavailable_as_store_error() -> Iterator[None]:
    """Raise :class:`~bot.errors.StoreUnavailable` for an error that means the database is not
    answering; every other error passes unchanged."""
    try:
        yield
    except Exception as exc:
        reason = unavailable_reason(exc)
        if reason is None:
            raise
        raise StoreUnavailable(f"the bot's database {reason}") from exc
