"""Bench of the backup schedules over a big fleet: what a sweep pays to know, for every cluster,
its schedule, its longest wait (the maximum age), its latest slot and the slots around a
maintenance.

The fleet mixes what real folders hold: snapshot schedules (hourly, daily and weekly at many
different times) and retention policies (nightly at many different times, weekly, on the 1st of
the month, twice a day, on working days, on the 13th or a Friday). A fleet has few distinct
crontabs and fewer distinct sets of days, so the first sweep of a process pays for parsing and for
the longest waits (the 28-year calendar scan), and every sweep after it pays only for the slots.

Run: ``python bench/bench_schedules.py [--clusters N] [--sweeps N]``; it prints, for each part,
the first sweep's time, the median of the later ones, and the later ones' cost per cluster.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from bot.cloud.models import (
    CronTab,
    DailySnapshotSchedule,
    HourlySnapshotSchedule,
    RetentionPolicy,
    SnapshotSchedule,
    WeekDay,
    WeeklySnapshotSchedule,
)
from bot.freshness.schedules import BackupSchedule, policy_schedule, snapshot_schedule

NOW = datetime(2026, 11, 23, 21, 20, tzinfo=UTC)
_DAYS = list(WeekDay)[1:]


def _policy(n: int, minute: str, hour: str, dom: str = "*", dow: str = "*") -> RetentionPolicy:
    tab = CronTab(minute=minute, hour=hour, day_of_month=dom, month="*", day_of_week=dow)
    return RetentionPolicy(policy_id=f"p{n}", policy_name=f"policy-{n}", cron=tab)


def fleet(clusters: int) -> list[tuple[SnapshotSchedule | None, list[RetentionPolicy]]]:
    """Each cluster's snapshot schedule (or None) and its retention policies."""
    out: list[tuple[SnapshotSchedule | None, list[RetentionPolicy]]] = []
    for n in range(clusters):
        minute, hour = str(n * 7 % 60), str(n % 24)
        kind = n % 8
        if kind == 0:
            snap = SnapshotSchedule(hourly_snapshot_schedule=HourlySnapshotSchedule(minute=n % 60))
            out.append((snap, []))
        elif kind == 1:
            daily = DailySnapshotSchedule(hour=n % 24, minute=n * 7 % 60)
            out.append((SnapshotSchedule(daily_snapshot_schedule=daily), []))
        elif kind == 2:
            weekly = WeeklySnapshotSchedule(day=_DAYS[n % 7], hour=n % 24)
            out.append((SnapshotSchedule(weekly_snapshot_schedule=weekly), []))
        elif kind == 3:
            out.append((None, [_policy(n, minute, hour)]))
        elif kind == 4:
            out.append((None, [_policy(n, minute, hour), _policy(n, "0", "4", dow=str(n % 7))]))
        elif kind == 5:
            out.append((None, [_policy(n, minute, "3,15"), _policy(n, "30", "2", dom="1")]))
        elif kind == 6:
            out.append((None, [_policy(n, minute, hour, dow="1-5")]))
        else:
            out.append((None, [_policy(n, "0", hour, dom="13", dow="fri")]))
    return out


def sweep(
    clusters: list[tuple[SnapshotSchedule | None, list[RetentionPolicy]]], now: datetime
) -> tuple[float, float]:
    """What a sweep asks of each cluster's schedule: its schedule, maximum age and latest slot
    (every cluster, every sweep), and the slots around a maintenance (asked only of clusters
    with one planned; here of every one). The seconds each part took."""
    start = time.perf_counter()
    schedules: list[BackupSchedule] = []
    for snapshot, policies in clusters:
        schedule = snapshot_schedule(snapshot) or policy_schedule(policies)
        if schedule is not None:
            schedules.append(schedule)
            _ = schedule.period
            schedule.last_slot(now - timedelta(minutes=30))
    middle = time.perf_counter()
    for schedule in schedules:
        schedule.slots_between(now - timedelta(hours=1), now + timedelta(hours=4))
    return middle - start, time.perf_counter() - middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--sweeps", type=int, default=7)
    args = parser.parse_args()
    clusters = fleet(args.clusters)
    runs = [sweep(clusters, NOW + timedelta(minutes=15 * n)) for n in range(args.sweeps)]
    print(f"clusters: {args.clusters}")
    for part, name in enumerate(("schedule, max age, last slot", "slots around a maintenance")):
        first = runs[0][part]
        later = statistics.median(run[part] for run in runs[1:])
        print(
            f"{name}: first sweep {first * 1000:.0f} ms, later sweeps {later * 1000:.0f} ms "
            f"({later / args.clusters * 1e6:.1f} us a cluster)"
        )


if __name__ == "__main__":
    main()
