"""The store: every piece of state the bot keeps, in SQLite or PostgreSQL.

:class:`Store` opens the database and migrates it, and holds one repository per aggregate:
``claims`` (run claims), ``incidents`` (alerts, grouped alerts, the bot's own incidents),
``outbox`` (queued posts, parked channels), ``facts`` (facts, markers, the sweep failure count),
``figures`` (digest figures), ``operations`` (backups started from Slack), ``ledger``
(the freshness ledger), ``drills`` (restore drills), ``coverage`` (the clusters watched)
and ``silences`` (clusters not paged for a while). Each repository
call is one short transaction; :meth:`Store.commit` is the unit of work that writes one decision
whole. Races between replicas are settled in the database, never in Python: the loser gets
``False`` or ``None`` ("another process got there first"), never an exception. All datetimes go
in and come out timezone-aware, in UTC.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts.model import AlertStatus
from bot.outbox.change import Change, Committed, OutboxState
from bot.store.claims import Claims, write_run_finish
from bot.store.coverage import Coverage, write_coverage
from bot.store.db import Database, apply_migrations, create_engine
from bot.store.drills import Drills, write_drill
from bot.store.facts import Facts, write_marker
from bot.store.figures import Figures, write_figures
from bot.store.incidents import (
    OPEN_STATUSES,
    Incidents,
    write_alert,
    write_group,
    write_incident,
)
from bot.store.ledger import Ledger, write_observations
from bot.store.operations import Operations, write_operation_finish
from bot.store.outbox import Outbox, write_posts
from bot.store.silences import Silences
from bot.store.sql import Stale
from bot.store.tables import alert_groups, alerts, operations, outbox, run_claims, silences


class Store:
    """Persistent state of the bot. Open with :meth:`Store.open`; read and write through its
    repositories (``store.claims.claim_run(...)``, ``store.outbox.head_post(...)``), and write
    a decision with :meth:`commit`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._db = Database(engine)
        self.claims = Claims(self._db)
        self.incidents = Incidents(self._db)
        self.outbox = Outbox(self._db)
        self.facts = Facts(self._db)
        self.figures = Figures(self._db)
        self.operations = Operations(self._db)
        self.ledger = Ledger(self._db)
        self.drills = Drills(self._db)
        self.coverage = Coverage(self._db)
        self.silences = Silences(self._db)

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to ``url`` and migrate its schema to the newest revision."""
        engine = create_engine(url)
        try:
            await apply_migrations(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    @property
    def engine(self) -> AsyncEngine:
        """The underlying engine, for tests and diagnostics."""
        return self._db.engine

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._db.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def ping(self) -> None:
        """Run ``SELECT 1``; raises the driver's own error if the database cannot be reached, so
        that readiness and ``check`` can name it."""
        async with self._db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def commit(self, change: Change, *, now: datetime | None = None) -> Committed | None:
        """Write ``change`` in one transaction; None, with nothing written, if any guarded row
        (an incident, a group, a bot incident, the run to finish, the started backup to finish)
        moved on since it was read.

        ``now`` dates the queued posts (required when there are any)."""
        if change.posts and now is None:
            raise ValueError("queued posts need a now")
        try:
            async with self._db.writing() as conn:
                saved_alerts = [await write_alert(conn, e) for e in change.alerts]
                saved_groups = [await write_group(conn, g) for g in change.groups]
                saved_incidents = [await write_incident(conn, i) for i in change.incidents]
                if change.posts:
                    assert now is not None
                    await write_posts(conn, change.posts, now)
                if change.figures is not None:
                    await write_figures(conn, *change.figures)
                run = change.finish_run
                if run is not None and not await write_run_finish(
                    conn, run.key, run.owner, now=run.now
                ):
                    raise Stale
                op = change.finish_operation
                if op is not None and not await write_operation_finish(
                    conn, op.operation_id, outcome=op.outcome, now=op.now
                ):
                    raise Stale  # finished by someone else: its message is theirs
                for name, at in change.markers.items():
                    await write_marker(conn, name, at)
                await write_observations(conn, change.ledger)
                drill = change.finish_drill
                if drill is not None and not await write_drill(conn, drill, finishing=True):
                    raise Stale  # reported by someone else
                for entry in change.coverage:
                    await write_coverage(conn, entry)
        except Stale:
            return None
        return Committed(tuple(saved_alerts), tuple(saved_groups), tuple(saved_incidents))

    async def prune(self, *, before: datetime) -> int:
        """Forget history older than ``before``: finished run claims, finished started backups,
        incidents and grouped alerts resolved before it, silences over before it, and delivered
        posts no open incident still refers to. Open or unfinished work is never touched.
        Returns the number of rows removed. Without this the claims table grows by a row every
        sweep."""
        removed = 0
        o, a, g = outbox.c, alerts.c, alert_groups.c
        child = outbox.alias("child").c
        still_referred = (
            select(a.message_id)
            .where(a.status.in_(OPEN_STATUSES), a.message_id.is_not(None))
            .union(select(g.message_id).where(g.resolved_at.is_(None)))
        )
        waiting_children = select(child.parent_id).where(
            child.state.in_(OutboxState.OPEN), child.parent_id.is_not(None)
        )
        async with self._db.writing() as conn:
            for statement in (
                delete(run_claims).where(
                    run_claims.c.finished_at.is_not(None), run_claims.c.finished_at < before
                ),
                delete(operations).where(
                    operations.c.finished_at.is_not(None), operations.c.finished_at < before
                ),
                delete(alerts).where(
                    alerts.c.status == AlertStatus.RESOLVED.value, alerts.c.resolved_at < before
                ),
                delete(alert_groups).where(
                    alert_groups.c.resolved_at.is_not(None), alert_groups.c.resolved_at < before
                ),
                # A silence over (run out or lifted) before it: nothing refers to it any more
                # (an incident it held said its end at the first sweep after).
                delete(silences).where(
                    or_(silences.c.ends_at < before, silences.c.lifted_at < before)
                ),
                delete(outbox).where(
                    o.state.in_(OutboxState.DONE),
                    o.finished_at < before,
                    o.id.not_in(still_referred),
                    o.id.not_in(waiting_children),
                ),
            ):
                result = await conn.execute(statement)
                removed += result.rowcount or 0
        return removed
