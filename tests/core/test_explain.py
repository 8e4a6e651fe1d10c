"""Explanations: what of a cluster's state is said, maintenance in the backup window, trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.explain import condition_of, explain, maintenance_in_window, merge_trend, trend_of
from bot.core.schedules import snapshot_schedule
from bot.models import Backup, Cluster

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
