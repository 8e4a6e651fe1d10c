"""Coverage changes, said once: a folder that appears between two sweeps is announced once in
the routes its cluster matches, then alerts as usual; a listing that comes back empty once drops
nothing and says nothing; a cluster gone from the cloud is said once. Against the simulated
cloud, a fake Slack and the store, through the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.alerts.sweep import Sweeper
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.simcloud import SimResourceCloud
from bot.demo.simcloud.server import SimCloud
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.posts import PostKind
from bot.store import Store
from tests.world import (
    CONSOLE_URL,
    FOLDER,
    IDS,
    NOW,
    ONCALL_CHANNEL,
    OTHER_FOLDER,
    kinds,
    make_config,
    sweep_and_deliver,
)

CLOUD = "b1gcloudofthetests01"
LATER = NOW + timedelta(minutes=15)
FOLDERS = r"^/resource-manager/v1/folders$"


def cloud_config() -> BotConfig:
    return make_config(watch={"clouds": [CLOUD]})


def in_a_cloud(sim: SimCloud) -> None:
    """The world's two folders, made the folders of one cloud."""
    sim.fleet.clouds.append(SimResourceCloud(CLOUD, "platform", "bpforganization00001"))
    for folder in sim.fleet.folders:
        folder.cloud_id = CLOUD


def sweeper(cloud: CloudClient, store: Store, config: BotConfig) -> Sweeper:
    return Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="replica-a")


def coverage_posts(result: object) -> list[tuple[PostKind, str]]:
    return [k for k in kinds(result.posts) if k[0] is PostKind.COVERAGE]  # type: ignore[attr-defined]


async def test_the_first_sweep_records_every_cluster_and_says_nothing(
    sim: SimCloud, cloud: CloudClient, store: Store, executor: DeliveryExecutor
) -> None:
    in_a_cloud(sim)
    config = cloud_config()
    result = await sweep_and_deliver(sweeper(cloud, store, config), executor, now=NOW)
    assert coverage_posts(result) == []
    known = await store.coverage.list()
    assert set(known) == set(sim.fleet.clusters)
    assert all(entry.watching for entry in known.values())


async def test_a_folder_that_appears_between_two_sweeps_is_announced_once(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    executor: DeliveryExecutor,
    fake_slack: object,
) -> None:
    in_a_cloud(sim)
    config = cloud_config()
    run = sweeper(cloud, store, config)
    await sweep_and_deliver(run, executor, now=NOW)
    folder = sim.add_folder(cloud_id=CLOUD, now=LATER)
    [new] = [c for c in sim.fleet.clusters.values() if c.folder_id == folder.id]

    second = await sweep_and_deliver(run, executor, now=LATER)
    assert coverage_posts(second) == [(PostKind.COVERAGE, new.id)]
    [post] = [p for p in second.posts if p.kind is PostKind.COVERAGE]
    assert post.channel == ONCALL_CHANNEL
    text = str(post.payload)
    assert "Now watching `search-eu` in folder `team-search`" in text
    assert re.search(r"its newest backup is (2h|1h 5\dm) old", text), text
    assert folder.id in text  # the id, in the context line
    # Its history raises no alert beyond the normal first check: it is fresh.
    assert all(
        subject != new.id for kind, subject in kinds(second.posts) if kind is not PostKind.COVERAGE
    )

    third = await sweep_and_deliver(run, executor, now=LATER + timedelta(minutes=15))
    assert coverage_posts(third) == []


async def test_a_folder_listing_that_comes_back_empty_once_drops_nothing(
    sim: SimCloud, cloud: CloudClient, store: Store, executor: DeliveryExecutor
) -> None:
    in_a_cloud(sim)
    config = cloud_config()
    run = sweeper(cloud, store, config)
    first = await sweep_and_deliver(run, executor, now=NOW)
    before = await store.coverage.list()
    sim.inject_fault(FOLDERS, 200, body={})

    second = await sweep_and_deliver(run, executor, now=LATER)
    assert coverage_posts(second) == []
    assert await store.coverage.list() == before
    assert second.clusters == first.clusters


