"""Every request the client sends matches the ``google.api.http`` rule of its RPC, read from the
official SDK's descriptors: the verb, the path (its ``{field}`` segments filled with what the
client was given), no body where the rule has none, and only the request message's own fields
as query parameters. A typo in a path, or a body on ``:backup``, cannot pass."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor
from yandex.cloud.mdb.opensearch.v1 import (
    backup_retention_policy_service_pb2,
    backup_service_pb2,
    cluster_pb2,
    cluster_service_pb2,
    resource_preset_service_pb2,
    versions_service_pb2,
)
from yandex.cloud.operation import operation_service_pb2
from yandex.cloud.resourcemanager.v1 import cloud_service_pb2, folder_service_pb2
from yandex.cloud.vpc.v1 import network_service_pb2, subnet_service_pb2

from bot.cloud.client import CloudClient
from bot.cloud.models import RestoreNodeGroup, RestoreRequest
from tests.conformance.conftest import Wire

CLUSTER = "c9qcluster00000000001"
FOLDER = "b1gfolder00000000001"
BACKUP = f"{CLUSTER}:snapshot-20261120t101500"
OPERATION = "c9qoperation000000001"
CLOUD = "b1gcloud000000000001"
ORGANIZATION = "bpforganization00001"
#: Resource Manager's page tokens may be 2,000 characters long (MDB's only 100).
LONG_TOKEN = "t" * 2000

Call = Callable[[CloudClient], Awaitable[Any]]

RESTORE = RestoreRequest(
    backup_id=BACKUP,
    name="backups-drill-search-20261201",
    folder_id=FOLDER,
    network_id="enpnetwork0000000001",
    node_groups=(
        RestoreNodeGroup(
            name="drill",
            preset="s2.micro",
            disk_size=21474836480,
            hosts_count=1,
            zone_ids=("ru-central1-a",),
            subnet_ids=("e9bsubnet00000000001",),
        ),
    ),
    admin_password="drill-password-1",
    version="2.12",
    labels={"backups-bot-drill": "d1", "backups-bot-source": CLUSTER},
)

#: (service descriptor, RPC, the client call, the values it was given by request field).
RPCS: list[tuple[Any, str, Call, dict[str, str]]] = [
    (
        cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"],
        "Get",
        lambda c: c.get_cluster(CLUSTER),
        {"cluster_id": CLUSTER},
    ),
    (
        cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"],
        "List",
        lambda c: c.list_clusters_page(FOLDER, page_size=50, page_token="tok"),
        {"folder_id": FOLDER, "page_size": "50", "page_token": "tok"},
    ),
    (
        cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"],
        "ListBackups",
        lambda c: c.list_cluster_backups_page(CLUSTER, page_size=1000, page_token="tok"),
        {"cluster_id": CLUSTER, "page_size": "1000", "page_token": "tok"},
    ),
    (
        cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"],
        "Backup",
        lambda c: c.backup_cluster(CLUSTER),
        {"cluster_id": CLUSTER},
    ),
    (
        backup_service_pb2.DESCRIPTOR.services_by_name["BackupService"],
        "Get",
        lambda c: c.get_backup(BACKUP),
        {"backup_id": BACKUP},
    ),
    (
        backup_service_pb2.DESCRIPTOR.services_by_name["BackupService"],
        "List",
        lambda c: c.list_folder_backups_page(FOLDER, page_size=0),
        {"folder_id": FOLDER, "page_size": "0"},
    ),
    (
        operation_service_pb2.DESCRIPTOR.services_by_name["OperationService"],
        "Get",
        lambda c: c.get_operation(OPERATION),
        {"operation_id": OPERATION},
    ),
    (
        cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"],
        "ListOperations",
        lambda c: c.list_cluster_operations_page(CLUSTER, page_size=1000, page_token="tok"),
        {"cluster_id": CLUSTER, "page_size": "1000", "page_token": "tok"},
    ),
    (
        backup_retention_policy_service_pb2.DESCRIPTOR.services_by_name[
            "BackupRetentionPolicyService"
        ],
        "List",
        lambda c: c.list_retention_policies_page(CLUSTER, page_size=1000, page_token="tok"),
        {"cluster_id": CLUSTER, "page_size": "1000", "page_token": "tok"},
    ),
    (
        backup_retention_policy_service_pb2.DESCRIPTOR.services_by_name[
            "BackupRetentionPolicyService"
        ],
        "ListByFolder",
        lambda c: c.list_folder_retention_policies_page(FOLDER, page_size=1000, page_token="tok"),
        {"folder_id": FOLDER, "page_size": "1000", "page_token": "tok"},
    ),
    (
        cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"],
        "Restore",
        lambda c: c.restore_cluster(RESTORE, idempotency_key=str(uuid.uuid4())),
        {},
    ),
    (
        cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"],
        "ListHosts",
        lambda c: c.list_cluster_hosts_page(CLUSTER, page_size=1000, page_token="tok"),
        {"cluster_id": CLUSTER, "page_size": "1000", "page_token": "tok"},
    ),
    (
        cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"],
        "Delete",
        lambda c: c.delete_cluster(CLUSTER),
        {"cluster_id": CLUSTER},
    ),
    (
        versions_service_pb2.DESCRIPTOR.services_by_name["VersionsService"],
        "List",
        lambda c: c.list_versions_page(page_size=1000, page_token="tok"),
        {"page_size": "1000", "page_token": "tok"},
    ),
    (
        folder_service_pb2.DESCRIPTOR.services_by_name["FolderService"],
        "List",
        lambda c: c.list_folders_page(CLOUD, page_size=1000, page_token=LONG_TOKEN),
        {"cloud_id": CLOUD, "page_size": "1000", "page_token": LONG_TOKEN},
    ),
    (
        folder_service_pb2.DESCRIPTOR.services_by_name["FolderService"],
        "Get",
        lambda c: c.get_folder(FOLDER),
        {"folder_id": FOLDER},
    ),
    (
        cloud_service_pb2.DESCRIPTOR.services_by_name["CloudService"],
        "List",
        lambda c: c.list_clouds_page(ORGANIZATION, page_size=10, page_token=LONG_TOKEN),
        {"organization_id": ORGANIZATION, "page_size": "10", "page_token": LONG_TOKEN},
    ),
    (
        cloud_service_pb2.DESCRIPTOR.services_by_name["CloudService"],
        "Get",
        lambda c: c.get_cloud(CLOUD),
        {"cloud_id": CLOUD},
    ),
    # What `check` reads of a drill route: its network, subnets and resource preset.
    (
        network_service_pb2.DESCRIPTOR.services_by_name["NetworkService"],
        "Get",
        lambda c: c.get_network("enpnetwork0000000001"),
        {"network_id": "enpnetwork0000000001"},
    ),
    (
        subnet_service_pb2.DESCRIPTOR.services_by_name["SubnetService"],
        "Get",
        lambda c: c.get_subnet("e9bsubnet00000000001"),
        {"subnet_id": "e9bsubnet00000000001"},
    ),
    (
        resource_preset_service_pb2.DESCRIPTOR.services_by_name["ResourcePresetService"],
        "Get",
        lambda c: c.get_resource_preset("s2.micro"),
        {"resource_preset_id": "s2.micro"},
    ),
]

#: A minimal valid answer for each RPC, so that the client returns normally.
ANSWERS = {
    "Get": '{"id": "x"}',
    "Backup": '{"id": "op"}',
    "Restore": '{"id": "op"}',
    "Delete": '{"id": "op"}',
}


def http_rule(method: MethodDescriptor) -> tuple[str, str, str]:
    """(verb, path template, body) of an RPC's google.api.http option."""
    rule: http_pb2.HttpRule = method.GetOptions().Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    assert verb is not None, f"{method.full_name} has no http rule"
    return verb.upper(), getattr(rule, verb), rule.body


