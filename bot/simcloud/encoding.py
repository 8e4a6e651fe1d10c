"""proto3 JSON, as the cloud's REST gateway writes it.

camelCase names; int64 as strings; fields at their default value left out; timestamps in UTC with
"Z" and 0, 3, 6 or 9 fractional digits, the fewest that hold the value (as protobuf's own
encoder picks them, with 9 for a value that needs microseconds, as a Go server sends it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.simcloud.fleet import SimBackup, SimCluster, SimSchedule

MDB_TYPE = "type.googleapis.com/yandex.cloud.mdb.opensearch.v1"


def encode_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with the fewest of 0, 3 or 9 fractional digits that hold the value."""
    value = value.astimezone(UTC)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros == 0:
        return base + "Z"
    if micros % 1000 == 0:
        return f"{base}.{micros // 1000:03d}Z"
    return f"{base}.{micros:06d}000Z"


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    # proto3 leaves out fields at their default value.
    if value is None or value == "" or value is False or value == 0:
        return
    if isinstance(value, list | tuple | dict) and not value:
        return
    out[key] = value


def _int64(value: int) -> str | None:
    return str(value) if value else None


def encode_backup(backup: SimBackup, *, unknown_fields: bool = True) -> dict[str, Any]:
    """A Backup resource."""
    out: dict[str, Any] = {"id": backup.id}
    _put(out, "folderId", backup.folder_id)
    _put(out, "sourceClusterId", backup.cluster_id)
    _put(out, "startedAt", encode_timestamp(backup.started_at))
    _put(out, "createdAt", encode_timestamp(backup.created_at))
    _put(out, "indices", list(backup.indices))
    _put(out, "opensearchVersion", backup.opensearch_version)
    _put(out, "sizeBytes", _int64(backup.size_bytes))
    _put(out, "indicesTotal", _int64(backup.indices_total))
    _put(out, "incrementalSizeBytes", _int64(backup.incremental_size_bytes))
    _put(out, "totalSizeBytes", _int64(backup.total_size_bytes))
    _put(out, "freeSpaceRequiredBytes", _int64(backup.free_space_required_bytes))
    if unknown_fields:
        # Fields a newer API might add; the client must ignore them.
        out["snapshotRepository"] = "yc-managed-backups"
        out["storageClass"] = {"name": "STANDARD", "replicas": "3"}
    return out


def encode_schedule(schedule: SimSchedule) -> dict[str, Any]:
    """A SnapshotManagement message."""
    inner: dict[str, Any] = {}
    if schedule.kind == "hourly":
        _put(inner, "minute", _int64(schedule.minute))
        which = "hourlySnapshotSchedule"
    elif schedule.kind == "daily":
        _put(inner, "hour", _int64(schedule.hour))
        _put(inner, "minute", _int64(schedule.minute))
        which = "dailySnapshotSchedule"
    else:
        _put(inner, "day", schedule.day)
        _put(inner, "hour", _int64(schedule.hour))
        _put(inner, "minute", _int64(schedule.minute))
        which = "weeklySnapshotSchedule"
    out: dict[str, Any] = {"snapshotSchedule": {which: inner}}
    _put(out, "snapshotMaxAgeDays", _int64(schedule.max_age_days))
    return out


def encode_cluster(cluster: SimCluster, *, unknown_fields: bool = True) -> dict[str, Any]:
    """A Cluster resource, with the parts of it the bot reads and some it does not."""
    config: dict[str, Any] = {"version": cluster.version}
    if cluster.schedule is not None:
        config["snapshotManagement"] = encode_schedule(cluster.schedule)
    if unknown_fields:
        config["opensearch"] = {
            "plugins": ["analysis-icu"],
            "nodeGroups": [
                {
                    "name": "hot",
                    "resources": {
                        "resourcePresetId": "s3-c8-m32",
                        "diskSize": str(512 * 1024**3),
                        "diskTypeId": "network-ssd",
                    },
                    "hostsCount": "3",
                    "roles": ["DATA", "MANAGER"],
                }
            ],
        }
        config["access"] = {"dataTransfer": True}
    out: dict[str, Any] = {"id": cluster.id}
    _put(out, "folderId", cluster.folder_id)
    _put(out, "createdAt", encode_timestamp(cluster.created_at))
    _put(out, "name", cluster.name)
    _put(out, "description", cluster.description)
    _put(out, "labels", dict(cluster.labels))
    _put(out, "environment", cluster.environment)
    if unknown_fields:
        out["monitoring"] = [
            {"name": "Console", "description": "Console charts", "link": "https://console.example"}
        ]
        out["networkId"] = "enp" + cluster.id[3:]
        out["maintenanceWindow"] = {"anytime": {}}
        out["deletionProtection"] = cluster.environment == "PRODUCTION"
    out["config"] = config
    _put(out, "health", "" if cluster.health == "HEALTH_UNKNOWN" else cluster.health)
    _put(out, "status", "" if cluster.status == "STATUS_UNKNOWN" else cluster.status)
    return out


def error_body(code: int, message: str, request_id: str) -> dict[str, Any]:
    """The REST gateway's error body: google.rpc.Status."""
    return {
        "code": code,
        "message": message,
        "details": [
            {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": request_id}
        ],
    }
