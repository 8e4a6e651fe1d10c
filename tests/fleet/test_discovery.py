"""``watch.clouds`` and ``watch.organization``: every ACTIVE folder of the clouds, found anew
(cached a few minutes), a short listing doubted before anything is dropped, ``watch.exclude``;
against the simulated cloud serving the demo's organization."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot import clock
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.simcloud import SimCloud, SimConfig, demo_fleet
from bot.errors import NotFound
from bot.fleet.discovery import CACHE_TTL, directory_for
from bot.fleet.lookup import ClusterFinder
from bot.fleet.reader import FleetReading, read_fleet
from bot.slack.blocks import SLACK
from bot.store import Store
from tests.world import make_cloud, make_features

FOLDERS = r"^/resource-manager/v1/folders$"
FOLDER_GET = r"^/resource-manager/v1/folders/[^/]+$"
CLUSTERS = r"/managed-opensearch/v1/clusters$"


@pytest.fixture
async def org() -> AsyncIterator[SimCloud]:
    async with SimCloud(SimConfig(), fleet=demo_fleet(clock.now())) as sim:
        yield sim


@pytest.fixture
async def client(org: SimCloud) -> AsyncIterator[CloudClient]:
    cloud = make_cloud(org)
    yield cloud
    await cloud.aclose()


def config(**watch: object) -> BotConfig:
    return BotConfig.model_validate({"watch": watch})


def platform(sim: SimCloud) -> str:
    return next(c.id for c in sim.fleet.clouds if c.name == "platform")


def names(fleet: FleetReading) -> set[str]:
    return {r.cluster.name for r in fleet.clusters}


async def test_a_cloud_stands_for_every_cluster_of_its_active_folders(
    org: SimCloud, client: CloudClient
) -> None:
    fleet = await read_fleet(client, config(clouds=[platform(org)]))
    assert names(fleet) == {c.name for c in org.fleet.clusters.values()}
    assert fleet.errors == ()
    assert {f.name for f in fleet.discovery.folders} == {
        "search-platform",
        "observability",
        "commerce",
    }
    # Resource Manager's requests are counted with the rest.
    assert fleet.requests == len(org.requests)


async def test_an_organization_watches_every_cloud_and_says_what_it_cannot_read(
    org: SimCloud, client: CloudClient
) -> None:
    fleet = await read_fleet(client, config(organization=org.fleet.clouds[0].organization_id))
    assert names(fleet) == {c.name for c in org.fleet.clusters.values()}
    sandbox = next(c for c in fleet.discovery.clouds if c.name == "sandbox")
    # Folders being deleted are not watched; the unreadable one is, and is said.
    assert [f.name for f in sandbox.folders] == ["finance-restricted"]
    assert sandbox.inactive == 2
    restricted = sandbox.folders[0].id
    assert len(fleet.errors) == 1
    assert restricted in fleet.errors[0]
    assert "Permission denied" in fleet.errors[0]
    # No cluster of a folder being deleted was asked for.
    asked = {r.query.get("folderId") for r in org.requests_to(CLUSTERS)}
    deleting = {f.id for f in org.fleet.folders if f.status != "ACTIVE"}
    assert not asked & deleting


async def test_exclude_leaves_clusters_and_whole_folders_out(
    org: SimCloud, client: CloudClient
) -> None:
    organization = org.fleet.clouds[0].organization_id
    by_label = await read_fleet(
        client, config(organization=organization, exclude={"labels": {"team": "search"}})
    )
    assert names(by_label)
    assert all(r.cluster.labels.get("team") != "search" for r in by_label.clusters)
    restricted = next(f.id for f in org.fleet.folders if f.unreadable)
    org.clear_requests()
    by_folder = await read_fleet(
        client, config(organization=organization, exclude={"folder": restricted})
    )
    # The folder left out on purpose is not even listed, so it is no error either.
    assert by_folder.errors == ()
    assert restricted not in {r.query.get("folderId") for r in org.requests_to(CLUSTERS)}


async def test_the_folders_are_cached_then_found_anew(org: SimCloud, client: CloudClient) -> None:
    watch = config(clouds=[platform(org)])
    now = clock.now()
    before = await read_fleet(client, watch, now=now)
    folder = org.add_folder()
    listings = len(org.requests_to(FOLDERS))
    # Within the cache's life the cloud's folders are not listed again.
    cached = await read_fleet(client, watch, now=now + timedelta(minutes=1))
    assert len(org.requests_to(FOLDERS)) == listings
    assert names(cached) == names(before)
    later = await read_fleet(client, watch, now=now + CACHE_TTL)
    assert names(later) - names(before) == {"search-eu"}
    assert folder.id in later.discovery.folder_ids()


async def test_one_empty_listing_drops_nothing(org: SimCloud, client: CloudClient) -> None:
    watch = config(clouds=[platform(org)])
    now = clock.now()
    before = await read_fleet(client, watch, now=now)
    org.inject_fault(FOLDERS, 200, body={})
    after = await read_fleet(client, watch, now=now + CACHE_TTL)
    assert names(after) == names(before)
    assert after.errors == ()
    # Each folder the listing lacked was asked for by itself.
    assert len(org.requests_to(FOLDER_GET)) == 3


async def test_a_folder_being_deleted_is_dropped_after_it_is_asked_for(
    org: SimCloud, client: CloudClient
) -> None:
    watch = config(clouds=[platform(org)])
    now = clock.now()
    await read_fleet(client, watch, now=now)
    gone = org.fleet.folders[2]
    org.set_folder(gone.id, status="PENDING_DELETION")
    after = await read_fleet(client, watch, now=now + CACHE_TTL)
    assert gone.id not in after.discovery.folder_ids()
    assert all(r.cluster.folder_id != gone.id for r in after.clusters)
    # The listing already said so: no need to ask the folder itself.
    assert org.requests_to(FOLDER_GET) == []


async def test_a_cloud_that_cannot_be_listed_keeps_its_folders_and_says_why(
    org: SimCloud, client: CloudClient
) -> None:
    watch = config(clouds=[platform(org)])
    now = clock.now()
    before = await read_fleet(client, watch, now=now)
    org.inject_fault(FOLDERS, 503, times=None)
    after = await read_fleet(client, watch, now=now + CACHE_TTL)
    assert names(after) == names(before)
    assert len(after.errors) == 1
    assert "platform" in after.errors[0]
    # Not cached: the next reading asks again, and sees again.
    org.clear_faults()
    again = await read_fleet(client, watch, now=now + CACHE_TTL + timedelta(seconds=1))
    assert again.errors == ()


async def test_a_cloud_never_listed_gives_no_folder_and_says_why(
    org: SimCloud, client: CloudClient
) -> None:
    fleet = await read_fleet(client, config(clouds=["b1gnosuchcloud000001"]))
    assert fleet.clusters == ()
    assert len(fleet.errors) == 1
    assert "b1gnosuchcloud000001" in fleet.errors[0]


def test_each_client_has_a_directory_of_its_own(org: SimCloud) -> None:
    one, two = make_cloud(org), make_cloud(org)
    assert directory_for(one) is directory_for(one)
    assert directory_for(one) is not directory_for(two)


async def test_a_config_that_names_only_clouds_finds_its_clusters_by_name(
    org: SimCloud, client: CloudClient
) -> None:
    watched = config(clouds=[platform(org)])
    assert watched.search_folders() == []  # no folder named: only the clouds' listing can help
    name = next(c.name for c in org.fleet.clusters.values() if c.name)
    found = await ClusterFinder(client, watched).find(name.upper())  # names as people type them
    assert found.name == name
    with pytest.raises(NotFound):
        await ClusterFinder(client, watched).find("no-such-cluster-anywhere")


async def test_clusters_without_a_folder_shows_the_clouds_folders(
    org: SimCloud, client: CloudClient, store: Store
) -> None:
    features = make_features(client, store, config(clouds=[platform(org)]))
    try:
        card = await features.queries.clusters_view(None, now=clock.now())
    finally:
        await features.backups.aclose()
    shown = str(SLACK.render(card)["blocks"])
    some = sorted(c.name for c in org.fleet.clusters.values() if c.name)[:3]
    assert all(name in shown for name in some), some
