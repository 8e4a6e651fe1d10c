"""Folder names, not ids: a folder named in ``watch.folders`` has its name read by itself
(Folder.get), kept for minutes between sweeps; one whose name cannot be read is shown by its
id, and that is no error of the reading's (so no alert)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app.wiring import Features
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.simcloud.fleet import SimCluster, SimSchedule
from bot.demo.simcloud.server import SimCloud
from bot.digest.runner import DigestRunner
from bot.fleet.reader import read_fleet
from bot.slack.blocks import SLACK
from bot.store import Store
from tests.world import CONSOLE_URL, FOLDER, NOW, make_config, make_features

FOLDER_GET = r"^/resource-manager/v1/folders/[^/]+$"


@pytest.fixture
async def features(cloud: CloudClient, store: Store, config: BotConfig) -> AsyncIterator[Features]:
    built = make_features(cloud, store, config)
    yield built
    await built.backups.aclose()


async def test_a_watched_folders_name_is_read_once_and_kept_for_minutes(
    sim: SimCloud, cloud: CloudClient
) -> None:
    config = make_config()

    first = await read_fleet(cloud, config, now=NOW)
    assert first.requests == len(sim.requests)  # the Folder.get counted with the rest
    again = await read_fleet(cloud, config, now=NOW + timedelta(minutes=4))
    later = await read_fleet(cloud, config, now=NOW + timedelta(minutes=6))

    assert first.folder_names == {FOLDER: "watched"}
    assert again.folder_names == later.folder_names == {FOLDER: "watched"}
    # Once, then from the cache, then once more when the cache has aged.
    assert len(sim.requests_to(FOLDER_GET)) == 2


@pytest.mark.parametrize("status", [403, 404, 503])
async def test_a_name_that_cannot_be_read_shows_the_id_and_is_no_error(
    sim: SimCloud, cloud: CloudClient, status: int
) -> None:
    sim.inject_fault(FOLDER_GET, status, times=None)

    fleet = await read_fleet(cloud, make_config(), now=NOW)

    assert fleet.folder_names == {}
    # Nothing to say in a digest, nothing for a self-alert: the clusters were all read.
    assert fleet.errors == ()
    assert fleet.unlisted == frozenset()
    assert len(fleet.clusters) == 5
    # Not asked again until the cache has aged (a 503 may have been retried by the client).
    asked = len(sim.requests_to(FOLDER_GET))
    await read_fleet(cloud, make_config(), now=NOW + timedelta(minutes=1))
    assert len(sim.requests_to(FOLDER_GET)) == asked


async def test_status_of_a_folder_names_it_and_gives_its_id_in_the_context_line(
    sim: SimCloud, features: Features
) -> None:
    card = await features.queries.status_view(FOLDER, now=NOW)

    rendered = SLACK.render(card)
    blocks = rendered["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Backups status of folder watched"
    contexts = [str(b) for b in blocks if b["type"] == "context"]
    assert any(f"watched: folder id `{FOLDER}`" in c for c in contexts)
    # The rows name the folder too, not its id.
    assert "folder watched" in str(blocks)
    assert f"folder `{FOLDER}`" not in str(blocks)


async def test_status_of_a_folder_whose_name_cannot_be_read_shows_its_id(
    sim: SimCloud, features: Features
) -> None:
    sim.inject_fault(FOLDER_GET, 403, times=None)

    card = await features.queries.status_view(FOLDER, now=NOW)

    blocks = SLACK.render(card)["blocks"]
    assert blocks[0]["text"]["text"] == f"Backups status of folder {FOLDER}"
    assert f"folder `{FOLDER}`" in str(blocks)
    assert "folder id" not in str(blocks)


async def test_clusters_names_the_folder_and_gives_its_id_in_the_context_line(
    sim: SimCloud, features: Features
) -> None:
    card = await features.queries.clusters_view(FOLDER, now=NOW)

    assert card.text.startswith("Clusters in watched: ")
    blocks = SLACK.render(card)["blocks"]
    contexts = [str(b) for b in blocks if b["type"] == "context"]
    assert any(f"watched: folder id `{FOLDER}`" in c for c in contexts)


async def test_a_digest_grouped_by_folder_heads_the_group_by_name_with_the_id_below(
    sim: SimCloud, cloud: CloudClient, store: Store, config: BotConfig
) -> None:
    # More problems than the top post shows: the rest go to the thread, under group headings.
    for n in range(12):
        cluster_id = f"c9qstale{n:012d}"
        sim.fleet.add_cluster(
            SimCluster(
                id=cluster_id,
                folder_id=FOLDER,
                name=f"stale-{n:02d}",
                created_at=NOW - timedelta(days=300),
                schedule=SimSchedule("daily", hour=3, minute=0),
            )
        )
        sim.add_backup(cluster_id, created_at=NOW - timedelta(days=3))
    runner = DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="r")

    [result] = await runner.run_all(now=NOW, dry_run=True)

    thread = " ".join(str(SLACK.render(m)["blocks"]) for m in result.messages[1:])
    assert "*folder watched* · " in thread
    assert f"folder id `{FOLDER}`" in thread
    assert f"folder watched ({FOLDER})" not in thread


@pytest.mark.parametrize(("status", "said"), [(None, f"watched ({FOLDER})"), (403, FOLDER)])
async def test_get_names_the_backups_folder_beside_its_id_where_it_can(
    sim: SimCloud, features: Features, status: int | None, said: str
) -> None:
    if status is not None:
        sim.inject_fault(FOLDER_GET, status, times=None)
    cluster_id = next(iter(sim.fleet.clusters))
    backup = sim.fleet.newest_backup(cluster_id)
    assert backup is not None

    card = await features.queries.get_backup(backup.id, now=NOW)

    assert f"in folder `{said}`" in str(SLACK.render(card)["blocks"])