async def test_a_cluster_gone_from_the_cloud_is_said_once(
    sim: SimCloud, cloud: CloudClient, store: Store, executor: DeliveryExecutor
) -> None:
    config = make_config()
    run = sweeper(cloud, store, config)
    await sweep_and_deliver(run, executor, now=NOW)
    gone = sim.fleet.clusters.pop(IDS.prestable)
    sim.fleet.backups.pop(gone.id, None)

    second = await sweep_and_deliver(run, executor, now=LATER)
    # The route is PRODUCTION only: a PRESTABLE cluster is said nowhere, but it is dropped.
    assert coverage_posts(second) == []
    assert not (await store.coverage.list())[gone.id].watching

    production = sim.fleet.clusters.pop(IDS.fresh)
    third = await sweep_and_deliver(run, executor, now=LATER + timedelta(minutes=15))
    assert coverage_posts(third) == [(PostKind.COVERAGE, production.id)]
    [post] = [p for p in third.posts if p.kind is PostKind.COVERAGE]
    assert "No longer watching `logs-prod`" in str(post.payload)
    fourth = await sweep_and_deliver(run, executor, now=LATER + timedelta(minutes=30))
    assert coverage_posts(fourth) == []


async def test_a_cluster_that_cannot_be_read_again_is_not_dropped(
    sim: SimCloud, cloud: CloudClient, store: Store, executor: DeliveryExecutor
) -> None:
    config = make_config()
    run = sweeper(cloud, store, config)
    await sweep_and_deliver(run, executor, now=NOW)
    # The listing leaves it out and asking for it fails: unknown, not gone.
    sim.inject_fault(r"/managed-opensearch/v1/clusters$", 200, body={"clusters": []})
    sim.inject_fault(rf"/clusters/{IDS.fresh}$", 503, times=None)
    second = await sweep_and_deliver(run, executor, now=LATER)
    assert coverage_posts(second) == []
    assert (await store.coverage.list())[IDS.fresh].watching


async def test_a_folder_unreadable_for_blind_after_sweeps_raises_one_self_alert(
    sim: SimCloud, cloud: CloudClient, store: Store, executor: DeliveryExecutor
) -> None:
    config = make_config(
        watch={"folders": [FOLDER, OTHER_FOLDER]}, sweep={"every": "15m", "blind_after": 2}
    )
    run = sweeper(cloud, store, config)
    sim.set_folder(OTHER_FOLDER, unreadable=True)

    def selfs(result: object) -> list[tuple[PostKind, str]]:
        return [
            k
            for k in kinds(result.posts)  # type: ignore[attr-defined]
            if k[0] in (PostKind.SELF_ALERT, PostKind.SELF_REPLY)
        ]

    first = await sweep_and_deliver(run, executor, now=NOW)
    assert selfs(first) == []
    assert not first.blind  # the other folder reads: the bot is not blind, its coverage fell
    second = await sweep_and_deliver(run, executor, now=LATER)
    assert selfs(second) == [(PostKind.SELF_ALERT, "unreadable-folders")]
    [alert] = [p for p in second.posts if p.kind is PostKind.SELF_ALERT]
    assert "Coverage fell" in str(alert.payload)
    assert OTHER_FOLDER in str(alert.payload)
    assert "Permission denied" in str(alert.payload)
    third = await sweep_and_deliver(run, executor, now=LATER + timedelta(minutes=15))
    assert selfs(third) == []

    sim.set_folder(OTHER_FOLDER, unreadable=False)
    fourth = await sweep_and_deliver(run, executor, now=LATER + timedelta(minutes=30))
    assert selfs(fourth) == [(PostKind.SELF_REPLY, "unreadable-folders")]


async def test_a_grouped_alert_names_the_folder_found_in_a_cloud(
    sim: SimCloud, cloud: CloudClient, store: Store, executor: DeliveryExecutor
) -> None:
    in_a_cloud(sim)
    config = make_config(
        watch={"clouds": [CLOUD]},
        alerts=[
            {
                "channel": ONCALL_CHANNEL,
                "match": {"environment": "PRODUCTION"},
                "group_by": ["folder"],
                "group_after": 1,
            }
        ],
    )
    result = await sweep_and_deliver(sweeper(cloud, store, config), executor, now=NOW)
    [group] = [p for p in result.posts if p.kind is PostKind.GROUP_ALERT]
    assert group.subject.startswith("group folder watched ")
    contexts = [b for b in group.payload["blocks"] if b["type"] == "context"]
    assert any(f"folder id `{FOLDER}`" in str(b) for b in contexts)
