"""Retention policies read by folder: where two or more clusters of a folder want theirs, the
folder's are listed in one request (BackupRetentionPolicyService.ListByFolder); where the cloud
does not list them by folder (501 for any, 404 for one), per cluster, learnt once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.cloud.client import CloudClient
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.fleet import SimCluster, SimPolicy
from bot.demo.simcloud.server import SimCloud
from bot.errors import PermissionDenied
from bot.fleet.reader import read_clusters, read_fleet
from bot.freshness.model import FreshnessState
from tests.world import FOLDER, IDS, NOW, make_cloud, make_config, make_fleet

FOLDER_POLICIES = r"/folders/[^/]+/retention_policies$"
CLUSTER_POLICIES = r"/clusters/[^/]+/retention_policies$"
POLICY_CLUSTER = "c9qpolicyprod0000008"


def add_policy_cluster(sim: SimCloud) -> None:
    """A second cluster of the watched folder without a snapshot schedule (new-cluster is the
    first), with a policy of its own."""
    sim.fleet.add_cluster(
        SimCluster(
            id=POLICY_CLUSTER,
            folder_id=FOLDER,
            name="policy-prod",
            created_at=NOW - timedelta(days=300),
            policies=[SimPolicy("p1", "four-a-day", minute="0", hour="*/6", retain_for_days=3)],
        )
    )
    sim.add_backup(POLICY_CLUSTER, created_at=NOW - timedelta(hours=1))


async def test_a_folders_policies_are_read_in_one_request_and_given_to_their_clusters(
    sim: SimCloud, cloud: CloudClient
) -> None:
    add_policy_cluster(sim)

    fleet = await read_fleet(cloud, make_config(), now=NOW)

    assert [r.path for r in sim.requests_to(FOLDER_POLICIES)] == [
        f"/managed-opensearch/v1/folders/{FOLDER}/retention_policies"
    ]
    assert sim.requests_to(CLUSTER_POLICIES) == []
    by_id = fleet.by_id()
    policy = by_id[POLICY_CLUSTER]
    assert policy.policies is not None
    assert [p.policy_name for p in policy.policies] == ["four-a-day"]
    assert policy.policies_offered is True
    # new-cluster has none: the folder's listing names none of its.
    assert by_id[IDS.never].policies == ()
    assert by_id[IDS.never].policies_offered is True
    # The clusters with a snapshot schedule were not asked about.
    assert by_id[IDS.fresh].policies is None
    assert fleet.requests == len(sim.requests)


async def test_one_cluster_that_wants_them_is_asked_for_by_itself(
    sim: SimCloud, cloud: CloudClient
) -> None:
    # Only new-cluster lacks a snapshot schedule: a folder listing would cost as much.
    await read_fleet(cloud, make_config(), now=NOW)

    assert sim.requests_to(FOLDER_POLICIES) == []
    assert [r.path.split("/")[-2] for r in sim.requests_to(CLUSTER_POLICIES)] == [IDS.never]


async def test_a_cloud_that_does_not_list_them_by_folder_is_asked_per_cluster_learnt_once(
    sim: SimCloud, cloud: CloudClient
) -> None:
    sim.config = replace(sim.config, retention_policies_by_folder=False)
    add_policy_cluster(sim)

    first = await read_fleet(cloud, make_config(), now=NOW)
    await read_fleet(cloud, make_config(), now=NOW + timedelta(minutes=15))

    # 501 once: the client never lists by folder again, and reads each cluster's instead.
    assert len(sim.requests_to(FOLDER_POLICIES)) == 1
    asked = [r.path.split("/")[-2] for r in sim.requests_to(CLUSTER_POLICIES)]
    assert sorted(asked) == sorted([IDS.never, POLICY_CLUSTER] * 2)
    policy = first.by_id()[POLICY_CLUSTER]
    assert policy.policies is not None
    assert [p.policy_name for p in policy.policies] == ["four-a-day"]


async def test_a_folder_not_listed_by_folder_is_read_per_cluster_and_not_asked_again(
    sim: SimCloud, cloud: CloudClient
) -> None:
    add_policy_cluster(sim)
    sim.inject_fault(FOLDER_POLICIES, 404, times=None, code=5)

    await read_fleet(cloud, make_config(), now=NOW)
    clusters = [c async for c in cloud.list_clusters(FOLDER)]
    await read_clusters(cloud, clusters, freshness=make_config().freshness, now=NOW)

    assert len(sim.requests_to(FOLDER_POLICIES)) == 1
    asked = [r.path.split("/")[-2] for r in sim.requests_to(CLUSTER_POLICIES)]
    assert sorted(asked) == sorted([IDS.never, POLICY_CLUSTER] * 2)


async def test_a_folder_listing_that_fails_is_each_of_its_clusters_error_not_a_guess(
    sim: SimCloud, cloud: CloudClient
) -> None:
    add_policy_cluster(sim)
    sim.inject_fault(FOLDER_POLICIES, 403, times=None, code=7)

    fleet = await read_fleet(cloud, make_config(), now=NOW)

    # No per-cluster fallback for a refusal: it would be refused as well, once per cluster.
    assert sim.requests_to(CLUSTER_POLICIES) == []
    policy = fleet.by_id()[POLICY_CLUSTER]
    assert policy.policies is None
    assert policy.policies_error.startswith(
        "the retention policies of policy-prod could not be read: "
    )
    # The default maximum age is all that is left, and could be wrong: unknown, not fresh.
    report = policy.report(make_config().freshness, now=NOW)
    assert report.state is FreshnessState.UNKNOWN


async def test_the_simulated_cloud_pages_a_folders_policies_and_names_each_ones_cluster() -> None:
    async with SimCloud(SimConfig(max_page_size=1), make_fleet()) as sim:
        add_policy_cluster(sim)
        sim.fleet.clusters[IDS.never].policies = [SimPolicy("p2", "nightly")]
        sim.fleet.clusters[IDS.other].policies = [SimPolicy("p3", "elsewhere")]
        cloud = make_cloud(sim)
        try:
            page = await cloud.all_folder_retention_policies(FOLDER)
            assert page is not None
            assert sorted((p.cluster_id, p.policy_name) for p in page.policies) == [
                (IDS.never, "nightly"),
                (POLICY_CLUSTER, "four-a-day"),
            ]
            assert len(sim.requests_to(FOLDER_POLICIES)) >= 2  # a page each, and more
            sim.set_folder(FOLDER, unreadable=True)
            with pytest.raises(PermissionDenied):
                await cloud.all_folder_retention_policies(FOLDER)
        finally:
            await cloud.aclose()
