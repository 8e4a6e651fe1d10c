"""Finding the cluster a person means, against the simulated cloud."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import clock
from bot.cloud.client import CloudClient
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.fleet import SimCluster
from bot.demo.simcloud.server import SimCloud
from bot.errors import NotFound, PermissionDenied, UsageError
from bot.fleet.lookup import closest_names, looks_like_id, resolve_cluster
from tests.slack.harness import (
    FOLDER,
    LOGS,
    OTHER_FOLDER,
    OUTSIDE,
    TWIN_1,
    TWIN_2,
    make_fleet,
    make_settings,
)


@pytest.fixture
async def cloud() -> AsyncIterator[tuple[SimCloud, CloudClient]]:
    async with SimCloud(SimConfig(), make_fleet(clock.now())) as sim:
        client = CloudClient.from_settings(make_settings("http://127.0.0.1:9/api/", sim.url))
        try:
            yield sim, client
        finally:
            await client.aclose()


async def test_an_id_is_fetched_directly(cloud: tuple[SimCloud, CloudClient]) -> None:
    sim, client = cloud
    cluster = await resolve_cluster(client, LOGS, folders=[FOLDER], allowed_folders=[FOLDER])
    assert cluster.name == "logs-prod"
    assert [r.path.rsplit("/", 1)[-1] for r in sim.requests] == [LOGS]


async def test_a_name_is_matched_in_the_configured_folders(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    _, client = cloud
    cluster = await resolve_cluster(client, "logs-prod", folders=[FOLDER], allowed_folders=[])
    assert cluster.id == LOGS


async def test_an_ambiguous_name_lists_the_ids(cloud: tuple[SimCloud, CloudClient]) -> None:
    _, client = cloud
    with pytest.raises(UsageError) as caught:
        await resolve_cluster(client, "twin", folders=[FOLDER], allowed_folders=[FOLDER])
    assert TWIN_1 in str(caught.value)
    assert TWIN_2 in str(caught.value)
    assert caught.value.hint


async def test_a_cluster_outside_the_allowed_folders_is_answered_as_not_found(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    _, client = cloud
    with pytest.raises(NotFound):
        await resolve_cluster(client, OUTSIDE, folders=[FOLDER], allowed_folders=[FOLDER])
    with pytest.raises(NotFound):
        await resolve_cluster(
            client, "outside", folders=[FOLDER, OTHER_FOLDER], allowed_folders=[FOLDER]
        )


async def test_an_unknown_id_is_not_found(cloud: tuple[SimCloud, CloudClient]) -> None:
    _, client = cloud
    with pytest.raises(NotFound):
        await resolve_cluster(
            client, "c9qnosuchcluster0001", folders=[FOLDER], allowed_folders=[FOLDER]
        )


async def test_a_name_with_no_folders_configured_says_to_use_the_id(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    _, client = cloud
    with pytest.raises(UsageError) as caught:
        await resolve_cluster(client, "logs-prod", folders=[], allowed_folders=[])
    assert "watch.folders" in (caught.value.hint or "")


async def test_a_folder_that_cannot_be_read_is_reported_rather_than_not_found(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    sim, client = cloud
    sim.inject_fault(r"/clusters$", 403, times=None)
    with pytest.raises(PermissionDenied):
        await resolve_cluster(client, "logs-prod", folders=[FOLDER], allowed_folders=[])


def test_ids_have_the_clouds_shape_and_names_usually_do_not() -> None:
    assert looks_like_id(LOGS)
    assert not looks_like_id("logs-prod")
    assert not looks_like_id("C9QLOGSPROD000000001")


async def test_a_ref_not_shaped_like_an_id_is_tried_as_one_when_no_name_matches(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    sim, client = cloud
    # Ids have no shape the API promises: a 12-character one is still an id.
    sim.fleet.add_cluster(
        SimCluster(id="c9qshort0001", folder_id=FOLDER, name="odd", created_at=clock.now())
    )
    cluster = await resolve_cluster(
        client, "c9qshort0001", folders=[FOLDER], allowed_folders=[FOLDER]
    )
    assert cluster.name == "odd"
    assert [r.path.rsplit("/", 1)[-1] for r in sim.requests][-1] == "c9qshort0001"
    # With no folders to look names up in, too.
    cluster = await resolve_cluster(client, "c9qshort0001", folders=[], allowed_folders=[])
    assert cluster.id == "c9qshort0001"


async def test_a_name_is_looked_up_before_it_is_tried_as_an_id(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    sim, client = cloud
    cluster = await resolve_cluster(client, "logs-prod", folders=[FOLDER], allowed_folders=[])
    assert cluster.id == LOGS
    assert not [r for r in sim.requests if r.path.endswith("/clusters/logs-prod")]


async def test_a_ref_that_is_neither_a_name_nor_an_id_is_not_found(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    sim, client = cloud
    with pytest.raises(NotFound):
        await resolve_cluster(client, "no-such-thing", folders=[FOLDER], allowed_folders=[])
    assert [r.path for r in sim.requests if "no-such-thing" in r.path] == [
        "/managed-opensearch/v1/clusters/no-such-thing"
    ]
    with pytest.raises(UsageError) as caught:
        await resolve_cluster(client, "no-such-thing", folders=[], allowed_folders=[])
    assert "watch.folders" in (caught.value.hint or "")


async def test_a_ref_too_long_to_be_an_id_is_not_asked_for(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    sim, client = cloud
    with pytest.raises(NotFound):
        await resolve_cluster(client, "n" * 51, folders=[FOLDER], allowed_folders=[])
    assert not [r for r in sim.requests if r.path.endswith("n" * 51)]


async def test_an_id_found_outside_the_allowed_folders_is_still_not_found(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    sim, client = cloud
    sim.fleet.add_cluster(
        SimCluster(id="c9qelsewhere", folder_id=OTHER_FOLDER, name="e", created_at=clock.now())
    )
    with pytest.raises(NotFound):
        await resolve_cluster(client, "c9qelsewhere", folders=[FOLDER], allowed_folders=[FOLDER])


async def test_a_name_in_another_case_matches_when_it_is_the_only_one(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    _, client = cloud
    cluster = await resolve_cluster(client, "Logs-PROD", folders=[FOLDER], allowed_folders=[])
    assert cluster.id == LOGS
    # Two clusters share the name whatever its case: still ambiguous, never a guess.
    with pytest.raises(UsageError) as caught:
        await resolve_cluster(client, "TWIN", folders=[FOLDER], allowed_folders=[FOLDER])
    assert TWIN_1 in str(caught.value)


async def test_a_name_that_matches_nothing_offers_the_closest_watched_names(
    cloud: tuple[SimCloud, CloudClient],
) -> None:
    _, client = cloud
    with pytest.raises(NotFound) as caught:
        await resolve_cluster(client, "log-prod", folders=[FOLDER], allowed_folders=[])
    assert caught.value.suggestions[0] == "logs-prod"
    assert len(caught.value.suggestions) <= 3
    with pytest.raises(NotFound) as far:
        await resolve_cluster(client, "zzzzzzzz", folders=[FOLDER], allowed_folders=[])
    assert far.value.suggestions == ()


def test_the_closest_names_are_at_most_three_closest_first_whatever_the_case() -> None:
    names = ["traces-prod", "traces-dev", "Traces-Stage", "logs-prod", "tracer-prod"]
    assert closest_names("trace-prod", names) == ["traces-prod", "tracer-prod", "traces-dev"]
    assert closest_names("TRACES-STAGE", names)[0] == "Traces-Stage"
    assert closest_names("payments", names) == []
