"""The freshness policy: how old a cluster's newest backup may be, and what state it is in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.config import Freshness
from bot.core.match import matches
from bot.core.types import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.models import Backup, Cluster, ClusterStatus, WeekDay

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)


def max_age_for(cluster: Cluster, freshness: Freshness) -> MaxAge:
    """The cluster's maximum backup age.

    The first matching override is used as is. Otherwise the cluster's own snapshot schedule sets
    it (one period plus ``grace``: a backup takes time and a schedule slips a little). A cluster
    with no schedule gets ``default_max_age`` plus ``grace``.
    """
    for override in freshness.overrides:
        if matches(override.match, cluster):
            return MaxAge(override.max_age, MaxAgeSource.OVERRIDE, "override")
    grace = freshness.grace
    schedule = cluster.snapshot_schedule
    if schedule is not None:
        if schedule.hourly_snapshot_schedule is not None:
            return MaxAge(_HOUR + grace, MaxAgeSource.SCHEDULE, "hourly")
        if schedule.daily_snapshot_schedule is not None:
            daily = schedule.daily_snapshot_schedule
            at = f"{daily.hour:02d}:{daily.minute:02d} UTC"
            return MaxAge(_DAY + grace, MaxAgeSource.SCHEDULE, f"daily at {at}")
        if schedule.weekly_snapshot_schedule is not None:
            weekly = schedule.weekly_snapshot_schedule
            at = f"{weekly.hour:02d}:{weekly.minute:02d} UTC"
            on = "" if weekly.day == WeekDay.WEEK_DAY_UNSPECIFIED else f" on {weekly.day.value}"
            return MaxAge(_WEEK + grace, MaxAgeSource.SCHEDULE, f"weekly{on} at {at}")
    return MaxAge(freshness.default_max_age + grace, MaxAgeSource.DEFAULT, "default")


def newest_backup(backups: Iterable[Backup]) -> Backup | None:
    """The backup that completed last (by ``createdAt``); backups still running are ignored.

    Ties are broken by id so that the answer does not depend on the API's order.
    """
    completed = [b for b in backups if b.created_at is not None]
    if not completed:
        return None
    return max(completed, key=_completion_key)


def backups_newest_first(backups: Iterable[Backup]) -> list[Backup]:
    """Completed backups, the newest first (same order as :func:`newest_backup`)."""
    completed = [b for b in backups if b.created_at is not None]
    return sorted(completed, key=_completion_key, reverse=True)


def _completion_key(backup: Backup) -> tuple[datetime, str]:
    assert backup.created_at is not None
    return (backup.created_at, backup.id)


def classify(
    cluster: Cluster,
    backups: Sequence[Backup] | None,
    *,
    max_age: MaxAge,
    now: datetime,
    read_error: str | None = None,
    had_schedule: bool = False,
) -> FreshnessReport:
    """The cluster's freshness at ``now``.

    In order: backups that could not be read are UNKNOWN (never guessed fresh); a stopped or
    stopping cluster is STOPPED; a cluster whose snapshot schedule was removed (``had_schedule``)
    is UNSCHEDULED; no completed backup is NEVER; older than ``max_age`` is STALE; else FRESH.
    A backup dated in the future (clock skew) counts as age zero.
    """
    if backups is None or read_error is not None:
        return FreshnessReport(
            cluster_id=cluster.id,
            state=FreshnessState.UNKNOWN,
            max_age=max_age,
            reason=read_error or "the cluster's backups could not be read",
        )
    newest = newest_backup(backups)
    newest_at = newest.created_at if newest is not None else None
    age = max(timedelta(0), now - newest_at) if newest_at is not None else None

    if cluster.status in (ClusterStatus.STOPPED, ClusterStatus.STOPPING):
        state = FreshnessState.STOPPED
    elif had_schedule and cluster.snapshot_schedule is None:
        state = FreshnessState.UNSCHEDULED
    elif age is None:
        state = FreshnessState.NEVER
    elif age > max_age.value:
        state = FreshnessState.STALE
    else:
        state = FreshnessState.FRESH
    return FreshnessReport(
        cluster_id=cluster.id,
        state=state,
        max_age=max_age,
        newest_backup_id=newest.id if newest is not None else None,
        newest_backup_at=newest_at,
        age=age,
    )
