"""The freshness policy: how old a cluster's newest backup may be, what state it is in, and
whether that state is in question (worth asking the cloud's operations why)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.cloud.models import Backup, Cluster, ClusterStatus, RetentionPolicy
from bot.config import Freshness
from bot.fleet.match import matches
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.freshness.schedules import BackupSchedule, policy_schedule, snapshot_schedule
from bot.i18n.catalog import _

#: A slot is missed once this long has passed without a backup completing after it (at least;
#: twice the newest backup's duration when that is longer): a backup takes time.
SLOT_ALLOWANCE = timedelta(minutes=30)
#: A backup that completed this long before a slot still counts for it (a scheduler may start
#: a little early).
SLOT_EARLY = timedelta(minutes=10)


def schedule_for(
    cluster: Cluster, policies: Iterable[RetentionPolicy] = ()
) -> BackupSchedule | None:
    """When the cluster's backups are due: its own snapshot schedule, or, when it has none, the
    crontabs of its backup retention policies; None when neither says."""
    own = snapshot_schedule(cluster.snapshot_schedule)
    if own is not None:
        return own
    return policy_schedule(policies)


def max_age_for(
    cluster: Cluster, freshness: Freshness, policies: Iterable[RetentionPolicy] = ()
) -> MaxAge:
    """The cluster's maximum backup age.

    The first matching override is used as is. Otherwise the cluster's own snapshot schedule sets
    it (one period plus ``grace``: a backup takes time and a schedule slips a little); with no
    snapshot schedule, its backup retention policies' crontabs do (the longest wait between two
    slots of the most frequent one, plus ``grace``). A cluster with neither gets
    ``default_max_age`` plus ``grace``.
    """
    for override in freshness.overrides:
        if matches(override.match, cluster):
            return MaxAge(override.max_age, MaxAgeSource.OVERRIDE, "override")
    grace = freshness.grace
    schedule = schedule_for(cluster, policies)
    if schedule is not None:
        source = MaxAgeSource.SCHEDULE if schedule.source == "snapshot" else MaxAgeSource.POLICY
        return MaxAge(schedule.period + grace, source, schedule.detail)
    return MaxAge(freshness.default_max_age + grace, MaxAgeSource.DEFAULT, "default")


def missed_slot(
    schedule: BackupSchedule | None, newest: Backup | None, now: datetime
) -> datetime | None:
    """The schedule's latest slot that should have a backup by ``now`` and has none: no backup
    completed at or after it, and a backup's time (:data:`SLOT_ALLOWANCE`, or twice the newest
    backup's duration) has passed since. None when every slot has its backup, or the slots are
    not known, or there is no backup at all (that is NEVER)."""
    if schedule is None or newest is None or newest.created_at is None:
        return None
    allowance = SLOT_ALLOWANCE
    if newest.duration_seconds is not None:
        allowance = max(allowance, timedelta(seconds=2 * newest.duration_seconds))
    allowance = min(allowance, schedule.period)
    slot = schedule.last_slot(now - allowance)
    if slot is None or newest.created_at >= slot - SLOT_EARLY:
        return None
    return slot


def in_question(report: FreshnessReport, missed: datetime | None) -> bool:
    """Whether the cluster's freshness is in question: stale, never backed up, or fresh but
    past a slot with no backup. Only those are worth a read of the cluster's operations."""
    if report.state in (FreshnessState.STALE, FreshnessState.NEVER):
        return True
    return report.state == FreshnessState.FRESH and missed is not None


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
            reason=read_error or _("the cluster's backups could not be read"),
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
