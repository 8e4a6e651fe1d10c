"""Bodies made by the official SDK's message classes, read by our client and models.

Each message is built with ``yandex.cloud.mdb.opensearch.v1`` (and ``yandex.cloud.operation``)
classes, written by protobuf's own ``json_format.MessageToJson`` in every way a conformant
server may write it (camelCase or proto field names, with or without default values, enums as
names or numbers, int64 as strings or numbers), served at the real REST path from a loopback
server, and compared with what the client returns, field by field, by walking the proto's
descriptors. So a field the models misname, mistype or drop fails here, whatever our simulator
writes.

Found in the SDK (yandexcloud 0.413): ``ClusterConfig.snapshot_management`` exists
(``SnapshotManagement`` lives in backup.proto, its ``snapshot_max_age_days`` is an
``Int64Value``); ``Backup`` has the five size and count fields the bot reads, and no status.
``Cluster.planned_operation`` is a ``MaintenanceOperation`` (``info``, ``delayed_until``,
``latest_maintenance_time``, ``next_maintenance_window_time``); disk sizes live in
``config.opensearch.node_groups[].resources.disk_size`` (int64 bytes, per host) with
``hosts_count`` (int64) and ``roles`` (repeated ``OpenSearch.GroupRole``: DATA, MANAGER, WARM,
INGEST). ``Cluster.listOperations`` answers ``operations`` of ``yandex.cloud.operation.Operation``;
a backup's metadata is ``yandex.cloud.mdb.opensearch.v1.BackupClusterMetadata`` (``cluster_id``).
``BackupRetentionPolicyService.List`` answers ``policies`` of the shared
``yandex.cloud.mdb.v1.BackupRetentionPolicy`` (``cron`` is a ``CronTab`` of five strings,
``retain_for_days`` an int64). ``VersionsService.List`` answers ``version`` (singular) of
``yandex.cloud.mdb.v1.Version`` with an open ``Status`` (LEGACY: no restore from backups).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message as ProtoMessage
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2, status_pb2
from pydantic import BaseModel
from yandex.cloud.mdb.opensearch.v1 import (
    backup_pb2,
    backup_retention_policy_service_pb2,
    backup_service_pb2,
    cluster_pb2,
    cluster_service_pb2,
    maintenance_pb2,
    resource_preset_pb2,
    versions_service_pb2,
)
from yandex.cloud.mdb.v1 import backup_retention_policy_pb2, version_pb2
from yandex.cloud.operation import operation_pb2
from yandex.cloud.resourcemanager.v1 import (
    cloud_pb2,
    cloud_service_pb2,
    folder_pb2,
    folder_service_pb2,
)
from yandex.cloud.vpc.v1 import network_pb2, subnet_pb2

from bot.cloud.client import CloudClient
from bot.cloud.models import (
    Backup,
    Cluster,
    ClusterHealth,
    ClusterStatus,
    CronTab,
    Environment,
    Folder,
    FolderStatus,
    GroupRole,
    Host,
    HostHealth,
    HostType,
    MaintenanceOperation,
    Network,
    NodeGroup,
    OpenEnum,
    OpenSearchConfig,
    Operation,
    ResourceCloud,
    ResourcePreset,
    Resources,
    RestoreNodeGroup,
    RestoreRequest,
    RetentionPolicy,
    Subnet,
    Version,
    VersionStatus,
    WeekDay,
    decode,
)
from bot.freshness.attempts import backup_attempts
from tests.conformance.conftest import Wire

RESTORE = RestoreRequest(
    backup_id="c9qcluster01:snapshot-1",
    name="backups-drill-c9qcluster01-20261201",
    folder_id="b1gfolder00000000001",
    network_id="enpnetwork0000000001",
    node_groups=(RestoreNodeGroup("drill", "s2.micro", 21474836480, 1, ("ru-central1-a",)),),
    admin_password="drill-password-1",
)

# --- messages built with the SDK -----------------------------------------------------------------


def _ts(seconds: int, nanos: int = 0) -> Timestamp:
    return Timestamp(seconds=seconds, nanos=nanos)


def sdk_backup(n: int = 0) -> backup_pb2.Backup:
    return backup_pb2.Backup(
        id=f"c9qcluster00000000001:snapshot-{n:04d}",
        folder_id="b1gfolder00000000001",
        source_cluster_id="c9qcluster00000000001",
        started_at=_ts(1763632800 - 3600 * n, 123_456_789),
        created_at=_ts(1763633400 - 3600 * n, 120_000_000),
        indices=[f"logs-2026.11.{20 - n:02d}", "logs-2026.11.01"],
        opensearch_version="2.17.1",
        size_bytes=(1 << 42) + n,  # above 2^53 when read as a float: must stay exact
        indices_total=2,
        incremental_size_bytes=1024**3 * 7,
        total_size_bytes=(1 << 42) + 5 * n,
        free_space_required_bytes=1024**3 * 3,
    )


def sdk_cluster(kind: str = "weekly", status: int = cluster_pb2.Cluster.RUNNING) -> Any:
    schedule = backup_pb2.SnapshotSchedule()
    if kind == "weekly":
        schedule.weekly_snapshot_schedule.CopyFrom(
            backup_pb2.WeeklySnapshotSchedule(
                day=backup_pb2.WeeklySnapshotSchedule.SUN, hour=3, minute=30
            )
        )
    elif kind == "daily":
        schedule.daily_snapshot_schedule.CopyFrom(
            backup_pb2.DailySnapshotSchedule(hour=2, minute=15)
        )
    else:
        schedule.hourly_snapshot_schedule.CopyFrom(backup_pb2.HourlySnapshotSchedule(minute=45))
    message = cluster_pb2.Cluster(
        id=f"c9q{kind}cluster0000001"[:20],
        folder_id="b1gfolder00000000001",
        created_at=_ts(1700000000),
        name=f"search-{kind}",
        description="a cluster <with> & marks",
        labels={"team": "search", "tier": "critical"},
        environment=cluster_pb2.Cluster.PRODUCTION,
        network_id="enp0000000000000001",
        health=cluster_pb2.Cluster.ALIVE,
        status=status,
        security_group_ids=["enpsg00000000000001"],
        deletion_protection=True,
    )
    message.config.version = "2.17"
    message.config.snapshot_management.snapshot_schedule.CopyFrom(schedule)
    message.config.snapshot_management.snapshot_max_age_days.value = 14
    message.monitoring.add(name="Console", description="charts", link="https://x.example")
    message.config.opensearch.plugins.append("analysis-icu")
    message.config.opensearch.node_groups.add(
        name="hot",
        resources=cluster_pb2.Resources(
            resource_preset_id="s3-c8-m32", disk_size=(1 << 41) + 3, disk_type_id="network-ssd"
        ),
        hosts_count=3,
        roles=[cluster_pb2.OpenSearch.DATA, cluster_pb2.OpenSearch.MANAGER],
    )
    message.config.opensearch.node_groups.add(
        name="warm",
        resources=cluster_pb2.Resources(disk_size=1 << 40, disk_type_id="network-hdd"),
        hosts_count=2,
        roles=[cluster_pb2.OpenSearch.WARM],
    )
    message.planned_operation.CopyFrom(
        maintenance_pb2.MaintenanceOperation(
            info="Upgrade OpenSearch <to> 2.17.1 & restart",
            delayed_until=_ts(1763866800),
            latest_maintenance_time=_ts(1763262000),
            next_maintenance_window_time=_ts(1763866800, 5_000),
        )
    )
    return message


def sdk_operation(*, done: bool, failed: bool = False) -> operation_pb2.Operation:
    message = operation_pb2.Operation(
        id="c9qoperation000000001",
        description="Create backup for OpenSearch cluster",
        created_at=_ts(1763632800, 1_000),
        created_by="ajeuser0000000000001",
        modified_at=_ts(1763632860),
        done=done,
    )
    message.metadata.Pack(cluster_service_pb2.BackupClusterMetadata(cluster_id="c9qcluster01"))
    if failed:
        status = status_pb2.Status(code=9, message="Cluster is not running")
        status.details.add().Pack(error_details_pb2.RequestInfo(request_id="req-1"))
        message.error.CopyFrom(status)
    elif done:
        message.response.Pack(sdk_cluster())
    return message


def sdk_hosts() -> list[cluster_pb2.Host]:
    """A restored cluster's hosts: one alive, one still coming up, one from a newer API."""
    alive = cluster_pb2.Host(
        name="rc1a-abcdef0123456789.mdb.yandexcloud.net",
        cluster_id="c9qdrill000000000001",
        zone_id="ru-central1-a",
        resources=cluster_pb2.Resources(
            resource_preset_id="s2.micro", disk_size=21474836480, disk_type_id="network-ssd"
        ),
        type=cluster_pb2.Host.OPENSEARCH,
        health=cluster_pb2.Host.ALIVE,
        subnet_id="e9bsubnet00000000001",
        node_group="drill",
    )
    coming = cluster_pb2.Host()
    coming.CopyFrom(alive)
    coming.name = "rc1b-abcdef0123456789.mdb.yandexcloud.net"
    coming.health = cluster_pb2.Host.UNKNOWN
    newer = cluster_pb2.Host()
    newer.CopyFrom(alive)
    newer.name = "rc1d-abcdef0123456789.mdb.yandexcloud.net"
    newer.health = 7  # type: ignore[assignment]
    return [alive, coming, newer]


