"""The store fixtures (an SQLite file and the real PostgreSQL server) for ledger tests."""

from tests.store.conftest import (  # noqa: F401
    fresh_postgres_url,
    fresh_url,
    open_store,
    postgres_store_url,
    postgres_url,
    sqlite_url,
    store,
    store_url,
)
