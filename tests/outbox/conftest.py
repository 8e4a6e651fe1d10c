"""The delivery tests' stores: SQLite and PostgreSQL (the shared store fixtures)."""

from tests.store.conftest import (  # noqa: F401  (fixtures, re-exported)
    open_store,
    postgres_store_url,
    postgres_url,
    sqlite_url,
    store,
    store_url,
)
