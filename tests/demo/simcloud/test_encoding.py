"""The simulated cloud writes proto3 JSON the way the REST gateway does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.demo.simcloud import SimBackup, SimCluster, SimSchedule, encode_backup, encode_cluster
from bot.demo.simcloud.encoding import FUTURE_HEALTH, encode_schedule, encode_timestamp

NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


def test_timestamps_use_the_fewest_of_0_3_or_6_digits_as_protobuf_does() -> None:
    assert encode_timestamp(NOW) == "2026-11-20T10:00:00Z"
    assert encode_timestamp(NOW.replace(microsecond=120000)) == "2026-11-20T10:00:00.120Z"
    assert encode_timestamp(NOW.replace(microsecond=123456)) == "2026-11-20T10:00:00.123456Z"


def test_timestamps_with_nanos_have_9_digits_as_a_go_server_writes_them() -> None:
    assert encode_timestamp(NOW, nanos=True) == "2026-11-20T10:00:00Z"
    assert encode_timestamp(NOW.replace(microsecond=120000), nanos=True) == (
        "2026-11-20T10:00:00.120000000Z"
    )


def test_int64_fields_can_travel_as_numbers() -> None:
    backup = SimBackup(
        id="b", folder_id="", cluster_id="c", started_at=NOW, created_at=NOW, size_bytes=5
    )
    assert encode_backup(backup, unknown_fields=False)["sizeBytes"] == "5"
    assert encode_backup(backup, unknown_fields=False, int64_as_numbers=True)["sizeBytes"] == 5
    schedule = SimSchedule(kind="daily", hour=3, minute=30, max_age_days=7)
    assert encode_schedule(schedule, int64_as_numbers=True) == {
        "snapshotSchedule": {"dailySnapshotSchedule": {"hour": 3, "minute": 30}},
        "snapshotMaxAgeDays": 7,
    }


def test_a_cluster_can_send_enum_numbers_and_a_health_from_a_newer_api() -> None:
    cluster = SimCluster(id="c9q1", folder_id="b1g", name="logs", created_at=NOW)
    out = encode_cluster(cluster, enums_as_numbers=True, future_health=True)
    assert (out["environment"], out["status"], out["health"]) == (1, 2, FUTURE_HEALTH)
    stopped = SimCluster(
        id="c9q2", folder_id="b1g", name="x", created_at=NOW, status="STOPPED", health="DEAD"
    )
    out = encode_cluster(stopped, future_health=True)
    assert (out["status"], out["health"]) == ("STOPPED", "DEAD")  # only a healthy one changes


def test_timestamps_are_written_in_utc() -> None:
    moscow = timezone(timedelta(hours=3))
    assert encode_timestamp(datetime(2026, 11, 20, 13, 0, tzinfo=moscow)) == "2026-11-20T10:00:00Z"


def test_a_backup_has_int64_as_strings_and_no_default_fields() -> None:
    backup = SimBackup(
        id="c9q:snap",
        folder_id="b1g",
        cluster_id="c9q",
        started_at=NOW - timedelta(minutes=5),
        created_at=NOW,
        size_bytes=5 * 1024**4,
        indices_total=0,
        indices=(),
    )
    out = encode_backup(backup, unknown_fields=False)
    assert out == {
        "id": "c9q:snap",
        "folderId": "b1g",
        "sourceClusterId": "c9q",
        "startedAt": "2026-11-20T09:55:00Z",
        "createdAt": "2026-11-20T10:00:00Z",
        "opensearchVersion": "2.12",
        "sizeBytes": "5497558138880",
    }


def test_unknown_fields_are_added_on_request() -> None:
    backup = SimBackup(id="b", folder_id="", cluster_id="c", started_at=NOW, created_at=NOW)
    assert "snapshotRepository" in encode_backup(backup)
    assert "snapshotRepository" not in encode_backup(backup, unknown_fields=False)


def test_a_schedule_at_minute_zero_is_an_empty_but_present_message() -> None:
    assert encode_schedule(SimSchedule(kind="hourly")) == {
        "snapshotSchedule": {"hourlySnapshotSchedule": {}}
    }
    assert encode_schedule(SimSchedule(kind="weekly", day="SUN", hour=3, max_age_days=7)) == {
        "snapshotSchedule": {"weeklySnapshotSchedule": {"day": "SUN", "hour": "3"}},
        "snapshotMaxAgeDays": "7",
    }


def test_a_cluster_without_a_schedule_has_no_snapshot_management() -> None:
    cluster = SimCluster(id="c9q1", folder_id="b1g", name="logs-staging", created_at=NOW)
    out = encode_cluster(cluster)
    assert "snapshotManagement" not in out["config"]
    assert out["status"] == "RUNNING"
    assert "labels" not in out
    assert out["networkId"].startswith("enp")
