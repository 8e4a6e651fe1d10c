"""Restores, hosts and deletes, between the client and the simulated cloud: a restore makes a new
cluster that goes CREATING -> RUNNING and whose hosts turn ALIVE over simulated time, the same
Idempotency-Key makes one cluster, a bad backup's restore fails, a delete may fail once, a quota
refuses, and the simulated cloud counts the drill clusters alive."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory, StepTickTimeFactory

from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.cloud.models import ClusterStatus, HostHealth, RestoreNodeGroup, RestoreRequest
from bot.demo.simcloud import DEFAULT_STATIC_TOKEN, DRILL_LABEL, SimCloud, SimConfig
from bot.errors import FailedPrecondition, NotFound
from tests.cloud.helpers import FAST_RETRY

Frozen = FrozenDateTimeFactory | StepTickTimeFactory


@pytest.fixture
def frozen() -> AsyncIterator[Frozen]:
    with freeze_time("2026-12-01 03:00:00", real_asyncio=True) as factory:
        yield factory


@pytest.fixture
async def sim(frozen: Frozen) -> AsyncIterator[SimCloud]:
    config = SimConfig(folders=1, clusters_per_folder=2, restore_duration=600, healthy_after=300)
    async with SimCloud(config) as cloud:
        yield cloud


@pytest.fixture
async def client(sim: SimCloud) -> AsyncIterator[CloudClient]:
    async with CloudClient(
        mdb_endpoint=sim.url,
        operation_endpoint=sim.url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        retry=FAST_RETRY,
        timeout=2.0,
        rng=random.Random(7),
    ) as cloud:
        yield cloud


def request_for(sim: SimCloud, *, name: str = "backups-drill-x-20261201") -> RestoreRequest:
    source = next(iter(sim.fleet.clusters.values()))
    backup = sim.fleet.newest_backup(source.id)
    assert backup is not None
    return RestoreRequest(
        backup_id=backup.id,
        name=name,
        folder_id=source.folder_id,
        network_id="enpnetwork0000000001",
        node_groups=(
            RestoreNodeGroup(
                name="drill",
                preset="s2.micro",
                disk_size=20 * 1024**3,
                hosts_count=2,
                zone_ids=("ru-central1-a",),
                subnet_ids=("e9bsubnet00000000001",),
            ),
        ),
        admin_password="not-shown-anywhere",
        labels={DRILL_LABEL: "d1", "backups-bot-source": source.id},
    )


async def test_a_restore_makes_a_cluster_that_comes_up_over_simulated_time(
    sim: SimCloud, client: CloudClient, frozen: Frozen
) -> None:
    operation = await client.restore_cluster(request_for(sim), idempotency_key=str(uuid.uuid4()))
    assert operation.metadata_type.endswith("RestoreClusterMetadata")
    cluster_id = operation.cluster_id
    assert cluster_id
    assert not operation.done
    assert (await client.get_cluster(cluster_id)).status == ClusterStatus.CREATING

    frozen.tick(timedelta(seconds=601))
    done = await client.get_operation(operation.id)
    assert done.done
    assert not done.failed
    cluster = await client.get_cluster(cluster_id)
    assert cluster.status == ClusterStatus.RUNNING
    hosts = (await client.all_cluster_hosts(cluster_id)).hosts
    assert len(hosts) == 2
    assert not any(h.alive for h in hosts)

    frozen.tick(timedelta(seconds=302))
    hosts = (await client.all_cluster_hosts(cluster_id)).hosts
    assert all(h.health == HostHealth.ALIVE for h in hosts)
    assert {h.subnet_id for h in hosts} == {"e9bsubnet00000000001"}
    assert sim.fleet.clusters[cluster_id].health == "ALIVE"  # sent as a newer API may say it
    assert [c.id for c in sim.labelled()] == [cluster_id]


async def test_the_same_key_twice_makes_one_cluster(sim: SimCloud, client: CloudClient) -> None:
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, "drill:d1"))
    first = await client.restore_cluster(request_for(sim), idempotency_key=key)
    again = await client.restore_cluster(request_for(sim), idempotency_key=key)
    assert first.id == again.id
    assert len(sim.labelled()) == 1
    assert [r.idempotency_key for r in sim.requests_to(r"clusters:restore$")] == [key, key]


async def test_a_retried_restore_keeps_its_key_and_makes_one_cluster(
    sim: SimCloud, client: CloudClient
) -> None:
    sim.inject_fault(r"clusters:restore$", 503, times=1)
    key = str(uuid.uuid4())
    operation = await client.restore_cluster(request_for(sim), idempotency_key=key)
    sent = sim.requests_to(r"clusters:restore$")
    assert [r.idempotency_key for r in sent] == [key, key]
    assert [c.id for c in sim.labelled()] == [operation.cluster_id]


async def test_the_restore_body_keeps_no_password_in_the_request_log(
    sim: SimCloud, client: CloudClient
) -> None:
    request = request_for(sim)
    assert "not-shown-anywhere" not in repr(request)
    await client.restore_cluster(request, idempotency_key=str(uuid.uuid4()))
    assert "not-shown-anywhere" not in repr(sim.requests)


async def test_a_bad_backup_fails_its_restore_and_leaves_a_cluster_in_error(
    sim: SimCloud, client: CloudClient, frozen: Frozen
) -> None:
    request = request_for(sim)
    sim.mark_backup_bad(request.backup_id, "Snapshot is corrupted")
    operation = await client.restore_cluster(request, idempotency_key=str(uuid.uuid4()))
    frozen.tick(timedelta(seconds=601))
    done = await client.get_operation(operation.id)
    assert done.failed
    assert done.error is not None
    assert done.error.message == "Snapshot is corrupted"
    cluster = await client.get_cluster(operation.cluster_id)
    assert cluster.status == ClusterStatus.ERROR
    assert len(sim.labelled()) == 1  # someone must delete it


async def test_a_delete_may_fail_once_and_then_takes_the_cluster_away(
    sim: SimCloud, client: CloudClient, frozen: Frozen
) -> None:
    operation = await client.restore_cluster(request_for(sim), idempotency_key=str(uuid.uuid4()))
    cluster_id = operation.cluster_id
    sim.fail_delete(cluster_id)
    first = await client.delete_cluster(cluster_id)
    frozen.tick(timedelta(seconds=121))
    assert (await client.get_operation(first.id)).failed
    assert len(sim.labelled()) == 1

    second = await client.delete_cluster(cluster_id)
    assert second.metadata_type.endswith("DeleteClusterMetadata")
    assert (await client.get_cluster(cluster_id)).status.is_known is False  # no "deleting" enum
    frozen.tick(timedelta(seconds=121))
    assert (await client.get_operation(second.id)).done
    with pytest.raises(NotFound):
        await client.get_cluster(cluster_id)
    assert sim.labelled() == []
    assert sim.deleted == [cluster_id]


async def test_a_protected_cluster_is_not_deleted(sim: SimCloud, client: CloudClient) -> None:
    production = next(iter(sim.fleet.clusters.values()))
    production.deletion_protection = True
    with pytest.raises(FailedPrecondition):
        await client.delete_cluster(production.id)
    assert production.id in sim.fleet.clusters


async def test_a_quota_refuses_a_restore(sim: SimCloud, client: CloudClient) -> None:
    sim.cluster_quota = len(sim.fleet.clusters)
    with pytest.raises(FailedPrecondition) as err:
        await client.restore_cluster(request_for(sim), idempotency_key=str(uuid.uuid4()))
    assert "Quota limits exceeded" in str(err.value)
    assert sim.labelled() == []
    assert len(sim.requests_to(r"clusters:restore$")) == 1  # not retried


async def test_labelled_clusters_are_found_by_listing_and_filtering(
    sim: SimCloud, client: CloudClient
) -> None:
    request = request_for(sim)
    await client.restore_cluster(request, idempotency_key=str(uuid.uuid4()))
    found = await client.labelled_clusters(request.folder_id, DRILL_LABEL)
    assert [c.labels[DRILL_LABEL] for c in found] == ["d1"]
    assert await client.labelled_clusters(request.folder_id, DRILL_LABEL, "other") == []


async def test_hosts_of_a_watched_cluster_are_listed_from_its_node_groups(
    sim: SimCloud, client: CloudClient
) -> None:
    cluster = next(iter(sim.fleet.clusters.values()))
    hosts = (await client.all_cluster_hosts(cluster.id)).hosts
    assert len(hosts) == sum(g.hosts for g in cluster.node_groups)
    assert {h.cluster_id for h in hosts} == {cluster.id}