def sdk_restore(*, done: bool = False, failed: bool = False) -> operation_pb2.Operation:
    message = operation_pb2.Operation(
        id="c9qoperation000000009",
        description="Restore OpenSearch cluster",
        created_at=_ts(1764558000),
        created_by="ajeuser0000000000001",
        modified_at=_ts(1764559200),
        done=done,
    )
    message.metadata.Pack(
        cluster_service_pb2.RestoreClusterMetadata(
            cluster_id="c9qdrill000000000001", backup_id="c9qcluster01:snapshot-1"
        )
    )
    if failed:
        message.error.CopyFrom(status_pb2.Status(code=13, message="Snapshot is corrupted"))
    elif done:
        message.response.Pack(sdk_cluster())
    return message


def sdk_delete() -> operation_pb2.Operation:
    message = operation_pb2.Operation(
        id="c9qoperation000000010", description="Delete OpenSearch cluster", done=False
    )
    message.metadata.Pack(
        cluster_service_pb2.DeleteClusterMetadata(cluster_id="c9qdrill000000000001")
    )
    return message


def sdk_operations() -> list[operation_pb2.Operation]:
    """A backup running, one done, one failed, and an update (not a backup)."""
    running = sdk_operation(done=False)
    done = sdk_operation(done=True)
    done.id = "c9qoperation000000002"
    failed = sdk_operation(done=True, failed=True)
    failed.id = "c9qoperation000000003"
    update = operation_pb2.Operation(
        id="c9qoperation000000004",
        description="Update OpenSearch cluster",
        created_at=_ts(1763600000),
        done=True,
    )
    update.metadata.Pack(cluster_service_pb2.UpdateClusterMetadata(cluster_id="c9qcluster01"))
    return [running, done, failed, update]


