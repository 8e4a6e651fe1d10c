"""Incidents: one per (cluster, alert route), the grouped alerts of a storm, and the bot's own
(it cannot read the cloud, it cannot post to a channel).

Reads are here; writes go through :meth:`bot.store.Store.commit` with the posts they call for,
each row guarded by the version it was read at, so two replicas never both move one incident.
An incident's and a group's message ts is the outbox's, once the outbox has posted it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from bot.alerts.model import (
    AlertEntry,
    AlertGroup,
    AlertStatus,
    BotIncident,
    BotIncidentStatus,
    Seen,
)
from bot.freshness.attempts import AttemptOutcome
from bot.freshness.model import FreshnessState, MaxAge, MaxAgeSource
from bot.outbox.change import dump_messages, load_messages
from bot.store.db import Database
from bot.store.rows import from_row, to_row
from bot.store.sql import save_guarded
from bot.store.tables import alert_groups, alerts, bot_incidents, outbox

log = logging.getLogger(__name__)

#: The statuses of an incident that is not over, as stored.
OPEN_STATUSES = tuple(status.value for status in AlertStatus if status.is_open)

#: The outbox row of an alert's (or a group's) message, for its ts.
_message = outbox.alias("message")


class Incidents:
    """Reads of incidents, grouped alerts and the bot's own incidents; each is one short
    transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_alert(self, cluster_id: str, route_key: str) -> AlertEntry | None:
        """The incident of ``cluster_id`` on the alert route ``route_key``, if any."""
        c = alerts.c
        query = _alerts_query().where(c.cluster_id == cluster_id, c.route_key == route_key)
        async with self._db.reading() as conn:
            row = (await conn.execute(query)).first()
            return None if row is None else _alert_from_row(row)

    async def list_alerts(
        self,
        *,
        route_key: str | None = None,
        open_only: bool = False,
        group_id: str | None = None,
    ) -> list[AlertEntry]:
        """Incidents, optionally of one route, one group and only open ones, by route then
        cluster."""
        c = alerts.c
        query = _alerts_query().order_by(c.route_key, c.cluster_id)
        if route_key is not None:
            query = query.where(c.route_key == route_key)
        if group_id is not None:
            query = query.where(c.group_id == group_id)
        if open_only:
            query = query.where(c.status.in_(OPEN_STATUSES))
        async with self._db.reading() as conn:
            return [_alert_from_row(row) for row in await conn.execute(query)]

    async def list_groups(
        self, *, route_key: str | None = None, open_only: bool = False
    ) -> list[AlertGroup]:
        """Grouped alerts, optionally of one route and open only, oldest first."""
        g = alert_groups.c
        query = _groups_query().order_by(g.opened_at, g.id)
        if route_key is not None:
            query = query.where(g.route_key == route_key)
        if open_only:
            query = query.where(g.resolved_at.is_(None))
        async with self._db.reading() as conn:
            return [from_row(AlertGroup, row) for row in await conn.execute(query)]

    async def get_group(self, group_id: str) -> AlertGroup | None:
        """The grouped alert ``group_id``, if it is still kept."""
        query = _groups_query().where(alert_groups.c.id == group_id)
        async with self._db.reading() as conn:
            row = (await conn.execute(query)).first()
            return None if row is None else from_row(AlertGroup, row)

    async def get_incident(self, key: str) -> BotIncident | None:
        """The bot's own incident ``key`` ("blind", "channel:<id>"), if it ever had one."""
        query = select(bot_incidents).where(bot_incidents.c.key == key)
        async with self._db.reading() as conn:
            row = (await conn.execute(query)).first()
            return None if row is None else _incident_from_row(row)

    async def list_incidents(self, *, open_only: bool = False) -> list[BotIncident]:
        """The bot's own incidents, optionally open ones only, by key."""
        query = select(bot_incidents).order_by(bot_incidents.c.key)
        if open_only:
            query = query.where(bot_incidents.c.status == BotIncidentStatus.OPEN.value)
        async with self._db.reading() as conn:
            return [_incident_from_row(row) for row in await conn.execute(query)]


