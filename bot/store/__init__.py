"""Persistent state: run claims, alert incidents, digest figures, markers, facts, operations.

SQLite by default, PostgreSQL when several replicas share one database. See :class:`Store`.
"""

from bot.store.repo import PendingOperation, Store

__all__ = ["PendingOperation", "Store"]