def sdk_policies() -> list[backup_retention_policy_pb2.BackupRetentionPolicy]:
    return [
        backup_retention_policy_pb2.BackupRetentionPolicy(
            policy_id="policy0000000000001",
            cluster_id="c9qcluster00000000001",
            policy_name="nightly-7d",
            created_at=_ts(1760000000, 250_000_000),
            cron=backup_retention_policy_pb2.CronTab(
                minute="0", hour="3", day_of_month="*", month="*", day_of_week="*"
            ),
            retain_for_days=7,
            description="every night <kept> a week",
        ),
        backup_retention_policy_pb2.BackupRetentionPolicy(
            policy_id="policy0000000000002",
            cluster_id="c9qcluster00000000001",
            policy_name="weekly-90d",
            cron=backup_retention_policy_pb2.CronTab(minute="30", hour="4", day_of_week="0"),
            retain_for_days=(1 << 40) + 1,  # an int64 beyond a double's exact integers
        ),
    ]


def sdk_versions() -> list[version_pb2.Version]:
    return [
        version_pb2.Version(
            id="2.8",
            name="2.8",
            status=version_pb2.Version.LEGACY,
            updatable_to=["2.12", "2.17"],
            deprecated_at=_ts(1700000000),
            eol_at=_ts(1790000000),
        ),
        version_pb2.Version(id="2.17", name="2.17", status=version_pb2.Version.ACTUAL),
        version_pb2.Version(id="3.0", name="3.0", status=9),  # a status from a newer API
    ]


