"""Reading the fleet: which clusters, their newest two backups and count, and what failed."""

from __future__ import annotations

import asyncio
import tracemalloc
from datetime import timedelta

from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.config import Match
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import generate_fleet
from bot.demo.simcloud.server import SimCloud
from bot.fleet.reader import READERS, ClusterReading, read_cluster, read_fleet
from tests.waiting import wait_until
from tests.world import FOLDER, IDS, NOW, OTHER_FOLDER, HoldingSim, make_cloud, make_config


async def test_it_reads_watched_clusters_with_newest_previous_and_count(
    sim: SimCloud, cloud: CloudClient
) -> None:
    fleet = await read_fleet(cloud, make_config())

    assert fleet.errors == ()
    by_id = fleet.by_id()
    assert set(by_id) == {IDS.stale, IDS.fresh, IDS.stopped, IDS.never, IDS.prestable}
    stale = by_id[IDS.stale]
    assert stale.count == 3
    assert stale.error is None
    assert stale.newest is not None
    assert stale.newest.created_at == NOW - timedelta(hours=30)
    assert stale.previous is not None
    assert stale.previous.created_at == NOW - timedelta(days=2, hours=30)
    never = by_id[IDS.never]
    assert (never.newest, never.previous, never.count) == (None, None, 0)
    # One Cluster.list, then Cluster.listBackups per cluster: a page each, and the empty pages
    # the cloud may send with a token. Every request made is counted.
    assert fleet.requests >= 1 + 5
    assert fleet.requests == len(sim.requests)


async def test_it_adds_listed_clusters_and_filters_by_match(
    sim: SimCloud, cloud: CloudClient
) -> None:
    config = make_config(watch={"folders": [FOLDER], "clusters": [IDS.other, IDS.stale]})

    fleet = await read_fleet(cloud, config, match=Match(environment="PRODUCTION"))

    assert {r.cluster.id for r in fleet.clusters} == {
        IDS.stale,
        IDS.fresh,
        IDS.stopped,
        IDS.never,
        IDS.other,
    }
    assert fleet.by_id()[IDS.other].cluster.folder_id == OTHER_FOLDER


async def test_it_reports_a_folder_it_cannot_list_and_reads_the_rest(
    sim: SimCloud, cloud: CloudClient
) -> None:
    sim.inject_fault(r"/clusters$", 403, times=None)
    config = make_config(watch={"folders": [FOLDER], "clusters": [IDS.other]})

    fleet = await read_fleet(cloud, config)

    assert [r.cluster.id for r in fleet.clusters] == [IDS.other]
    assert len(fleet.errors) == 1
    assert fleet.errors[0].startswith(f"the clusters of folder {FOLDER} could not be listed: ")


async def test_a_cluster_whose_backups_cannot_be_read_has_an_error_not_a_guess(
    sim: SimCloud, cloud: CloudClient
) -> None:
    sim.set_unreadable(IDS.fresh)

    fleet = await read_fleet(cloud, make_config())

    reading = fleet.by_id()[IDS.fresh]
    assert reading.count is None
    assert reading.newest is None
    assert reading.backups is None
    assert reading.error is not None
    assert reading.error.startswith("the backups of logs-prod could not be read: ")
    assert fleet.errors == ()


async def test_read_cluster_reads_one_cluster_and_never_raises(
    sim: SimCloud, cloud: CloudClient
) -> None:
    reading = await read_cluster(cloud, IDS.fresh)
    assert reading.cluster.name == "logs-prod"
    assert reading.count == 2

    missing = await read_cluster(cloud, "c9qdoesnotexist00000")
    assert missing.cluster.id == "c9qdoesnotexist00000"
    assert missing.error is not None
    assert missing.count is None


async def test_a_large_fleet_is_read_concurrently_and_kept_small() -> None:
    config = SimConfig(folders=2, clusters_per_folder=50, backups_per_cluster=60, latency=0.01)
    sim = SimCloud(config, generate_fleet(config, NOW))
    await sim.start()
    cloud = make_cloud(sim)
    try:
        tracemalloc.start()
        fleet = await read_fleet(cloud, make_config(watch={"folders": sim.fleet.folder_ids()}))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await cloud.aclose()
        await sim.stop()

    assert len(fleet.clusters) == 100
    assert fleet.errors == ()
    assert all(r.count == 60 for r in fleet.clusters)
    assert sim.peak_in_flight > 1  # concurrent...
    assert sim.peak_in_flight <= cloud.limiter.max_in_flight  # ...within the client's bound
    assert fleet.requests >= 2 + 100
    assert fleet.requests == len(sim.requests)
    # 100 clusters x 60 backups, with only two kept per cluster: a few MB at the peak.
    assert peak < 40 * 1024 * 1024


async def test_a_large_fleet_is_read_by_a_bounded_pool_of_readers_in_name_order() -> None:
    # 100 clusters and a client that would take 100 requests at once: still at most READERS
    # clusters are being read at any time, and the readings come back in name order.
    config = SimConfig(folders=1, clusters_per_folder=100, backups_per_cluster=2, seed=3)
    held = HoldingSim(config, generate_fleet(config, NOW))
    hold = held.hold(r"/backups$", times=1_000)
    await held.start()
    cloud = CloudClient(
        mdb_endpoint=held.url,
        operation_endpoint=held.url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        max_in_flight=100,
        background_in_flight=100,
    )
    try:
        reading = asyncio.create_task(
            read_fleet(cloud, make_config(watch={"folders": held.fleet.folder_ids()}))
        )
        await wait_until(lambda: hold.held >= READERS, what="a full pool of readers")
        assert hold.held == READERS
        hold.released.set()
        fleet = await asyncio.wait_for(reading, 60)
    finally:
        await cloud.aclose()
        await held.stop()
    assert len(fleet.clusters) == 100
    names = [(r.cluster.display_name, r.cluster.id) for r in fleet.clusters]
    assert names == sorted(names)
    assert all(r.count == 2 for r in fleet.clusters)


async def test_a_digest_reading_keeps_neither_the_ledger_backups_nor_the_trend(
    sim: SimCloud, cloud: CloudClient
) -> None:
    whole = await read_fleet(cloud, make_config())
    slim = await read_fleet(cloud, make_config(), ledger=False, trend=False)

    assert [r.cluster.id for r in slim.clusters] == [r.cluster.id for r in whole.clusters]
    for kept, full in zip(slim.clusters, whole.clusters, strict=True):
        assert (kept.newest, kept.previous, kept.count) == (full.newest, full.previous, full.count)
        assert not kept.seen
        assert kept.trend == ()
    fresh = whole.by_id()[IDS.fresh]
    assert len(fresh.seen) == fresh.count
    assert len(fresh.trend) >= 2


async def test_a_folded_reading_keeps_what_the_fold_made_of_each_reading_in_order(
    sim: SimCloud, cloud: CloudClient
) -> None:
    whole = await read_fleet(cloud, make_config(), ledger=False, trend=False)
    made: list[str] = []

    def fold(reading: ClusterReading) -> tuple[str, int | None]:
        made.append(reading.cluster.id)
        return reading.cluster.id, reading.count

    folded = await read_fleet(cloud, make_config(), ledger=False, trend=False, fold=fold)

    assert folded.clusters == ()
    assert folded.folded == tuple((r.cluster.id, r.count) for r in whole.clusters)
    assert sorted(made) == sorted(r.cluster.id for r in whole.clusters)  # each folded once
    assert folded.errors == whole.errors
    assert folded.folder_names == whole.folder_names
