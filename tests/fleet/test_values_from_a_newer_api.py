"""A cluster in a status (and health) this code has never seen, or a folder listing with an item
that cannot be read: `clusters`, the digest and the sweep still see every other cluster.

proto3 enums are open: a newer API sends values an older client has no name for. Before, one
such cluster failed the whole folder's listing (MalformedResponse), so every cluster of the
folder vanished from the digest and the sweep.
"""

from __future__ import annotations

import pytest

from bot.alerts.sweep import Sweeper
from bot.chat.card import Card
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.simcloud.server import SimCloud
from bot.digest.runner import DigestRunner
from bot.fleet.reader import read_fleet
from bot.freshness.model import FreshnessState
from bot.outbox.posts import PostKind
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.slack.payload import slack
from tests.world import CONSOLE_URL, FOLDER, IDS, NOW, make_features

WATCHED = {IDS.stale, IDS.fresh, IDS.stopped, IDS.never, IDS.prestable}


def text_of(card: Card) -> str:
    message = slack(card)
    parts = [message.text]
    for block in message.blocks:
        if block["type"] == "section":
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts += [e["text"] for e in block["elements"]]
    return "\n".join(parts)


@pytest.fixture
def future(sim: SimCloud) -> SimCloud:
    """logs-prod (fresh, daily schedule) is in a status and a health from a newer API."""
    cluster = sim.fleet.clusters[IDS.fresh]
    cluster.status = "RESTORING_FROM_SNAPSHOT"
    cluster.health = "REBALANCING"
    return sim


async def test_the_fleet_reading_keeps_every_cluster_and_the_unknown_values(
    future: SimCloud, cloud: CloudClient, config: BotConfig
) -> None:
    fleet = await read_fleet(cloud, config)
    assert fleet.errors == ()
    assert {r.cluster.id for r in fleet.clusters} == WATCHED
    cluster = fleet.by_id()[IDS.fresh].cluster
    assert cluster.status == "RESTORING_FROM_SNAPSHOT"
    assert not cluster.status.is_known
    assert cluster.health == "REBALANCING"


async def test_clusters_lists_every_cluster_of_the_folder(
    future: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    config: BotConfig,
) -> None:
    watch = make_features(cloud, store, config, owner="a")
    message = await watch.queries.clusters_view(FOLDER, now=NOW)
    text = text_of(message)
    for name in ("orders-prod", "logs-prod", "archive", "new-cluster", "search-pre"):
        assert name in text


async def test_the_digest_has_every_cluster_and_judges_the_unknown_status_on_its_backups(
    future: SimCloud,
    cloud: CloudClient,
    store: Store,
    config: BotConfig,
) -> None:
    runner = DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="a")
    (result,) = await runner.run_all(now=NOW, dry_run=True)
    assert result.errors == ()
    assert result.digest is not None
    states = {row.cluster.id: row.report.state for row in result.digest.rows}
    assert set(states) == WATCHED
    # An unknown status is not "stopped": the cluster is judged by its backups (3 h old: fresh).
    assert states[IDS.fresh] is FreshnessState.FRESH
    assert states[IDS.stopped] is FreshnessState.STOPPED


async def test_the_sweep_still_alerts_on_the_folders_stale_clusters(
    future: SimCloud,
    cloud: CloudClient,
    store: Store,
    config: BotConfig,
) -> None:
    sweeper = Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="a")
    result = await sweeper.run(now=NOW, dry_run=True)
    assert [(p.kind, p.subject.split()[0]) for p in result.posts] == [
        (PostKind.ALERT, IDS.never),
        (PostKind.ALERT, IDS.stale),
    ]


async def test_a_cluster_item_that_cannot_be_read_costs_only_itself_and_is_named(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    config: BotConfig,
) -> None:
    good = {"id": IDS.stale, "folderId": FOLDER, "name": "orders-prod", "environment": 1}
    bad = {"id": "c9qbrokencluster0007", "folderId": FOLDER, "labels": {"team": 7}}
    sim.inject_fault(r"/clusters$", 200, body={"clusters": [good, bad]}, times=None)
    runner = DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="a")
    (result,) = await runner.run_all(now=NOW, dry_run=True)
    assert result.digest is not None
    assert [row.cluster.id for row in result.digest.rows] == [IDS.stale]
    (warning,) = result.errors
    assert warning.startswith(f"in folder {FOLDER}, cluster c9qbrokencluster0007 could not be")
    assert "c9qbrokencluster0007" in "\n".join(text_of(m) for m in result.messages)