def sdk_folders() -> list[folder_pb2.Folder]:
    """A folder of every status, one from a newer API's status, one with only an id."""
    return [
        folder_pb2.Folder(
            id="b1gfolder00000000001",
            cloud_id="b1gcloud000000000001",
            created_at=_ts(1700000000, 500_000_000),
            name="team-search",
            description="search <team> & friends",
            labels={"owner": "search"},
            status=folder_pb2.Folder.ACTIVE,
        ),
        folder_pb2.Folder(
            id="b1gfolder00000000002",
            cloud_id="b1gcloud000000000001",
            name="old-analytics",
            status=folder_pb2.Folder.PENDING_DELETION,
        ),
        folder_pb2.Folder(
            id="b1gfolder00000000003",
            cloud_id="b1gcloud000000000001",
            name="legacy-reports",
            status=folder_pb2.Folder.DELETING,
        ),
        folder_pb2.Folder(id="b1gfolder00000000004", status=7),
    ]


def sdk_clouds() -> list[cloud_pb2.Cloud]:
    return [
        cloud_pb2.Cloud(
            id="b1gcloud000000000001",
            created_at=_ts(1600000000, 1_000),
            name="platform",
            description="the <platform> cloud",
            organization_id="bpforganization00001",
            labels={"env": "prod"},
        ),
        cloud_pb2.Cloud(id="b1gcloud000000000002", name="sandbox"),
    ]


# --- the ways a server may write them ------------------------------------------------------------

WAYS = {
    "camelCase": {},
    "proto names": {"preserving_proto_field_name": True},
    "with defaults": {"always_print_fields_with_no_presence": True},
    "proto names with defaults": {
        "preserving_proto_field_name": True,
        "always_print_fields_with_no_presence": True,
    },
    "enums as numbers": {"use_integers_for_enums": True},
}


def _int64_as_numbers(value: Any, descriptor: Descriptor) -> Any:
    """The JSON of ``descriptor`` with every int64 written as a number (also valid input)."""
    if not isinstance(value, dict):
        return value
    by_name = {**{f.json_name: f for f in descriptor.fields}, **descriptor.fields_by_name}
    out = {}
    for key, item in value.items():
        fd = by_name.get(key)
        if fd is None:
            out[key] = item
        elif (fd.type == FieldDescriptor.TYPE_INT64 and isinstance(item, str)) or (
            fd.message_type is not None and fd.message_type.full_name.endswith("Int64Value")
        ):
            out[key] = int(item)
        elif fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            out[key] = item
        elif fd.message_type is not None and isinstance(item, list):
            out[key] = [_int64_as_numbers(v, fd.message_type) for v in item]
        elif fd.message_type is not None:
            out[key] = _int64_as_numbers(item, fd.message_type)
        else:
            out[key] = item
    return out


def writings(message: ProtoMessage) -> Iterator[tuple[str, str]]:
    """(name, JSON text) for each way a server may write ``message``."""
    for name, options in WAYS.items():
        yield name, json_format.MessageToJson(message, **options)
    as_dict = json_format.MessageToDict(message)
    yield "int64 as numbers", json.dumps(_int64_as_numbers(as_dict, message.DESCRIPTOR))


# --- field by field ------------------------------------------------------------------------------


def _expected_scalar(fd: FieldDescriptor, value: Any) -> Any:
    if fd.type == FieldDescriptor.TYPE_ENUM:
        known = fd.enum_type.values_by_number.get(value)
        return known.name if known is not None else str(value)
    return value