@pytest.mark.parametrize(
    ("service", "rpc", "call", "given"),
    RPCS,
    ids=[f"{service.name}.{rpc}" for service, rpc, _, _ in RPCS],
)
async def test_the_request_matches_the_rpcs_http_rule(
    wire: Wire,
    client: CloudClient,
    service: Any,
    rpc: str,
    call: Call,
    given: dict[str, str],
) -> None:
    method = service.methods_by_name[rpc]
    verb, template, body = http_rule(method)
    wire.body = ANSWERS.get(rpc, "{}")

    await call(client)

    (sent,) = wire.seen
    in_path = re.findall(r"\{(\w+)\}", template)
    expected_path = template
    for name in in_path:
        expected_path = expected_path.replace("{" + name + "}", given[name])
    assert (sent.method, sent.path) == (verb, expected_path)
    if body == "":
        assert sent.body == b"", f"{method.full_name} takes no body"
    else:
        # body "*": the whole request message, which the SDK's own parser must take as it is
        # (an unknown or misnamed field fails here).
        assert body == "*"
        message = json_format.Parse(sent.body, message_factory.GetMessageClass(method.input_type)())
        for name in in_path:
            assert getattr(message, name) == given[name]
    # Query parameters: fields of the request message not bound in the path, by JSON name.
    request = method.input_type
    by_json = {f.json_name: f.name for f in request.fields}
    for key, value in sent.query.items():
        assert key in by_json, f"{key} is not a field of {request.full_name}"
        assert by_json[key] not in in_path, f"{key} is already in the path"
        assert value == given[by_json[key]], key
    # Required fields are all sent, in the path, the query or the body.
    sent_body = json.loads(sent.body) if sent.body else {}
    for fd in request.fields:
        options = {d.name: v for d, v in fd.GetOptions().ListFields()}
        if options.get("required"):
            assert (
                fd.name in in_path or fd.json_name in sent.query or sent_body.get(fd.json_name)
            ), fd.name


