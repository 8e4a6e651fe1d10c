"""Why a cluster's backups stand as they do, from what the cloud says beyond the backups.

The cluster's own state (a DEAD or ERROR cluster cannot make backups), its backup attempts
(:mod:`bot.freshness.attempts`), a planned maintenance that falls in the backup window, whether its
newest backup would restore (:mod:`bot.freshness.restore`), its backup retention policies and the
sizes and durations of its last backups. One :class:`Explanation` per cluster reading, attached
to its :class:`~bot.freshness.model.FreshnessReport`, so every message that shows a cluster's
freshness can say why. Pure: plain values and ``now``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cloud.models import (
    Backup,
    Cluster,
    ClusterHealth,
    ClusterStatus,
    RetentionPolicy,
    Version,
    newest_first_key,
)
from bot.freshness.attempts import AttemptHistory
from bot.freshness.restore import RestoreReadiness, restore_readiness
from bot.freshness.schedules import BackupSchedule
from bot.i18n.catalog import N_, resay

#: How many of the newest backups a trend shows.
TREND_LENGTH = 14
#: How long a maintenance window lasts (Managed Service maintenance windows are an hour).
MAINTENANCE_LENGTH = timedelta(hours=1)
#: A backup window lasts at least this long (the newest backup's duration when longer).
BACKUP_WINDOW = timedelta(hours=1)
#: A planned maintenance further back than this is history, not an explanation.
MAINTENANCE_PAST = timedelta(days=1)

#: Statuses worth saying wherever the cluster's freshness is shown (RUNNING goes unsaid, and
#: STOPPED and STOPPING have a freshness state of their own, which says so).
_STATUS_SHOWN = frozenset(
    {ClusterStatus.ERROR, ClusterStatus.UPDATING, ClusterStatus.CREATING, ClusterStatus.STARTING}
)
_HEALTH_SHOWN = frozenset({ClusterHealth.DEAD, ClusterHealth.DEGRADED})


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One backup, as a trend shows it."""

    created_at: datetime
    size_bytes: int
    duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class Condition:
    """The cluster's own state, where it is worth saying.

    ``blocking`` names what stops backups ("DEAD", "ERROR"): said first for a stale cluster.
    ``words`` are the rest, for a person ("health DEGRADED", "UPDATING"). Values from a newer
    API: an unknown status is said as sent; an unknown health is not said (it may be good).
    """

    blocking: str = ""
    words: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.blocking or self.words)


@dataclass(frozen=True, slots=True)
class Maintenance:
    """A maintenance the cloud has planned, overlapping a backup slot."""

    at: datetime  # when it is due (``delayedUntil``, else the next maintenance window)
    info: str  # the cloud's description, as sent
    slot: datetime  # the backup slot it overlaps
    delayed: bool  # whether the time is a ``delayedUntil``


@dataclass(frozen=True, slots=True)
class Explanation:
    """What the cloud says of a cluster beyond its backups' ages."""

    condition: Condition = Condition()
    #: The backup attempts among its operations; None when the operations were not read.
    attempts: AttemptHistory | None = None
    #: Why the operations could not be read, for a person (then ``attempts`` is None).
    operations_error: str = ""
    maintenance: Maintenance | None = None
    #: The newest backup's readiness for a restore; None without a backup.
    restore: RestoreReadiness | None = None
    #: Its retention policies; None when they were not read, or are not offered here.
    policies: tuple[RetentionPolicy, ...] | None = None
    #: Whether the cloud offers retention policies for it (None: not asked).
    policies_offered: bool | None = None
    policies_error: str = ""
    schedule: BackupSchedule | None = None
    #: The newest backups, oldest first (at most :data:`TREND_LENGTH`).
    trend: tuple[TrendPoint, ...] = ()
    #: The slot that should have a backup by now and has none (see freshness.missed_slot).
    missed_slot: datetime | None = None


#: The words of a condition, made in the source language (they are stored with an incident) and
#: said in the reader's with :func:`say_words`.
HEALTH = N_("health {health}")
STATUS = N_("status {status}")