def assert_same(ours: BaseModel, proto: ProtoMessage, where: str = "") -> None:
    """Every field our model reads equals the proto message's field of the same name."""
    descriptor = proto.DESCRIPTOR
    for name, info in type(ours).model_fields.items():
        fd = descriptor.fields_by_name.get(name)
        assert fd is not None, f"{where}{name}: no such field in {descriptor.full_name}"
        assert info.alias == fd.json_name, f"{where}{name}: alias {info.alias} != {fd.json_name}"
        got = getattr(ours, name)
        value = getattr(proto, name)
        path = f"{where}{name}"
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            assert got == dict(value), path
        elif fd.label == FieldDescriptor.LABEL_REPEATED and fd.message_type is not None:
            assert len(got) == len(value), path
            for index, (mine, theirs) in enumerate(zip(got, value, strict=True)):
                if fd.message_type.full_name == "google.protobuf.Any":
                    assert mine["@type"] == theirs.type_url, f"{path}.{index}"
                else:
                    assert_same(mine, theirs, f"{path}.{index}.")
        elif fd.label == FieldDescriptor.LABEL_REPEATED and fd.type == FieldDescriptor.TYPE_ENUM:
            assert [v.value for v in got] == [_expected_scalar(fd, v) for v in value], path
            assert all(isinstance(v, OpenEnum) for v in got), path
        elif fd.label == FieldDescriptor.LABEL_REPEATED:
            assert tuple(got) == tuple(value), path
        elif fd.message_type is not None and fd.message_type.full_name.endswith("Timestamp"):
            if not proto.HasField(name):
                assert got is None, path
                continue
            expected = datetime.fromtimestamp(value.seconds, UTC).replace(
                microsecond=value.nanos // 1000
            )
            assert got == expected, path
        elif fd.message_type is not None and fd.message_type.full_name.endswith("Int64Value"):
            assert got == (value.value if proto.HasField(name) else None), path
        elif fd.message_type is not None and fd.message_type.full_name == "google.protobuf.Any":
            if not proto.HasField(name):
                assert got is None, path
                continue
            assert got["@type"] == value.type_url, path
        elif fd.message_type is not None:
            if not proto.HasField(name):
                assert got is None, path
                continue
            assert_same(got, value, f"{path}.")
        elif fd.type == FieldDescriptor.TYPE_ENUM:
            assert isinstance(got, OpenEnum), path
            assert got.value == _expected_scalar(fd, value), path
            if fd.enum_type.values_by_number.get(value) is not None:
                assert got.is_known, path
                assert got.number == value, path
        else:
            assert got == value, path


# --- the tests -----------------------------------------------------------------------------------

Call = Callable[[CloudClient], Awaitable[Any]]