async def write_alert(conn: AsyncConnection, entry: AlertEntry) -> AlertEntry:
    """Save ``entry`` within ``conn``'s transaction, guarded by the version it was read at; the
    entry at its next version. Raises :class:`~bot.store.sql.Stale` if someone saved it since."""
    row = to_row(
        entry,
        alerts,
        status=AlertStatus(entry.status).value,
        # With a message in the outbox its ts is the outbox's; only an incident opened before the
        # outbox keeps the ts it was posted at.
        message_ts=entry.message_ts if entry.message_id is None else None,
        cluster_name=entry.cluster_name[:255] or None,
        folder_id=entry.folder_id[:255] or None,
        last_state=None if entry.last_state is None else FreshnessState(entry.last_state).value,
        seen=None if entry.seen is None else dump_seen(entry.seen),
    )
    version = await save_guarded(conn, alerts, row, ["cluster_id", "route_key"])
    return replace(entry, version=version)


async def write_group(conn: AsyncConnection, group: AlertGroup) -> AlertGroup:
    """Save ``group`` like :func:`write_alert` saves an incident."""
    row = to_row(group, alert_groups, label=group.label[:255])
    version = await save_guarded(conn, alert_groups, row, ["id"])
    return replace(group, version=version)


async def write_incident(conn: AsyncConnection, incident: BotIncident) -> BotIncident:
    """Save the bot's own ``incident`` like :func:`write_alert` saves an incident."""
    row = to_row(
        incident,
        bot_incidents,
        status=BotIncidentStatus(incident.status).value,
        messages=dump_messages(incident.messages),
    )
    version = await save_guarded(conn, bot_incidents, row, ["key"])
    return replace(incident, version=version)


def _alerts_query() -> Select[Any]:
    """Incidents with the ts of their message, once the outbox has posted it."""
    return select(alerts, _message.c.ts.label("message_sent_ts")).outerjoin(
        _message, _message.c.id == alerts.c.message_id
    )


def _alert_from_row(row: Row[Any]) -> AlertEntry:
    return from_row(
        AlertEntry,
        row,
        status=AlertStatus(row.status),
        message_ts=row.message_sent_ts if row.message_id is not None else row.message_ts,
        cluster_name=row.cluster_name or "",
        folder_id=row.folder_id or "",
        last_state=None if row.last_state is None else FreshnessState(row.last_state),
        seen=load_seen(row.seen),
    )


def dump_seen(seen: Seen) -> str:
    """A remembered reading as JSON: durations in seconds, times in ISO 8601."""
    return json.dumps(
        {
            "max_age": seen.max_age.value.total_seconds(),
            "max_age_source": seen.max_age.source.value,
            "max_age_detail": seen.max_age.detail,
            "blocking": seen.blocking,
            "words": list(seen.words),
            "attempt": None if seen.attempt is None else seen.attempt.value,
            "attempt_at": None if seen.attempt_at is None else seen.attempt_at.isoformat(),
            "attempt_error": seen.attempt_error,
            "attempt_code": seen.attempt_code,
            "failed_in_a_row": seen.failed_in_a_row,
        },
        separators=(",", ":"),
    )


def load_seen(raw: str | None) -> Seen | None:
    """What :func:`dump_seen` wrote; None for nothing, or for what it cannot read (a memory
    is a convenience: without it a row shows only what the incident itself holds)."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
        attempt_at = data.get("attempt_at")
        return Seen(
            max_age=MaxAge(
                timedelta(seconds=float(data["max_age"])),
                MaxAgeSource(data["max_age_source"]),
                str(data.get("max_age_detail", "")),
            ),
            blocking=str(data.get("blocking", "")),
            words=tuple(str(w) for w in data.get("words", ())),
            attempt=None if data.get("attempt") is None else AttemptOutcome(data["attempt"]),
            attempt_at=None if attempt_at is None else datetime.fromisoformat(attempt_at),
            attempt_error=str(data.get("attempt_error", "")),
            attempt_code=int(data.get("attempt_code", 0)),
            failed_in_a_row=int(data.get("failed_in_a_row", 0)),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        log.warning("an incident's memory of its cluster could not be read; left out")
        return None


def _groups_query() -> Select[Any]:
    """Grouped alerts with the ts of their message (named as the value's field), once posted."""
    return select(alert_groups, _message.c.ts.label("message_ts")).outerjoin(
        _message, _message.c.id == alert_groups.c.message_id
    )


def _incident_from_row(row: Row[Any]) -> BotIncident:
    return from_row(
        BotIncident,
        row,
        status=BotIncidentStatus(row.status),
        messages=load_messages(row.messages),
    )