def say_words(condition: Condition) -> list[str]:
    """A condition's words in the current locale: ``здоровье DEGRADED``."""
    return [resay(word, (HEALTH, STATUS)) for word in condition.words]


def condition_of(cluster: Cluster) -> Condition:
    """What of the cluster's health and status is worth saying."""
    blocking = ""
    if cluster.known_health == ClusterHealth.DEAD:
        blocking = "DEAD"
    elif cluster.status == ClusterStatus.ERROR:
        blocking = "ERROR"
    words: list[str] = []
    if cluster.known_health in _HEALTH_SHOWN and blocking != "DEAD":
        words.append(HEALTH.format(health=cluster.health.value))
    status = cluster.status
    if (status in _STATUS_SHOWN or not status.is_known) and blocking != "ERROR":
        words.append(STATUS.format(status=status.value))
    return Condition(blocking, tuple(words))


def trend_of(backups: Iterable[Backup], length: int = TREND_LENGTH) -> tuple[TrendPoint, ...]:
    """The ``length`` newest completed backups as trend points, oldest first."""
    done = [b for b in backups if b.created_at is not None]
    newest = heapq.nlargest(length, done, key=newest_first_key)
    return tuple(
        TrendPoint(b.created_at, b.size_bytes, b.duration_seconds)
        for b in reversed(newest)
        if b.created_at is not None
    )


def merge_trend(
    kept: Sequence[TrendPoint], backups: Iterable[Backup], length: int = TREND_LENGTH
) -> tuple[TrendPoint, ...]:
    """``kept`` and the points of ``backups`` together, the ``length`` newest (for a reader
    that sees a listing page by page)."""
    points = [*kept, *trend_of(backups, length)]
    newest = heapq.nlargest(length, points, key=lambda p: p.created_at)
    return tuple(reversed(newest))


def maintenance_in_window(
    cluster: Cluster,
    schedule: BackupSchedule | None,
    newest: Backup | None,
    now: datetime,
) -> Maintenance | None:
    """The cluster's planned maintenance, when it overlaps one of its backup slots (a slot
    lasts :data:`BACKUP_WINDOW`, or the newest backup's duration when longer; a maintenance
    :data:`MAINTENANCE_LENGTH`). None with no maintenance, no known slots, or no overlap."""
    planned = cluster.planned_operation
    if planned is None or schedule is None or not schedule.crons:
        return None
    at = planned.delayed_until or planned.next_maintenance_window_time
    if at is None or at < now - MAINTENANCE_PAST:
        return None
    window = BACKUP_WINDOW
    if newest is not None and newest.duration_seconds is not None:
        window = max(window, timedelta(seconds=newest.duration_seconds))
    slots = schedule.slots_between(at - window, at + MAINTENANCE_LENGTH)
    if not slots:
        return None
    return Maintenance(
        at=at, info=planned.info, slot=slots[0], delayed=planned.delayed_until is not None
    )


def explain(
    cluster: Cluster,
    *,
    newest: Backup | None,
    now: datetime,
    schedule: BackupSchedule | None = None,
    attempts: AttemptHistory | None = None,
    operations_error: str = "",
    policies: Sequence[RetentionPolicy] | None = None,
    policies_offered: bool | None = None,
    policies_error: str = "",
    versions: Sequence[Version] | None = None,
    trend: Sequence[TrendPoint] = (),
    missed: datetime | None = None,
) -> Explanation:
    """The explanation of one cluster as read at ``now``."""
    return Explanation(
        condition=condition_of(cluster),
        attempts=attempts,
        operations_error=operations_error,
        maintenance=maintenance_in_window(cluster, schedule, newest, now),
        restore=restore_readiness(cluster, newest, versions) if newest is not None else None,
        policies=tuple(policies) if policies is not None else None,
        policies_offered=policies_offered,
        policies_error=policies_error,
        schedule=schedule,
        trend=tuple(trend),
        missed_slot=missed,
    )
