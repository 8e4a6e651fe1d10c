"""Persistent state: run claims, incidents, the outbox, facts and markers, digest figures,
started backups; one repository each, opened together as a :class:`Store`.

SQLite by default, PostgreSQL when several replicas share one database.
"""

from bot.store.operations import PendingOperation
from bot.store.store import Store

__all__ = ["PendingOperation", "Store"]
