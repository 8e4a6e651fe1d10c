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
    backup_service_pb2,
    cluster_pb2,
    cluster_service_pb2,
)
from yandex.cloud.operation import operation_pb2

from bot.cloud import CloudClient
from bot.models import Backup, Cluster, OpenEnum, Operation, decode
from tests.conformance.conftest import Wire

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
    ]
    for name, message, call, pairs in resources:
        for way, text in writings(message):
            yield pytest.param(message, text, call, pairs, id=f"{name}, {way}")


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
    ):
        descriptor = proto.DESCRIPTOR
        for name, info in type(ours).model_fields.items():
            assert name in descriptor.fields_by_name, f"{descriptor.full_name} has no {name}"
            assert info.alias == descriptor.fields_by_name[name].json_name
