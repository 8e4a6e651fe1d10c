"""Explanations: what of a cluster's state is said, maintenance in the backup window, trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cloud.models import Backup, Cluster, RetentionPolicy, Version, VersionStatus
from bot.freshness.attempts import AttemptHistory
from bot.freshness.explain import (
    Condition,
    Explanation,
    Maintenance,
    TrendPoint,
    condition_of,
    explain,
    maintenance_in_window,
    merge_trend,
    trend_of,
)
from bot.freshness.restore import RestoreReadiness
from bot.freshness.schedules import BackupSchedule, snapshot_schedule

NOW = datetime(2026, 11, 23, 21, 20, tzinfo=UTC)


def cluster(**fields: Any) -> Cluster:
    return Cluster.model_validate({"id": "c9q1", "name": "orders", **fields})


def daily_at_3(**fields: Any) -> Cluster:
    return cluster(
        config={"snapshotManagement": {"snapshotSchedule": {"dailySnapshotSchedule": {"hour": 3}}}},
        **fields,
    )


def test_a_dead_cluster_or_one_in_error_blocks_backups_and_says_the_rest() -> None:
    assert condition_of(cluster(health="DEAD", status="RUNNING")).blocking == "DEAD"
    dead_in_error = condition_of(cluster(health="DEAD", status="ERROR"))
    assert (dead_in_error.blocking, dead_in_error.words) == ("DEAD", ("status ERROR",))
    in_error = condition_of(cluster(health="DEGRADED", status="ERROR"))
    assert (in_error.blocking, in_error.words) == ("ERROR", ("health DEGRADED",))


def test_a_healthy_running_cluster_says_nothing_and_a_stopped_one_leaves_it_to_its_state() -> None:
    assert not condition_of(cluster(health="ALIVE", status="RUNNING"))
    assert not condition_of(cluster(health="HEALTH_UNKNOWN", status="STOPPED"))
    assert condition_of(cluster(status="UPDATING")).words == ("status UPDATING",)


def test_values_from_a_newer_api_a_status_is_said_as_sent_a_health_is_not() -> None:
    said = condition_of(cluster(health="REBALANCING", status="RESTORING"))
    assert said.words == ("status RESTORING",)
    assert said.blocking == ""


def test_a_maintenance_over_the_backup_slot_is_mentioned_and_one_elsewhere_is_not() -> None:
    schedule = snapshot_schedule(daily_at_3().snapshot_schedule)
    over = daily_at_3(
        plannedOperation={"info": "Update OpenSearch", "delayedUntil": "2026-11-24T03:30:00Z"}
    )
    found = maintenance_in_window(over, schedule, None, NOW)
    assert found is not None
    assert found.slot == datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert found.delayed
    elsewhere = daily_at_3(plannedOperation={"delayedUntil": "2026-11-24T12:00:00Z"})
    assert maintenance_in_window(elsewhere, schedule, None, NOW) is None
    # The next maintenance window stands in when nothing delays it.
    window = daily_at_3(plannedOperation={"nextMaintenanceWindowTime": "2026-11-24T02:30:00Z"})
    found = maintenance_in_window(window, schedule, None, NOW)
    assert found is not None
    assert not found.delayed


def test_a_long_backup_widens_its_window() -> None:
    schedule = snapshot_schedule(daily_at_3().snapshot_schedule)
    late = daily_at_3(plannedOperation={"delayedUntil": "2026-11-24T05:30:00Z"})
    assert maintenance_in_window(late, schedule, None, NOW) is None
    long = Backup(
        id="b",
        started_at=datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
        created_at=datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
    )
    assert maintenance_in_window(late, schedule, long, NOW) is not None


def test_the_trend_keeps_the_newest_fourteen_oldest_first_whatever_the_order() -> None:
    backups = [
        Backup(id=f"b{n:02d}", created_at=NOW - timedelta(hours=n), size_bytes=n) for n in range(40)
    ]
    trend = trend_of(reversed(backups))
    assert [p.size_bytes for p in trend] == list(range(13, -1, -1))
    merged = merge_trend(trend_of(backups[20:]), backups[:20])
    assert merged == trend


def test_explain_judges_the_newest_backup_for_a_restore() -> None:
    shaped = cluster(
        config={
            "opensearch": {"nodeGroups": [{"resources": {"diskSize": "100"}, "hostsCount": "2"}]}
        }
    )
    newest = Backup(id="b", created_at=NOW, free_space_required_bytes=300)
    got = explain(shaped, newest=newest, now=NOW)
    assert got.restore is not None
    assert got.restore.fits is False
    assert explain(shaped, newest=None, now=NOW).restore is None


def test_a_condition_is_worth_saying_when_it_blocks_or_has_words() -> None:
    assert Condition(blocking="DEAD")
    assert Condition(words=("status UPDATING",))
    assert Condition("ERROR", ("health DEGRADED",))
    assert not Condition()
    assert (Condition().blocking, Condition().words) == ("", ())


def test_the_trend_keeps_each_backups_size_and_duration() -> None:
    made = Backup(
        id="b",
        started_at=NOW - timedelta(minutes=30),
        created_at=NOW,
        size_bytes=7,
    )
    unfinished = Backup(id="u", started_at=NOW)
    assert trend_of([made, unfinished]) == (TrendPoint(NOW, 7, 1800.0),)
    assert trend_of([Backup(id="b", created_at=NOW)]) == (TrendPoint(NOW, 0, None),)


def test_merging_a_trend_keeps_as_many_points_as_asked_beyond_the_default() -> None:
    backups = [Backup(id=f"b{n:02d}", created_at=NOW - timedelta(hours=n)) for n in range(30)]
    merged = merge_trend((), backups, length=20)
    assert [p.created_at for p in merged] == [NOW - timedelta(hours=n) for n in range(19, -1, -1)]
    kept = trend_of(backups[25:])
    assert len(merge_trend(kept, backups[:25], length=30)) == 30


def test_no_maintenance_is_found_without_a_planned_one_a_schedule_or_known_slots() -> None:
    schedule = snapshot_schedule(daily_at_3().snapshot_schedule)
    assert maintenance_in_window(daily_at_3(), schedule, None, NOW) is None
    planned = daily_at_3(plannedOperation={"delayedUntil": "2026-11-24T03:30:00Z"})
    assert maintenance_in_window(planned, None, None, NOW) is None
    no_slots = BackupSchedule("snapshot", "weekly at 03:00 UTC", timedelta(days=7))
    assert maintenance_in_window(planned, no_slots, None, NOW) is None
    # A planned operation with no time at all is no maintenance in any window.
    untimed = daily_at_3(plannedOperation={"info": "Update OpenSearch"})
    assert maintenance_in_window(untimed, schedule, None, NOW) is None


def test_a_maintenance_says_when_it_is_due_and_what_the_cloud_says_of_it() -> None:
    schedule = snapshot_schedule(daily_at_3().snapshot_schedule)
    over = daily_at_3(
        plannedOperation={"info": "Update OpenSearch", "delayedUntil": "2026-11-24T03:30:00Z"}
    )
    assert maintenance_in_window(over, schedule, None, NOW) == Maintenance(
        at=datetime(2026, 11, 24, 3, 30, tzinfo=UTC),
        info="Update OpenSearch",
        slot=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        delayed=True,
    )


def test_a_maintenance_overlaps_a_slot_from_an_hour_before_it_to_an_hour_after() -> None:
    schedule = snapshot_schedule(daily_at_3().snapshot_schedule)

    def at(time: str) -> Maintenance | None:
        planned = daily_at_3(plannedOperation={"delayedUntil": f"2026-11-24T{time}Z"})
        return maintenance_in_window(planned, schedule, None, NOW)

    assert at("01:59:00") is None
    assert at("02:00:00") is not None
    assert at("04:00:00") is not None
    assert at("04:01:00") is None


def test_a_maintenance_more_than_a_day_past_is_history() -> None:
    schedule = snapshot_schedule(daily_at_3().snapshot_schedule)
    planned = daily_at_3(plannedOperation={"delayedUntil": "2026-11-24T03:30:00Z"})
    due = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)
    assert maintenance_in_window(planned, schedule, None, due + timedelta(days=1)) is not None
    later = due + timedelta(days=1, seconds=1)
    assert maintenance_in_window(planned, schedule, None, later) is None


def test_explain_with_nothing_but_the_cluster_explains_nothing() -> None:
    quiet = cluster(health="ALIVE", status="RUNNING")
    assert explain(quiet, newest=None, now=NOW) == Explanation()
    empty = Explanation()
    assert (empty.operations_error, empty.policies_error) == ("", "")
    assert empty.condition == Condition("", ())
    assert empty.trend == ()


def test_explain_carries_everything_it_is_given_and_what_it_judges() -> None:
    dead = daily_at_3(
        health="DEAD",
        status="RUNNING",
        plannedOperation={"info": "Update OpenSearch", "delayedUntil": "2026-11-24T05:30:00Z"},
    )
    schedule = snapshot_schedule(dead.snapshot_schedule)
    # A three-hour backup: only its wider window reaches the maintenance at 05:30.
    newest = Backup(
        id="b7",
        started_at=datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
        created_at=datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        opensearch_version="2.8",
    )
    attempts = AttemptHistory(last=None, failed_in_a_row=0, total=0)
    policies = [RetentionPolicy(policy_id="p1", policy_name="nightly")]
    trend = [TrendPoint(NOW, 5, 60.0)]
    missed = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    got = explain(
        dead,
        newest=newest,
        now=NOW,
        schedule=schedule,
        attempts=attempts,
        operations_error="operations: 403",
        policies=policies,
        policies_offered=True,
        policies_error="policies: timed out",
        versions=[Version(id="2.12", status=VersionStatus.SUPPORTED)],
        trend=trend,
        missed=missed,
    )
    assert got == Explanation(
        condition=Condition("DEAD"),
        attempts=attempts,
        operations_error="operations: 403",
        maintenance=Maintenance(
            at=datetime(2026, 11, 24, 5, 30, tzinfo=UTC),
            info="Update OpenSearch",
            slot=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
            delayed=True,
        ),
        restore=RestoreReadiness(
            backup_id="b7",
            required_bytes=None,
            available_bytes=None,
            version="2.8",
            oldest_restorable="2.12",
        ),
        policies=(RetentionPolicy(policy_id="p1", policy_name="nightly"),),
        policies_offered=True,
        policies_error="policies: timed out",
        schedule=schedule,
        trend=(TrendPoint(NOW, 5, 60.0),),
        missed_slot=missed,
    )