def cases() -> Iterator[Any]:
    backups = [sdk_backup(n) for n in range(3)]
    clusters = [sdk_cluster("hourly"), sdk_cluster("daily"), sdk_cluster("weekly")]
    resources: list[tuple[str, ProtoMessage, Call, Callable[[Any], list[tuple[Any, Any]]]]] = [
        (
            "Backup.get",
            backups[0],
            lambda c: c.get_backup(backups[0].id),
            lambda got: [(got, backups[0])],
        ),
        (
            "Cluster.get",
            clusters[2],
            lambda c: c.get_cluster(clusters[2].id),
            lambda got: [(got, clusters[2])],
        ),
        (
            "Cluster.listBackups",
            cluster_service_pb2.ListClusterBackupsResponse(
                backups=backups, next_page_token="next-1"
            ),
            lambda c: c.list_cluster_backups_page("c9qcluster00000000001"),
            lambda got: list(zip(got.backups, backups, strict=True)),
        ),
        (
            "Backup.list",
            backup_service_pb2.ListBackupsResponse(backups=backups, next_page_token="next-2"),
            lambda c: c.list_folder_backups_page("b1gfolder00000000001"),
            lambda got: list(zip(got.backups, backups, strict=True)),
        ),
        (
            "Cluster.list",
            cluster_service_pb2.ListClustersResponse(clusters=clusters, next_page_token="n3"),
            lambda c: c.list_clusters_page("b1gfolder00000000001"),
            lambda got: list(zip(got.clusters, clusters, strict=True)),
        ),
        (
            "Operation.get (running)",
            sdk_operation(done=False),
            lambda c: c.get_operation("c9qoperation000000001"),
            lambda got: [(got, sdk_operation(done=False))],
        ),
        (
            "Operation.get (done)",
            sdk_operation(done=True),
            lambda c: c.get_operation("c9qoperation000000001"),
            lambda got: [(got, sdk_operation(done=True))],
        ),
        (
            "Operation.get (failed)",
            sdk_operation(done=True, failed=True),
            lambda c: c.get_operation("c9qoperation000000001"),
            lambda got: [(got, sdk_operation(done=True, failed=True))],
        ),
        (
            "Cluster.backup",
            sdk_operation(done=False),
            lambda c: c.backup_cluster("c9qcluster00000000001"),
            lambda got: [(got, sdk_operation(done=False))],
        ),
        (
            "Cluster.listOperations",
            cluster_service_pb2.ListClusterOperationsResponse(
                operations=sdk_operations(), next_page_token="next-4"
            ),
            lambda c: c.list_cluster_operations_page("c9qcluster00000000001"),
            lambda got: list(zip(got.operations, sdk_operations(), strict=True)),
        ),
        (
            "BackupRetentionPolicy.list",
            backup_retention_policy_service_pb2.ListBackupRetentionPoliciesResponse(
                policies=sdk_policies(), next_page_token="next-5"
            ),
            lambda c: c.list_retention_policies_page("c9qcluster00000000001"),
            lambda got: list(zip(got.policies, sdk_policies(), strict=True)),
        ),
        (
            "Versions.list",
            versions_service_pb2.ListVersionsResponse(
                version=sdk_versions(), next_page_token="next-6"
            ),
            lambda c: c.list_versions_page(),
            lambda got: list(zip(got.versions, sdk_versions(), strict=True)),
        ),
        (
            "Cluster.listHosts",
            cluster_service_pb2.ListClusterHostsResponse(hosts=sdk_hosts(), next_page_token="n7"),
            lambda c: c.list_cluster_hosts_page("c9qdrill000000000001"),
            lambda got: list(zip(got.hosts, sdk_hosts(), strict=True)),
        ),
        (
            "Cluster.restore",
            sdk_restore(),
            lambda c: c.restore_cluster(RESTORE, idempotency_key="k"),
            lambda got: [(got, sdk_restore())],
        ),
        (
            "Operation.get (restore failed)",
            sdk_restore(done=True, failed=True),
            lambda c: c.get_operation("c9qoperation000000009"),
            lambda got: [(got, sdk_restore(done=True, failed=True))],
        ),
        (
            "Cluster.delete",
            sdk_delete(),
            lambda c: c.delete_cluster("c9qdrill000000000001"),
            lambda got: [(got, sdk_delete())],
        ),
    ]
    folders, clouds = sdk_folders(), sdk_clouds()
    resources += [
        (
            "Folder.get",
            folders[0],
            lambda c: c.get_folder(folders[0].id),
            lambda got: [(got, folders[0])],
        ),
        (
            "Folder.list",
            folder_service_pb2.ListFoldersResponse(folders=folders, next_page_token="n" * 1500),
            lambda c: c.list_folders_page("b1gcloud000000000001"),
            lambda got: list(zip(got.folders, folders, strict=True)),
        ),
        (
            "Cloud.get",
            clouds[0],
            lambda c: c.get_cloud(clouds[0].id),
            lambda got: [(got, clouds[0])],
        ),
        (
            "Cloud.list",
            cloud_service_pb2.ListCloudsResponse(clouds=clouds, next_page_token="c" * 2000),
            lambda c: c.list_clouds_page("bpforganization00001"),
            lambda got: list(zip(got.clouds, clouds, strict=True)),
        ),
    ]
    network, subnet, preset = sdk_network(), sdk_subnet(), sdk_preset()
    resources += [
        (
            "Network.get",
            network,
            lambda c: c.get_network(network.id),
            lambda got: [(got, network)],
        ),
        ("Subnet.get", subnet, lambda c: c.get_subnet(subnet.id), lambda got: [(got, subnet)]),
        (
            "ResourcePreset.get",
            preset,
            lambda c: c.get_resource_preset(preset.id),
            lambda got: [(got, preset)],
        ),
    ]
    for name, message, call, pairs in resources:
        for way, text in writings(message):
            yield pytest.param(message, text, call, pairs, id=f"{name}, {way}")


def sdk_network() -> network_pb2.Network:
    return network_pb2.Network(
        id="enpnetwork0000000001", folder_id="b1gfolder00000000001", name="drills"
    )


def sdk_subnet() -> subnet_pb2.Subnet:
    return subnet_pb2.Subnet(
        id="e9bsubnet00000000001",
        folder_id="b1gfolder00000000001",
        name="drills-a",
        network_id="enpnetwork0000000001",
        zone_id="ru-central1-a",
        v4_cidr_blocks=["10.1.0.0/24"],
    )


def sdk_preset() -> resource_preset_pb2.ResourcePreset:
    return resource_preset_pb2.ResourcePreset(
        id="s2.micro",
        zone_ids=["ru-central1-a", "ru-central1-b", "ru-central1-d"],
        cores=2,
        memory=8 * 1024**3,
    )


