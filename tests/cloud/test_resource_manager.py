"""Resource Manager's clouds and folders, read by the client from the simulated cloud: the demo's
organization of two clouds, folders of every status, an unreadable folder, long page tokens, and
a folder that appears between two listings."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot import clock
from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.cloud.models import FolderStatus
from bot.demo.simcloud import DEFAULT_STATIC_TOKEN, SimCloud, SimConfig, demo_fleet
from bot.errors import InvalidArgument, MalformedResponse, PermissionDenied
from tests.cloud.helpers import FAST_RETRY

FOLDERS = r"^/resource-manager/v1/folders$"


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    """The demo's organization, served one item a page: every listing takes several pages."""
    async with SimCloud(SimConfig(max_page_size=1), fleet=demo_fleet(clock.now())) as cloud:
        yield cloud


@pytest.fixture
async def client(sim: SimCloud) -> AsyncIterator[CloudClient]:
    async with CloudClient(
        mdb_endpoint=sim.url,
        operation_endpoint=sim.url,
        resource_manager_endpoint=sim.url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        retry=FAST_RETRY,
        timeout=2.0,
        rng=random.Random(3),
    ) as cloud:
        yield cloud


def _organization(sim: SimCloud) -> str:
    return sim.fleet.clouds[0].organization_id


def _cloud(sim: SimCloud, name: str) -> Any:
    return next(c for c in sim.fleet.clouds if c.name == name)


async def test_the_organization_lists_its_two_clouds_by_name(
    sim: SimCloud, client: CloudClient
) -> None:
    page = await client.all_clouds(_organization(sim))
    assert sorted(c.name for c in page.clouds) == ["platform", "sandbox"]
    assert {c.organization_id for c in page.clouds} == {_organization(sim)}
    assert page.skipped == ()
    other = await client.all_clouds("bpfnosuchorganizat01")
    assert other.clouds == ()


async def test_folders_of_every_status_come_over_many_pages_of_long_tokens(
    sim: SimCloud, client: CloudClient
) -> None:
    sandbox = _cloud(sim, "sandbox")
    page = await client.all_folders(sandbox.id)
    by_name = {f.name: f for f in page.folders}
    assert set(by_name) == {"legacy-reports", "old-analytics", "finance-restricted"}
    assert by_name["legacy-reports"].status is FolderStatus.DELETING
    assert by_name["old-analytics"].status is FolderStatus.PENDING_DELETION
    assert by_name["finance-restricted"].active
    assert {f.cloud_id for f in page.folders} == {sandbox.id}
    # One folder a page: the tokens went back, each longer than MDB's limit of 100.
    sent = [r.query.get("pageToken", "") for r in sim.requests_to(FOLDERS)]
    assert len(sent) >= 3
    assert all(len(token) > 100 for token in sent[1:])


async def test_an_unreadable_folder_is_listed_but_denied_as_the_api_denies_it(
    sim: SimCloud, client: CloudClient
) -> None:
    folder = next(f for f in sim.fleet.folders if f.unreadable)
    with pytest.raises(PermissionDenied) as got:
        await client.get_folder(folder.id)
    assert (got.value.status, got.value.code) == (403, 7)
    with pytest.raises(PermissionDenied):
        await client.list_clusters_page(folder.id)
    listed = await client.all_folders(folder.cloud_id)
    assert folder.id in {f.id for f in listed.folders}


async def test_a_cloud_the_account_cannot_see_is_permission_denied(client: CloudClient) -> None:
    with pytest.raises(PermissionDenied):
        await client.all_folders("b1gnosuchcloud000001")


async def test_a_folder_gets_its_name_and_cloud(sim: SimCloud, client: CloudClient) -> None:
    folder = sim.fleet.folders[0]
    got = await client.get_folder(folder.id)
    assert (got.name, got.cloud_id, got.status) == (
        "search-platform",
        _cloud(sim, "platform").id,
        FolderStatus.ACTIVE,
    )
    cloud = await client.get_cloud(got.cloud_id)
    assert cloud.name == "platform"


async def test_a_folder_that_appears_between_two_listings_is_in_the_second(
    sim: SimCloud, client: CloudClient
) -> None:
    platform = _cloud(sim, "platform")
    before = {f.id for f in (await client.all_folders(platform.id)).folders}
    folder = sim.add_folder()
    after = {f.id for f in (await client.all_folders(platform.id)).folders}
    assert after - before == {folder.id}
    clusters = (await client.list_clusters_page(folder.id)).clusters
    assert [c.name for c in clusters] == ["search-eu"]
    newest = sim.fleet.newest_backup(clusters[0].id)
    assert newest is not None
    assert folder.created_at is not None
    age = folder.created_at - newest.created_at
    assert timedelta(hours=2) <= age < timedelta(hours=2, seconds=1)


async def test_a_token_longer_than_resource_managers_limit_is_the_clouds_mistake(
    sim: SimCloud, client: CloudClient
) -> None:
    sim.inject_fault(FOLDERS, 200, body={"folders": [], "nextPageToken": "x" * 2001})
    with pytest.raises(MalformedResponse, match="2001 characters"):
        await client.all_folders(_cloud(sim, "platform").id)


async def test_a_token_of_two_thousand_characters_is_sent_and_one_more_refused(
    sim: SimCloud, client: CloudClient
) -> None:
    cloud = _cloud(sim, "platform").id
    sim.inject_fault(FOLDERS, 200, body={"folders": []})
    await client.list_folders_page(cloud, page_token="t" * 2000)
    assert len(sim.requests_to(FOLDERS)[-1].query["pageToken"]) == 2000
    with pytest.raises(InvalidArgument, match="at most 2000"):
        await client.list_folders_page(cloud, page_token="t" * 2001)
    # MDB's listings keep their own limit.
    with pytest.raises(InvalidArgument, match="at most 100"):
        await client.list_clusters_page(sim.fleet.folders[0].id, page_token="t" * 101)