@pytest.mark.parametrize(
    ("service", "rpc", "call", "given"),
    RPCS,
    ids=[f"{service.name}.{rpc}" for service, rpc, _, _ in RPCS],
)
async def test_every_rpc_carries_a_client_request_id_of_its_own(
    wire: Wire,
    client: CloudClient,
    service: Any,
    rpc: str,
    call: Call,
    given: dict[str, str],
) -> None:
    # Yandex Cloud's troubleshooting guide: x-client-request-id, a UUID, names the call for
    # support. Two calls, two ids.
    wire.body = ANSWERS.get(rpc, "{}")
    await call(client)
    await call(client)
    first, second = (uuid.UUID(seen.client_request_id or "") for seen in wire.seen)
    assert first.version == second.version == 4
    assert first != second


def test_every_rpc_the_client_calls_is_checked() -> None:
    # The client's methods that send requests, and the RPCs above: one each.
    senders = {
        "get_cluster",
        "list_clusters_page",
        "list_cluster_backups_page",
        "backup_cluster",
        "get_backup",
        "list_folder_backups_page",
        "get_operation",
        "list_cluster_operations_page",
        "list_retention_policies_page",
        "list_folder_retention_policies_page",
        "list_versions_page",
        "restore_cluster",
        "list_cluster_hosts_page",
        "delete_cluster",
        "list_folders_page",
        "get_folder",
        "list_clouds_page",
        "get_cloud",
        "get_network",
        "get_subnet",
        "get_resource_preset",
    }
    assert len(RPCS) == len(senders)
    assert {f"{s.name}.{rpc}" for s, rpc, _, _ in RPCS} == {
        "ClusterService.Get",
        "ClusterService.List",
        "ClusterService.ListBackups",
        "ClusterService.Backup",
        "BackupService.Get",
        "BackupService.List",
        "OperationService.Get",
        "ClusterService.ListOperations",
        "BackupRetentionPolicyService.List",
        "BackupRetentionPolicyService.ListByFolder",
        "VersionsService.List",
        "ClusterService.Restore",
        "ClusterService.ListHosts",
        "ClusterService.Delete",
        "FolderService.List",
        "FolderService.Get",
        "CloudService.List",
        "CloudService.Get",
        "NetworkService.Get",
        "SubnetService.Get",
        "ResourcePresetService.Get",
    }
    for name in senders:
        assert callable(getattr(CloudClient, name))


async def test_the_restore_body_is_the_sdks_request_field_by_field(
    wire: Wire, client: CloudClient
) -> None:
    wire.body = '{"id": "op"}'
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, "drill"))
    await client.restore_cluster(RESTORE, idempotency_key=key)
    (sent,) = wire.seen
    message = cluster_service_pb2.RestoreClusterRequest()
    json_format.Parse(sent.body, message)
    assert message.backup_id == BACKUP
    assert message.folder_id == FOLDER
    assert message.network_id == "enpnetwork0000000001"
    assert not message.deletion_protection
    assert dict(message.labels) == {"backups-bot-drill": "d1", "backups-bot-source": CLUSTER}
    assert message.config_spec.admin_password == "drill-password-1"
    assert message.config_spec.version == "2.12"
    (group,) = message.config_spec.opensearch_spec.node_groups
    assert group.resources.resource_preset_id == "s2.micro"
    assert group.resources.disk_size == 21474836480
    assert group.hosts_count == 1
    assert list(group.zone_ids) == ["ru-central1-a"]
    assert list(group.subnet_ids) == ["e9bsubnet00000000001"]
    assert [cluster_pb2.OpenSearch.GroupRole.Name(r) for r in group.roles] == ["DATA", "MANAGER"]
    # The name and label values meet the request's own patterns.
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,63}", message.name)
    assert all(re.fullmatch(r"[-_0-9a-z]{0,63}", v) for v in message.labels.values())


def _length_limit(service: Any, rpc: str, field_name: str) -> int:
    """The ``(yandex.cloud.length)`` limit of a request field, as "<=N" in the proto."""
    fd = service.methods_by_name[rpc].input_type.fields_by_name[field_name]
    options = {d.name: v for d, v in fd.GetOptions().ListFields()}
    limit = str(options["length"])
    assert limit.startswith("<="), limit
    return int(limit[2:])


def test_the_clients_page_token_limits_are_the_protos() -> None:
    # Resource Manager's listings take tokens of up to 2,000 characters, MDB's 100: a client
    # held to 100 everywhere could never page through a large cloud's folders.
    from bot.cloud.validation import MAX_PAGE_TOKEN_LENGTH, MAX_RESOURCE_MANAGER_PAGE_TOKEN_LENGTH

    folders = folder_service_pb2.DESCRIPTOR.services_by_name["FolderService"]
    clouds = cloud_service_pb2.DESCRIPTOR.services_by_name["CloudService"]
    clusters = cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"]
    assert _length_limit(folders, "List", "page_token") == MAX_RESOURCE_MANAGER_PAGE_TOKEN_LENGTH
    assert _length_limit(clouds, "List", "page_token") == MAX_RESOURCE_MANAGER_PAGE_TOKEN_LENGTH
    assert _length_limit(clusters, "List", "page_token") == MAX_PAGE_TOKEN_LENGTH