@pytest.mark.parametrize(("message", "text", "call", "pairs"), list(cases()))
async def test_what_the_sdk_writes_the_client_reads_field_by_field(
    wire: Wire,
    client: CloudClient,
    message: ProtoMessage,
    text: str,
    call: Call,
    pairs: Callable[[Any], list[tuple[Any, Any]]],
) -> None:
    wire.body = text
    got = await call(client)
    matched = pairs(got)
    assert matched
    for ours, proto in matched:
        assert_same(ours, proto)
    if hasattr(got, "next_page_token"):
        assert got.next_page_token == message.next_page_token
        assert got.skipped == ()


async def test_a_failed_operation_is_failed_and_keeps_the_status(
    wire: Wire, client: CloudClient
) -> None:
    wire.body = json_format.MessageToJson(sdk_operation(done=True, failed=True))
    got = await client.get_operation("c9qoperation000000001")
    assert got.failed
    assert got.error is not None
    assert (got.error.code, got.error.message) == (9, "Cluster is not running")
    assert got.error.details[0]["requestId"] == "req-1"
    assert got.metadata is not None
    assert got.metadata["clusterId"] == "c9qcluster01"


async def test_a_done_backup_operation_carries_the_cluster(wire: Wire, client: CloudClient) -> None:
    wire.body = json_format.MessageToJson(sdk_operation(done=True))
    got = await client.get_operation("c9qoperation000000001")
    assert got.done
    assert not got.failed
    assert got.response is not None
    assert got.response["@type"].endswith("yandex.cloud.mdb.opensearch.v1.Cluster")
    assert decode(Cluster, json.dumps(got.response).encode()).name == "search-weekly"


@pytest.mark.parametrize("status", [42, cluster_pb2.Cluster.STOPPED])
async def test_a_cluster_status_the_sdk_writes_as_a_number_is_read(
    wire: Wire, client: CloudClient, status: int
) -> None:
    # proto3 enums are open: an SDK message may hold a number no name stands for yet, and
    # MessageToJson then writes the number.
    message = sdk_cluster(status=status)
    wire.body = json_format.MessageToJson(message)
    got = await client.get_cluster(message.id)
    assert_same(got, message)
    assert got.status.is_known is (status != 42)


def test_every_field_the_models_read_exists_in_the_sdks_messages() -> None:
    # A field named wrongly in our models would silently read as its default forever.
    for ours, proto in (
        (Backup(id="b"), sdk_backup()),
        (Cluster(id="c"), cluster_pb2.Cluster()),
        (Operation(id="o"), operation_pb2.Operation()),
        (OpenSearchConfig(), cluster_pb2.OpenSearch()),
        (NodeGroup(), cluster_pb2.OpenSearch.NodeGroup()),
        (Resources(), cluster_pb2.Resources()),
        (MaintenanceOperation(), maintenance_pb2.MaintenanceOperation()),
        (RetentionPolicy(), backup_retention_policy_pb2.BackupRetentionPolicy()),
        (CronTab(), backup_retention_policy_pb2.CronTab()),
        (Version(), version_pb2.Version()),
        (Host(), cluster_pb2.Host()),
        (Folder(id="f"), folder_pb2.Folder()),
        (ResourceCloud(id="c"), cloud_pb2.Cloud()),
        (Network(id="n"), network_pb2.Network()),
        (Subnet(id="s"), subnet_pb2.Subnet()),
        (ResourcePreset(id="p"), resource_preset_pb2.ResourcePreset()),
    ):
        descriptor = proto.DESCRIPTOR
        for name, info in type(ours).model_fields.items():
            assert name in descriptor.fields_by_name, f"{descriptor.full_name} has no {name}"
            assert info.alias == descriptor.fields_by_name[name].json_name


