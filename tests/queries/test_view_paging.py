"""``/backups status`` and ``clusters`` over a big fleet: one message per answer, within Slack's
budget, and a Next page button that works from its value alone (after a restart too).

The simulated cloud serves 120 clusters on loopback; the dispatcher and the watcher are the
real ones; each click goes to a new dispatcher and service, as after a restart.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.chat.actions import Invocation
from bot.cloud.client import CloudClient
from bot.commands.router import Reply
from bot.config import BotConfig
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.fleet import generate_fleet
from bot.demo.simcloud.server import SimCloud
from bot.digest.actions import STATUS_NEXT_PAGE
from bot.queries.actions import CLUSTERS_NEXT_PAGE
from bot.slack.budget import violations
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.slack.payload import Payload as Message
from tests.slack.payload import slack
from tests.world import NOW, make_cloud, make_config, make_features

ASKER = Invocation(user_id="U0ASKER", channel_id="C0ASKED")


@pytest.fixture
async def fleet_sim() -> AsyncIterator[SimCloud]:
    """120 clusters with 2 backups each, in two folders."""
    config = SimConfig(folders=2, clusters_per_folder=60, backups_per_cluster=2, seed=11)
    sim = SimCloud(config, generate_fleet(config, NOW))
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def fleet_cloud(fleet_sim: SimCloud) -> AsyncIterator[CloudClient]:
    client = make_cloud(fleet_sim)
    yield client
    await client.aclose()


def fleet_config(sim: SimCloud, **overrides: Any) -> BotConfig:
    return make_config(watch={"folders": sim.fleet.folder_ids()}, alerts=[], **overrides)


async def ask(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    config: BotConfig,
    *,
    text: str | None = None,
    click: tuple[str, str] | None = None,
    who: Invocation = ASKER,
) -> Reply:
    """One command or click, through a dispatcher and watcher made for it alone."""
    service = make_features(cloud, store, config)
    try:
        dispatcher = service.router
        if text is not None:
            return await dispatcher.run(text, who, now=NOW)
        assert click is not None
        return await dispatcher.run_action(*click, who, now=NOW)
    finally:
        await service.backups.aclose()


def one_message(reply: Reply) -> Message:
    assert reply.ok, reply.messages[0].text
    [card] = reply.messages  # never more than one post per answer
    message = slack(card)
    assert violations(message.payload()) == []
    return message


def next_button(message: Message) -> dict[str, Any] | None:
    buttons = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) <= 1
    return buttons[0] if buttons else None


def cluster_ids(message: Message) -> list[str]:
    """Ids of the clusters a page shows, in its order."""
    text = json.dumps(message.blocks)
    linked = re.findall(r"/cluster/([a-z0-9]+)/backups", text)
    return linked or re.findall(r"`(c9q[a-z0-9]+)`", text)


@pytest.mark.parametrize(
    ("command", "action"),
    [("status", STATUS_NEXT_PAGE.id), ("clusters", CLUSTERS_NEXT_PAGE.id)],
)
async def test_every_cluster_is_on_exactly_one_page_and_each_page_is_one_message(
    fleet_sim: SimCloud,
    fleet_cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    command: str,
    action: str,
) -> None:
    config = fleet_config(fleet_sim)
    page = one_message(await ask(fleet_cloud, store, notifier, config, text=command))
    pages = [page]
    while (button := next_button(page)) is not None:
        assert button["action_id"] == action
        page = one_message(
            await ask(fleet_cloud, store, notifier, config, click=(action, button["value"]))
        )
        pages.append(page)
        assert len(pages) < 30
    shown = [cid for p in pages for cid in cluster_ids(p)]
    assert len(pages) > 1
    assert sorted(shown) == sorted(fleet_sim.fleet.clusters)  # each exactly once
    assert "120 clusters" in json.dumps(pages[0].blocks)


async def test_a_next_page_value_names_the_target_and_the_next_row(
    fleet_sim: SimCloud, fleet_cloud: CloudClient, store: Store, notifier: SlackNotifier
) -> None:
    config = fleet_config(fleet_sim)
    folder = fleet_sim.fleet.folder_ids()[0]
    first = one_message(await ask(fleet_cloud, store, notifier, config, text=f"status {folder}"))
    button = next_button(first)
    assert button is not None
    assert json.loads(button["value"]) == {"t": folder, "o": len(cluster_ids(first))}
    second = one_message(
        await ask(
            fleet_cloud, store, notifier, config, click=(STATUS_NEXT_PAGE.id, button["value"])
        )
    )
    assert set(cluster_ids(second)).isdisjoint(cluster_ids(first))
    in_folder = {c.id for c in fleet_sim.fleet.clusters.values() if c.folder_id == folder}
    assert set(cluster_ids(second)) <= in_folder


@pytest.mark.parametrize(
    "value",
    ['{"t":null,"o":0}', '{"t":null,"o":-3}', '{"t":"<!channel>","o":5}', '{"o":true}', "[]"],
)
async def test_a_forged_page_value_is_refused_in_one_line(
    fleet_sim: SimCloud,
    fleet_cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    value: str,
) -> None:
    reply = await ask(
        fleet_cloud,
        store,
        notifier,
        fleet_config(fleet_sim),
        click=(STATUS_NEXT_PAGE.id, value),
    )
    assert not reply.ok
    assert reply.usage_error
    assert "not one the bot made" in reply.messages[0].text


async def test_the_next_page_of_clusters_obeys_the_access_rules_of_clusters(
    fleet_sim: SimCloud, fleet_cloud: CloudClient, store: Store, notifier: SlackNotifier
) -> None:
    config = fleet_config(
        fleet_sim, access={"rules": [{"commands": ["clusters"], "users": ["U0LEAD"]}]}
    )
    reply = await ask(
        fleet_cloud,
        store,
        notifier,
        config,
        click=(CLUSTERS_NEXT_PAGE.id, '{"t":null,"o":40}'),
    )
    assert not reply.ok
    assert "may run `clusters`" in reply.messages[0].text
