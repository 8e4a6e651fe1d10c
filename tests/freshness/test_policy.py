"""The freshness policy: maximum ages from schedules and overrides, and the state of a cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cloud.models import Backup, Cluster, ClusterStatus, CronTab, RetentionPolicy
from bot.config import Freshness
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.freshness.policy import (
    backups_newest_first,
    classify,
    in_question,
    max_age_for,
    missed_slot,
    newest_backup,
    schedule_for,
)

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
DAILY = MaxAge(timedelta(hours=26), MaxAgeSource.SCHEDULE, "daily at 03:00 UTC")


def cluster(schedule: dict[str, Any] | None = None, **fields: Any) -> Cluster:
    data: dict[str, Any] = {"id": "c9qcluster1", "folderId": "b1gfolder1", "name": "orders"}
    if schedule is not None:
        data["config"] = {"snapshotManagement": {"snapshotSchedule": schedule}}
    data.update(fields)
    return Cluster.model_validate(data)


def backup(backup_id: str, created_at: datetime | None, size: int = 100) -> Backup:
    return Backup(id=backup_id, created_at=created_at, size_bytes=size)


FRESHNESS = Freshness(grace=timedelta(hours=2), default_max_age=timedelta(hours=24))


# --- max_age_for -------------------------------------------------------------------------------


def test_an_hourly_schedule_allows_an_hour_plus_grace() -> None:
    got = max_age_for(cluster({"hourlySnapshotSchedule": {"minute": 15}}), FRESHNESS)
    assert got == MaxAge(timedelta(hours=3), MaxAgeSource.SCHEDULE, "hourly")


def test_a_daily_schedule_allows_a_day_plus_grace_and_says_when() -> None:
    got = max_age_for(cluster({"dailySnapshotSchedule": {"hour": 3, "minute": 5}}), FRESHNESS)
    assert got == MaxAge(timedelta(hours=26), MaxAgeSource.SCHEDULE, "daily at 03:05 UTC")


def test_a_weekly_schedule_allows_a_week_plus_grace_and_says_when() -> None:
    schedule = {"weeklySnapshotSchedule": {"day": "SUN", "hour": "23", "minute": 30}}
    got = max_age_for(cluster(schedule), FRESHNESS)
    assert got == MaxAge(
        timedelta(days=7, hours=2), MaxAgeSource.SCHEDULE, "weekly on SUN at 23:30 UTC"
    )


def test_a_cluster_without_a_schedule_gets_the_default_plus_grace() -> None:
    assert max_age_for(cluster(), FRESHNESS) == MaxAge(
        timedelta(hours=26), MaxAgeSource.DEFAULT, "default"
    )
    # An empty schedule object is no schedule.
    assert max_age_for(cluster({}), FRESHNESS).source == MaxAgeSource.DEFAULT


def test_the_first_matching_override_is_used_as_is_without_grace() -> None:
    freshness = Freshness.model_validate(
        {
            "grace": "2h",
            "overrides": [
                {"match": {"labels": {"tier": "bulk"}}, "max_age": "3d"},
                {"match": {"labels": {"tier": "critical"}}, "max_age": "6h"},
                {"match": {}, "max_age": "12h"},
            ],
        }
    )
    critical = cluster({"hourlySnapshotSchedule": {}}, labels={"tier": "critical"})
    assert max_age_for(critical, freshness) == MaxAge(
        timedelta(hours=6), MaxAgeSource.OVERRIDE, "override"
    )
    assert max_age_for(cluster(), freshness).value == timedelta(hours=12)


def test_an_override_that_does_not_match_leaves_the_schedule_in_charge() -> None:
    freshness = Freshness.model_validate(
        {"overrides": [{"match": {"environment": "prestable"}, "max_age": "1h"}]}
    )
    got = max_age_for(cluster({"dailySnapshotSchedule": {}}, environment="PRODUCTION"), freshness)
    assert got.source == MaxAgeSource.SCHEDULE


# --- newest_backup -----------------------------------------------------------------------------


def test_the_newest_backup_is_the_one_that_completed_last() -> None:
    backups = [
        backup("a", NOW - timedelta(hours=5)),
        backup("b", NOW - timedelta(hours=1)),
        backup("c", NOW - timedelta(hours=3)),
    ]
    assert newest_backup(backups) == backups[1]
    assert [b.id for b in backups_newest_first(backups)] == ["b", "c", "a"]


def test_a_backup_still_running_is_not_the_newest() -> None:
    running = backup("running", None)
    done = backup("done", NOW - timedelta(days=2))
    assert newest_backup([running, done]) == done
    assert newest_backup([running]) is None
    assert newest_backup([]) is None


@given(st.permutations(["a", "b", "c", "d"]))
def test_the_newest_backup_does_not_depend_on_the_api_order(order: list[str]) -> None:
    # Two backups completed at the same instant: the tie is broken by id, whatever the order.
    same = NOW - timedelta(hours=1)
    times = {"a": same, "b": same, "c": NOW - timedelta(hours=2), "d": None}
    backups = [backup(i, times[i]) for i in order]
    got = newest_backup(backups)
    assert got is not None
    assert got.id == "b"


# --- classify ----------------------------------------------------------------------------------


def test_a_backup_within_the_maximum_age_is_fresh() -> None:
    newest = NOW - timedelta(hours=25)
    report = classify(cluster(), [backup("b1", newest)], max_age=DAILY, now=NOW)
    assert report.state == FreshnessState.FRESH
    assert report.newest_backup_id == "b1"
    assert report.newest_backup_at == newest
    assert report.age == timedelta(hours=25)
    assert report.max_age == DAILY


def test_a_backup_exactly_at_the_maximum_age_is_still_fresh() -> None:
    report = classify(cluster(), [backup("b1", NOW - DAILY.value)], max_age=DAILY, now=NOW)
    assert report.state == FreshnessState.FRESH


def test_a_backup_older_than_the_maximum_age_is_stale() -> None:
    old = NOW - DAILY.value - timedelta(seconds=1)
    report = classify(cluster(), [backup("b1", old)], max_age=DAILY, now=NOW)
    assert report.state == FreshnessState.STALE
    assert report.age == DAILY.value + timedelta(seconds=1)


def test_the_age_is_that_of_the_newest_backup() -> None:
    backups = [backup("old", NOW - timedelta(days=9)), backup("new", NOW - timedelta(hours=1))]
    report = classify(cluster(), backups, max_age=DAILY, now=NOW)
    assert report.state == FreshnessState.FRESH
    assert report.newest_backup_id == "new"


def test_a_cluster_with_no_backup_has_never_been_backed_up() -> None:
    assert classify(cluster(), [], max_age=DAILY, now=NOW).state == FreshnessState.NEVER
    running_only = [backup("running", None)]
    assert classify(cluster(), running_only, max_age=DAILY, now=NOW).state == FreshnessState.NEVER


def test_a_backup_from_the_future_counts_as_age_zero() -> None:
    report = classify(
        cluster(), [backup("skew", NOW + timedelta(minutes=7))], max_age=DAILY, now=NOW
    )
    assert report.state == FreshnessState.FRESH
    assert report.age == timedelta(0)


def test_backups_that_could_not_be_read_are_unknown_never_fresh() -> None:
    report = classify(cluster(), None, max_age=DAILY, now=NOW)
    assert report.state == FreshnessState.UNKNOWN
    assert report.reason


def test_a_read_error_is_unknown_with_its_reason_even_with_backups_in_hand() -> None:
    report = classify(
        cluster(),
        [backup("b1", NOW)],
        max_age=DAILY,
        now=NOW,
        read_error="the cloud answered 503 three times",
    )
    assert report.state == FreshnessState.UNKNOWN
    assert report.reason == "the cloud answered 503 three times"
    assert report.newest_backup_id is None


@pytest.mark.parametrize("status", [ClusterStatus.STOPPED, ClusterStatus.STOPPING])
def test_a_stopped_cluster_is_stopped_not_stale(status: ClusterStatus) -> None:
    old = [backup("b1", NOW - timedelta(days=30))]
    report = classify(cluster(status=status), old, max_age=DAILY, now=NOW)
    assert report.state == FreshnessState.STOPPED
    assert report.newest_backup_id == "b1"
    assert classify(cluster(status=status), [], max_age=DAILY, now=NOW).state == (
        FreshnessState.STOPPED
    )


def test_a_cluster_whose_schedule_was_removed_is_unscheduled_not_stale() -> None:
    old = [backup("b1", NOW - timedelta(days=30))]
    report = classify(cluster(), old, max_age=DAILY, now=NOW, had_schedule=True)
    assert report.state == FreshnessState.UNSCHEDULED


def test_a_cluster_that_still_has_its_schedule_is_judged_by_age() -> None:
    scheduled = cluster({"dailySnapshotSchedule": {"hour": 3}})
    old = [backup("b1", NOW - timedelta(days=30))]
    report = classify(scheduled, old, max_age=DAILY, now=NOW, had_schedule=True)
    assert report.state == FreshnessState.STALE


def test_a_cluster_that_never_had_a_schedule_is_judged_by_the_default() -> None:
    old = [backup("b1", NOW - timedelta(days=30))]
    assert classify(cluster(), old, max_age=DAILY, now=NOW).state == FreshnessState.STALE


@given(
    ages=st.lists(
        st.one_of(st.none(), st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(60))),
        max_size=6,
    ),
    limit=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=30)),
)
def test_the_state_agrees_with_the_newest_completed_backup(
    ages: list[timedelta | None], limit: timedelta
) -> None:
    backups = [backup(f"b{i}", None if age is None else NOW - age) for i, age in enumerate(ages)]
    report = classify(cluster(), backups, max_age=MaxAge(limit, MaxAgeSource.DEFAULT), now=NOW)
    done = [age for age in ages if age is not None]
    if not done:
        assert report.state == FreshnessState.NEVER
        assert report.age is None
        return
    youngest = max(min(done), timedelta(0))
    assert report.age == youngest
    assert report.state == (FreshnessState.STALE if youngest > limit else FreshnessState.FRESH)


def test_a_weekly_schedule_without_a_day_says_only_when() -> None:
    schedule = {"weeklySnapshotSchedule": {"hour": 4, "minute": 0}}
    got = max_age_for(cluster(schedule), FRESHNESS)
    assert got == MaxAge(timedelta(days=7, hours=2), MaxAgeSource.SCHEDULE, "weekly at 04:00 UTC")


def test_a_report_names_its_cluster_and_its_maximum_age_whatever_the_state() -> None:
    c = cluster()
    blind = classify(c, None, max_age=DAILY, now=NOW)
    assert (blind.cluster_id, blind.max_age, blind.state) == (
        "c9qcluster1",
        DAILY,
        FreshnessState.UNKNOWN,
    )
    assert blind.reason == "the cluster's backups could not be read"
    seen = classify(c, [backup("b1", NOW - timedelta(hours=1))], max_age=DAILY, now=NOW)
    assert (seen.cluster_id, seen.max_age, seen.state) == (
        "c9qcluster1",
        DAILY,
        FreshnessState.FRESH,
    )


# --- retention policies as a schedule source, missed slots ---------------------------------------


def _policy(minute: str, hour: str, name: str = "nightly") -> RetentionPolicy:
    return RetentionPolicy(
        policy_id="p1", policy_name=name, cron=CronTab(minute=minute, hour=hour), retain_for_days=7
    )


def test_a_policy_schedule_sets_the_maximum_age_when_the_cluster_has_no_snapshot_schedule() -> None:
    got = max_age_for(cluster(), FRESHNESS, [_policy("0", "*/6", "four-a-day")])
    assert got == MaxAge(
        timedelta(hours=8), MaxAgeSource.POLICY, "retention policy four-a-day (0 */6 * * *)"
    )


def test_the_clusters_own_snapshot_schedule_wins_over_its_policies() -> None:
    own = cluster({"dailySnapshotSchedule": {"hour": 3}})
    got = max_age_for(own, FRESHNESS, [_policy("0", "*")])
    assert got.source == MaxAgeSource.SCHEDULE
    assert got.value == timedelta(hours=26)


def test_a_policy_whose_cron_cannot_be_read_leaves_the_default() -> None:
    assert max_age_for(cluster(), FRESHNESS, [_policy("x", "3")]).source == MaxAgeSource.DEFAULT


def test_a_day_only_policy_allows_from_the_start_of_one_day_to_the_end_of_the_next() -> None:
    """The API has dropped the minute and hour: a backup at any time of its day is on time."""
    got = max_age_for(cluster(), FRESHNESS, [_policy("", "")])
    assert got == MaxAge(
        timedelta(days=2, hours=2), MaxAgeSource.POLICY, "retention policy nightly (? ? * * *)"
    )


def test_a_day_only_policy_misses_its_day_only_once_the_day_is_over_without_a_backup() -> None:
    schedule = schedule_for(cluster(), [_policy("", "")])
    late = Backup(id="b", created_at=datetime(2025, 3, 13, 22, 0, tzinfo=UTC))
    # Friday's day is not over at 23:00: Thursday's has its 22:00 backup.
    assert missed_slot(schedule, late, datetime(2025, 3, 14, 23, 0, tzinfo=UTC)) is None
    assert missed_slot(schedule, late, datetime(2025, 3, 15, 0, 29, tzinfo=UTC)) is None
    # Half an hour after Friday's end, with no backup on Friday: missed.
    missed = missed_slot(schedule, late, datetime(2025, 3, 15, 0, 31, tzinfo=UTC))
    assert missed == datetime(2025, 3, 14, tzinfo=UTC)


def test_a_fresh_backup_from_before_the_last_slot_misses_it_once_a_backup_had_time() -> None:
    daily = schedule_for(cluster({"dailySnapshotSchedule": {"hour": 3}}))
    yesterday = Backup(
        id="b",
        started_at=datetime(2025, 3, 13, 3, 0, tzinfo=UTC),
        created_at=datetime(2025, 3, 13, 3, 20, tzinfo=UTC),
    )
    # At 03:30 today the 03:00 backup may still be running (twice 20 minutes have not passed).
    assert missed_slot(daily, yesterday, datetime(2025, 3, 14, 3, 30, tzinfo=UTC)) is None
    missed = missed_slot(daily, yesterday, datetime(2025, 3, 14, 3, 41, tzinfo=UTC))
    assert missed == datetime(2025, 3, 14, 3, 0, tzinfo=UTC)
    today = yesterday.model_copy(update={"created_at": datetime(2025, 3, 14, 3, 12, tzinfo=UTC)})
    assert missed_slot(daily, today, NOW) is None


def test_only_stale_never_and_behind_schedule_clusters_are_in_question() -> None:
    def report(state: FreshnessState) -> FreshnessReport:
        return FreshnessReport(cluster_id="c", state=state, max_age=DAILY)

    slot = datetime(2025, 3, 14, 3, 0, tzinfo=UTC)
    assert in_question(report(FreshnessState.STALE), None)
    assert in_question(report(FreshnessState.NEVER), None)
    assert in_question(report(FreshnessState.FRESH), slot)
    assert not in_question(report(FreshnessState.FRESH), None)
    for state in (FreshnessState.UNKNOWN, FreshnessState.STOPPED, FreshnessState.UNSCHEDULED):
        assert not in_question(report(state), slot)


def test_no_slot_is_missed_without_a_schedule_or_without_a_backup() -> None:
    daily = schedule_for(cluster({"dailySnapshotSchedule": {"hour": 3}}))
    backup = Backup(id="b", created_at=datetime(2025, 3, 10, 3, 20, tzinfo=UTC))
    assert missed_slot(None, backup, NOW) is None
    assert missed_slot(daily, None, NOW) is None
    assert missed_slot(daily, Backup(id="b"), NOW) is None  # not completed: no time to compare
    assert missed_slot(daily, backup, NOW) == datetime(2025, 3, 14, 3, 0, tzinfo=UTC)


def test_a_backup_up_to_ten_minutes_before_its_slot_counts_for_it() -> None:
    """A snapshot may start a little early; one that completed 10 minutes before the slot (or any
    time after it) is that slot's backup, one a second earlier is not."""
    daily = schedule_for(cluster({"dailySnapshotSchedule": {"hour": 3}}))
    slot = datetime(2025, 3, 14, 3, 0, tzinfo=UTC)

    def completed(at: datetime) -> Backup:
        return Backup(id="b", created_at=at)

    assert missed_slot(daily, completed(slot - timedelta(minutes=10)), NOW) is None
    assert missed_slot(daily, completed(slot + timedelta(minutes=5)), NOW) is None
    early = completed(slot - timedelta(minutes=10, seconds=1))
    assert missed_slot(daily, early, NOW) == slot


def test_a_slot_is_missed_half_an_hour_after_it_when_the_backups_take_no_time() -> None:
    daily = schedule_for(cluster({"dailySnapshotSchedule": {"hour": 3}}))
    yesterday = Backup(id="b", created_at=datetime(2025, 3, 13, 3, 5, tzinfo=UTC))
    slot = datetime(2025, 3, 14, 3, 0, tzinfo=UTC)
    assert missed_slot(daily, yesterday, slot + timedelta(minutes=29, seconds=59)) is None
    assert missed_slot(daily, yesterday, slot + timedelta(minutes=30)) == slot
