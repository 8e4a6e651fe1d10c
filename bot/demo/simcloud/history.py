"""The simulated cloud keeps time: the demo fleet's past, months of it, with real gaps.

The cloud lists a cluster's backups of the last two weeks only (:data:`LISTED_FOR`); what it
listed before is gone from it. :func:`demo_history` gives the demo fleet the past a real fleet
has: every backup each scheduled cluster made over :data:`HISTORY_DAYS` days (those the fleet
still lists, and the older ones generated back along its schedule), a weekend when an Object
Storage outage cost a whole folder its backups, and a week when ``catalog-staging`` was stopped
(and ``logs-archive`` stopped since shortly after its last backup). :meth:`SimHistory.listed_at`
says what the cloud listed at any past instant, so that a bot that had been watching all along
can be replayed (``backups-bot demo`` does that at start, so that ``/backups slo`` and
``/backups history`` have something true to show), and a test can compute the same figures
from this timeline on its own.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.demo.simcloud.fleet import Fleet, SimBackup, backup_id_for

#: How far back the cloud lists a cluster's backups.
LISTED_FOR = timedelta(days=14)
#: How much past the demo fleet has.
HISTORY_DAYS = 100
#: The folder whose backups an Object Storage outage stopped for a weekend, and when (weeks
#: back, older than any backup the fleet still lists).
OUTAGE_FOLDER = "observability"
OUTAGE_WEEKS_BACK = 10
#: The cluster stopped for a week, and when (days back).
STOPPED_FOR_A_WEEK = "catalog-staging"
STOPPED_DAYS_BACK = 45


@dataclass
class SimHistory:
    """The fleet's past (see the module docstring); every list oldest first."""

    start: datetime
    now: datetime
    #: Every backup of each cluster since ``start``: older ones than the fleet lists, then its own.
    backups: dict[str, list[SimBackup]] = field(default_factory=dict)
    #: When each cluster was stopped: [from, to) stretches.
    stopped: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    #: The weekend outage: the folder's id and the [from, to) it lasted.
    outage: tuple[str, datetime, datetime] | None = None

    def listed_at(self, cluster_id: str, at: datetime) -> list[SimBackup]:
        """The backups the cloud listed for the cluster at ``at``."""
        backups = self.backups.get(cluster_id, [])
        first = bisect.bisect_right(backups, at - LISTED_FOR, key=lambda b: b.created_at)
        last = bisect.bisect_right(backups, at, key=lambda b: b.created_at)
        return backups[first:last]

    def stopped_at(self, cluster_id: str, at: datetime) -> bool:
        return any(a <= at < b for a, b in self.stopped.get(cluster_id, []))

    def changes(self) -> list[datetime]:
        """The instants a cluster was stopped or started again, in order."""
        return sorted({t for spans in self.stopped.values() for span in spans for t in span})


def _saturday_before(at: datetime) -> datetime:
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=(day.weekday() - 5) % 7)


def demo_history(fleet: Fleet, now: datetime, *, days: int = HISTORY_DAYS) -> SimHistory:
    """The past of :func:`bot.demo.simcloud.fleet.demo_fleet` as seen at ``now``."""
    rng = random.Random(20261207)
    start = now - timedelta(days=days)
    history = SimHistory(start=start, now=now)
    by_name = {c.name: c for c in fleet.clusters.values()}
    folder = next((f.id for f in fleet.folders if f.name == OUTAGE_FOLDER), "")
    outage_start = _saturday_before(now - timedelta(weeks=OUTAGE_WEEKS_BACK))
    history.outage = (folder, outage_start, outage_start + timedelta(days=2))

    if STOPPED_FOR_A_WEEK in by_name:
        stop = (now - timedelta(days=STOPPED_DAYS_BACK)).replace(
            hour=9, minute=40, second=0, microsecond=0
        )
        history.stopped[by_name[STOPPED_FOR_A_WEEK].id] = [(stop, stop + timedelta(days=7))]
    for cluster in fleet.clusters.values():
        if cluster.status == "STOPPED":
            newest = fleet.newest_backup(cluster.id)
            since = (newest.created_at if newest else start) + timedelta(hours=12)
            history.stopped.setdefault(cluster.id, []).append((since, now + timedelta(days=1)))

    for cluster in sorted(fleet.clusters.values(), key=lambda c: c.name):
        listed = sorted(fleet.backups.get(cluster.id, []), key=lambda b: b.created_at)
        if not listed:
            history.backups[cluster.id] = []
            continue
        interval = cluster.schedule.interval if cluster.schedule else timedelta(days=1)
        older: list[SimBackup] = []
        at = listed[0].created_at - interval
        while at >= start:
            created = at + timedelta(seconds=rng.randint(-90, 90))
            in_outage = cluster.folder_id == folder and outage_start <= created < (
                outage_start + timedelta(days=2)
            )
            if not in_outage and not history.stopped_at(cluster.id, created):
                duration = timedelta(seconds=rng.randint(90, 2400))
                older.append(
                    SimBackup(
                        id=backup_id_for(cluster.id, created),
                        folder_id=cluster.folder_id,
                        cluster_id=cluster.id,
                        started_at=created - duration,
                        created_at=created,
                        size_bytes=listed[0].size_bytes,
                        total_size_bytes=listed[0].size_bytes,
                    )
                )
            at -= interval
        history.backups[cluster.id] = [*reversed(older), *listed]
    return history


def replay_times(history: SimHistory, *, every: timedelta, until: datetime) -> list[datetime]:
    """When a bot watching since the start would have read the fleet: every ``every`` (aligned
    to UTC midnight), and at each stop and start (its sweeps saw them as they happened)."""
    first = history.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    times = set()
    t = first + every
    while t <= until:
        times.add(t)
        t += every
    times.update(c for c in history.changes() if history.start < c <= until)
    times.add(until)  # and now: the demo starts with nothing it cannot vouch for
    return sorted(times)