def test_every_enum_of_the_models_is_the_sdks_names_in_proto_order() -> None:
    """An enum member spelt or placed differently from the proto would read the cloud's value
    as unknown, or as another member when it comes as a number."""
    weekday = backup_pb2.WeeklySnapshotSchedule.DESCRIPTOR.fields_by_name["day"].enum_type
    for ours, proto in (
        (Environment, cluster_pb2.Cluster.Environment.DESCRIPTOR),
        (ClusterStatus, cluster_pb2.Cluster.Status.DESCRIPTOR),
        (ClusterHealth, cluster_pb2.Cluster.Health.DESCRIPTOR),
        (GroupRole, cluster_pb2.OpenSearch.GroupRole.DESCRIPTOR),
        (VersionStatus, version_pb2.Version.Status.DESCRIPTOR),
        (WeekDay, weekday),
        (HostHealth, cluster_pb2.Host.Health.DESCRIPTOR),
        (HostType, cluster_pb2.Host.Type.DESCRIPTOR),
        (FolderStatus, folder_pb2.Folder.Status.DESCRIPTOR),
    ):
        assert [(m.value, m.number) for m in ours] == [(v.name, v.number) for v in proto.values]
        for value in proto.values:
            assert ours.decode(value.name) is ours.decode(value.number) is ours[value.name]


async def test_the_sdks_operations_give_the_backup_attempts(
    wire: Wire, client: CloudClient
) -> None:
    wire.body = json_format.MessageToJson(
        cluster_service_pb2.ListClusterOperationsResponse(operations=sdk_operations())
    )
    page = await client.list_cluster_operations_page("c9qcluster00000000001")
    kinds = [op.metadata_type for op in page.operations]
    assert kinds[0] == "yandex.cloud.mdb.opensearch.v1.BackupClusterMetadata"
    assert kinds[3] == "yandex.cloud.mdb.opensearch.v1.UpdateClusterMetadata"
    history = backup_attempts(page.operations)
    assert history.total == 3  # the update is no backup
    # The three backups started at the same moment: ties go by id, the failed one is newest.
    assert history.last is not None
    assert history.last.operation_id == "c9qoperation000000003"
    assert history.last.error == "Cluster is not running"
    assert history.failed_in_a_row == 1


async def test_the_sdks_node_groups_give_the_data_disk(wire: Wire, client: CloudClient) -> None:
    message = sdk_cluster()
    wire.body = json_format.MessageToJson(message, use_integers_for_enums=True)
    got = await client.get_cluster(message.id)
    # DATA+MANAGER hot hosts and WARM hosts hold data: 3 x (2 TiB + 3) + 2 x 1 TiB.
    assert got.data_disk_bytes == 3 * ((1 << 41) + 3) + 2 * (1 << 40)
    assert got.planned_operation is not None
    assert got.planned_operation.info == "Upgrade OpenSearch <to> 2.17.1 & restart"


async def test_a_version_status_from_a_newer_api_is_kept(wire: Wire, client: CloudClient) -> None:
    wire.body = json_format.MessageToJson(
        versions_service_pb2.ListVersionsResponse(version=sdk_versions())
    )
    page = await client.list_versions_page()
    assert [v.status.is_known for v in page.versions] == [True, True, False]
    assert page.versions[2].status.value == "9"


@pytest.mark.parametrize("failed", [False, True])
async def test_a_restores_operation_names_the_new_cluster(
    wire: Wire, client: CloudClient, failed: bool
) -> None:
    wire.body = json_format.MessageToJson(sdk_restore(done=failed, failed=failed))
    got = await client.get_operation("c9qoperation000000009")
    assert got.metadata_type == "yandex.cloud.mdb.opensearch.v1.RestoreClusterMetadata"
    assert got.cluster_id == "c9qdrill000000000001"
    assert got.failed is failed


async def test_the_sdks_hosts_tell_alive_from_not_yet_and_from_a_newer_value(
    wire: Wire, client: CloudClient
) -> None:
    wire.body = json_format.MessageToJson(
        cluster_service_pb2.ListClusterHostsResponse(hosts=sdk_hosts()),
        use_integers_for_enums=True,
    )
    page = await client.list_cluster_hosts_page("c9qdrill000000000001")
    assert [h.alive for h in page.hosts] == [True, False, False]
    assert page.hosts[2].health.is_known is False


async def test_the_sdks_folders_say_which_are_active(wire: Wire, client: CloudClient) -> None:
    wire.body = json_format.MessageToJson(
        folder_service_pb2.ListFoldersResponse(folders=sdk_folders()), use_integers_for_enums=True
    )
    page = await client.list_folders_page("b1gcloud000000000001")
    assert [f.active for f in page.folders] == [True, False, False, False]
    # A status from a newer API is kept as sent, and is not ACTIVE.
    assert page.folders[3].status.value == "7"
    assert not page.folders[3].status.is_known
