"""proto3 JSON, as the cloud's REST gateway writes it, with the freedoms the mapping allows.

camelCase names; int64 as strings (or, where asked, as numbers: parsers must take both); enums as
names (or numbers); fields at their default value left out; timestamps in UTC with "Z" and 0, 3,
6 or 9 fractional digits: the fewest of 0, 3 or 6 that hold the value, as protobuf's own encoder
picks them, or 9 where asked, as a Go server sends it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.demo.simcloud.fleet import (
    SimBackup,
    SimCluster,
    SimClusterOperation,
    SimFolder,
    SimHost,
    SimMaintenance,
    SimNodeGroup,
    SimPolicy,
    SimResourceCloud,
    SimSchedule,
    SimVersion,
)

MDB_TYPE = "type.googleapis.com/yandex.cloud.mdb.opensearch.v1"


#: What a newer API might report as a cluster's health: a value this code has never seen.
FUTURE_HEALTH = "REBALANCING"
#: Proto numbers of the enum values the simulator sends (declaration order in the protos).
ENVIRONMENT_NUMBERS = {"ENVIRONMENT_UNSPECIFIED": 0, "PRODUCTION": 1, "PRESTABLE": 2}
_STATUSES = [
    "STATUS_UNKNOWN",
    "CREATING",
    "RUNNING",
    "ERROR",
    "UPDATING",
    "STOPPING",
    "STOPPED",
    "STARTING",
]
STATUS_NUMBERS = {name: number for number, name in enumerate(_STATUSES)}
HEALTH_NUMBERS = {"HEALTH_UNKNOWN": 0, "ALIVE": 1, "DEAD": 2, "DEGRADED": 3}
ROLE_NUMBERS = {"GROUP_ROLE_UNSPECIFIED": 0, "DATA": 1, "MANAGER": 2, "WARM": 3, "INGEST": 4}
VERSION_STATUS_NUMBERS = {
    name: number
    for number, name in enumerate(
        ["STATUS_UNSPECIFIED", "NEW", "ACTUAL", "SUPPORTED", "DEPRECATED", "LEGACY", "EOL"]
    )
}


def encode_timestamp(value: datetime, *, nanos: bool = False) -> str:
    """RFC 3339 in UTC with the fewest of 0, 3 or 6 fractional digits that hold the value, or
    with 9 when ``nanos`` is set and the value has a fraction."""
    value = value.astimezone(UTC)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros == 0:
        return base + "Z"
    if nanos:
        return f"{base}.{micros:06d}000Z"
    if micros % 1000 == 0:
        return f"{base}.{micros // 1000:03d}Z"
    return f"{base}.{micros:06d}Z"


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    # proto3 leaves out fields at their default value.
    if value is None or value == "" or value is False or value == 0:
        return
    if isinstance(value, list | tuple | dict) and not value:
        return
    out[key] = value


def _int64(value: int, as_number: bool = False) -> str | int | None:
    if not value:
        return None
    return value if as_number else str(value)


def encode_backup(
    backup: SimBackup,
    *,
    unknown_fields: bool = True,
    int64_as_numbers: bool = False,
    nanos: bool = False,
) -> dict[str, Any]:
    """A Backup resource."""
    n = int64_as_numbers
    out: dict[str, Any] = {"id": backup.id}
    _put(out, "folderId", backup.folder_id)
    _put(out, "sourceClusterId", backup.cluster_id)
    _put(out, "startedAt", encode_timestamp(backup.started_at, nanos=nanos))
    _put(out, "createdAt", encode_timestamp(backup.created_at, nanos=nanos))
    _put(out, "indices", list(backup.indices))
    _put(out, "opensearchVersion", backup.opensearch_version)
    _put(out, "sizeBytes", _int64(backup.size_bytes, n))
    _put(out, "indicesTotal", _int64(backup.indices_total, n))
    _put(out, "incrementalSizeBytes", _int64(backup.incremental_size_bytes, n))
    _put(out, "totalSizeBytes", _int64(backup.total_size_bytes, n))
    _put(out, "freeSpaceRequiredBytes", _int64(backup.free_space_required_bytes, n))
    if unknown_fields:
        # Fields a newer API might add; the client must ignore them.
        out["snapshotRepository"] = "yc-managed-backups"
        out["storageClass"] = {"name": "STANDARD", "replicas": "3"}
    return out


def encode_schedule(schedule: SimSchedule, *, int64_as_numbers: bool = False) -> dict[str, Any]:
    """A SnapshotManagement message."""
    n = int64_as_numbers
    inner: dict[str, Any] = {}
    if schedule.kind == "hourly":
        _put(inner, "minute", _int64(schedule.minute, n))
        which = "hourlySnapshotSchedule"
    elif schedule.kind == "daily":
        _put(inner, "hour", _int64(schedule.hour, n))
        _put(inner, "minute", _int64(schedule.minute, n))
        which = "dailySnapshotSchedule"
    else:
        _put(inner, "day", schedule.day)
        _put(inner, "hour", _int64(schedule.hour, n))
        _put(inner, "minute", _int64(schedule.minute, n))
        which = "weeklySnapshotSchedule"
    out: dict[str, Any] = {"snapshotSchedule": {which: inner}}
    _put(out, "snapshotMaxAgeDays", _int64(schedule.max_age_days, n))
    return out


def _enum(value: str, numbers: dict[str, int], as_number: bool) -> str | int:
    return numbers.get(value, value) if as_number else value


def encode_cluster(
    cluster: SimCluster,
    *,
    unknown_fields: bool = True,
    int64_as_numbers: bool = False,
    enums_as_numbers: bool = False,
    future_health: bool = False,
) -> dict[str, Any]:
    """A Cluster resource, with the parts of it the bot reads and some it does not.

    ``future_health`` reports a healthy cluster's health as :data:`FUTURE_HEALTH`;
    ``enums_as_numbers`` sends environment, status, health and node group roles as their proto
    numbers.
    """
    config: dict[str, Any] = {"version": cluster.version}
    if cluster.schedule is not None:
        config["snapshotManagement"] = encode_schedule(
            cluster.schedule, int64_as_numbers=int64_as_numbers
        )
    opensearch: dict[str, Any] = {}
    groups = [
        encode_node_group(g, int64_as_numbers=int64_as_numbers, enums_as_numbers=enums_as_numbers)
        for g in cluster.node_groups
    ]
    _put(opensearch, "nodeGroups", groups)
    if unknown_fields:
        opensearch["plugins"] = ["analysis-icu"]
        opensearch["keystoreSettings"] = ["s3.client.default.access_key"]
        config["access"] = {"dataTransfer": True}
    _put(config, "opensearch", opensearch)
    out: dict[str, Any] = {"id": cluster.id}
    _put(out, "folderId", cluster.folder_id)
    _put(out, "createdAt", encode_timestamp(cluster.created_at))
    _put(out, "name", cluster.name)
    _put(out, "description", cluster.description)
    _put(out, "labels", dict(cluster.labels))
    _put(out, "environment", _enum(cluster.environment, ENVIRONMENT_NUMBERS, enums_as_numbers))
    if unknown_fields:
        out["monitoring"] = [
            {"name": "Console", "description": "Console charts", "link": "https://console.example"}
        ]
        out["networkId"] = "enp" + cluster.id[3:]
        out["maintenanceWindow"] = {"anytime": {}}
        out["deletionProtection"] = (
            cluster.environment == "PRODUCTION"
            if cluster.deletion_protection is None
            else cluster.deletion_protection
        )
    out["config"] = config
    health = FUTURE_HEALTH if future_health and cluster.health == "ALIVE" else cluster.health
    _put(
        out,
        "health",
        "" if health == "HEALTH_UNKNOWN" else _enum(health, HEALTH_NUMBERS, enums_as_numbers),
    )
    status = "" if cluster.status == "STATUS_UNKNOWN" else cluster.status
    _put(out, "status", _enum(status, STATUS_NUMBERS, enums_as_numbers))
    if cluster.maintenance is not None:
        out["plannedOperation"] = encode_maintenance(cluster.maintenance)
    return out


def encode_node_group(
    group: SimNodeGroup, *, int64_as_numbers: bool = False, enums_as_numbers: bool = False
) -> dict[str, Any]:
    """An ``OpenSearch.NodeGroup``."""
    n = int64_as_numbers
    resources: dict[str, Any] = {}
    _put(resources, "resourcePresetId", group.preset)
    _put(resources, "diskSize", _int64(group.disk_size, n))
    _put(resources, "diskTypeId", group.disk_type)
    out: dict[str, Any] = {"name": group.name}
    _put(out, "resources", resources)
    _put(out, "hostsCount", _int64(group.hosts, n))
    _put(out, "roles", [_enum(r, ROLE_NUMBERS, enums_as_numbers) for r in group.roles])
    return out


def encode_host(host: SimHost, cluster_id: str) -> dict[str, Any]:
    """A ``Host`` of Cluster.listHosts."""
    out: dict[str, Any] = {"name": host.name, "clusterId": cluster_id, "zoneId": host.zone_id}
    resources: dict[str, Any] = {}
    _put(resources, "resourcePresetId", host.preset)
    _put(resources, "diskSize", _int64(host.disk_size))
    _put(out, "resources", resources)
    out["type"] = "OPENSEARCH"
    _put(out, "health", "" if host.health == "UNKNOWN" else host.health)
    _put(out, "subnetId", host.subnet_id)
    _put(out, "nodeGroup", host.node_group)
    return out


def encode_maintenance(maintenance: SimMaintenance) -> dict[str, Any]:
    """A ``MaintenanceOperation`` (the cluster's ``plannedOperation``)."""
    out: dict[str, Any] = {}
    _put(out, "info", maintenance.info)
    for key, value in (
        ("delayedUntil", maintenance.delayed_until),
        ("latestMaintenanceTime", maintenance.latest),
        ("nextMaintenanceWindowTime", maintenance.next_window),
    ):
        if value is not None:
            out[key] = encode_timestamp(value)
    return out


def encode_operation(
    operation: SimClusterOperation,
    cluster_id: str,
    *,
    unknown_fields: bool = True,
    nanos: bool = False,
) -> dict[str, Any]:
    """A ``yandex.cloud.operation.Operation`` of a cluster, as Cluster.listOperations lists it."""
    out: dict[str, Any] = {"id": operation.id}
    _put(out, "description", operation.description)
    out["createdAt"] = encode_timestamp(operation.created_at, nanos=nanos)
    _put(out, "createdBy", "aje" + cluster_id[3:])
    modified = operation.modified_at or operation.created_at
    out["modifiedAt"] = encode_timestamp(modified, nanos=nanos)
    _put(out, "done", operation.done)
    if operation.metadata_type:
        out["metadata"] = {
            "@type": f"{MDB_TYPE}.{operation.metadata_type}",
            "clusterId": cluster_id,
        }
    if operation.error_code:
        out["error"] = {
            "code": operation.error_code,
            "message": operation.error_message,
            "details": [
                {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": operation.id}
            ],
        }
    elif operation.done:
        out["response"] = {"@type": f"{MDB_TYPE}.Cluster", "id": cluster_id}
    if unknown_fields:
        out["traceId"] = "sim-" + operation.id  # a field a newer API might add
    return out


def encode_policy(
    policy: SimPolicy, cluster_id: str, *, int64_as_numbers: bool = False
) -> dict[str, Any]:
    """A ``yandex.cloud.mdb.v1.BackupRetentionPolicy``."""
    out: dict[str, Any] = {"policyId": policy.policy_id, "clusterId": cluster_id}
    _put(out, "policyName", policy.name)
    if policy.created_at is not None:
        out["createdAt"] = encode_timestamp(policy.created_at)
    cron: dict[str, Any] = {}
    for key, value in (
        ("minute", policy.minute),
        ("hour", policy.hour),
        ("dayOfMonth", policy.day_of_month),
        ("month", policy.month),
        ("dayOfWeek", policy.day_of_week),
    ):
        _put(cron, key, value)
    _put(out, "cron", cron)
    _put(out, "retainForDays", _int64(policy.retain_for_days, int64_as_numbers))
    _put(out, "description", policy.description)
    return out


def encode_version(version: SimVersion, *, enums_as_numbers: bool = False) -> dict[str, Any]:
    """A ``yandex.cloud.mdb.v1.Version``."""
    out: dict[str, Any] = {"id": version.id, "name": version.id}
    _put(out, "status", _enum(version.status, VERSION_STATUS_NUMBERS, enums_as_numbers))
    _put(out, "updatableTo", list(version.updatable_to))
    return out


FOLDER_STATUS_NUMBERS = {
    "STATUS_UNSPECIFIED": 0,
    "ACTIVE": 1,
    "DELETING": 2,
    "PENDING_DELETION": 3,
}


def encode_folder(
    folder: SimFolder, *, enums_as_numbers: bool = False, nanos: bool = False
) -> dict[str, Any]:
    """A ``yandex.cloud.resourcemanager.v1.Folder``."""
    out: dict[str, Any] = {"id": folder.id}
    _put(out, "cloudId", folder.cloud_id)
    if folder.created_at is not None:
        out["createdAt"] = encode_timestamp(folder.created_at, nanos=nanos)
    _put(out, "name", folder.name)
    _put(out, "description", folder.description)
    _put(out, "status", _enum(folder.status, FOLDER_STATUS_NUMBERS, enums_as_numbers))
    return out


def encode_resource_cloud(cloud: SimResourceCloud, *, nanos: bool = False) -> dict[str, Any]:
    """A ``yandex.cloud.resourcemanager.v1.Cloud``."""
    out: dict[str, Any] = {"id": cloud.id}
    if cloud.created_at is not None:
        out["createdAt"] = encode_timestamp(cloud.created_at, nanos=nanos)
    _put(out, "name", cloud.name)
    _put(out, "description", cloud.description)
    _put(out, "organizationId", cloud.organization_id)
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
