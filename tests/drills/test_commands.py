"""``/backups drill <cluster>`` and ``/backups drills [<cluster>]`` through the router, as Slack,
``exec`` and the demo reach them: a drill is asked with its cost and a confirm, allowed only to
people an access rule names, runs when confirmed, and is listed with its result."""

from __future__ import annotations

import json
from typing import Any

from bot import clock
from bot.app.wiring import build_features
from bot.chat.actions import Invocation
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.simcloud import SimCloud
from bot.slack.blocks import SLACK
from bot.store import Store
from tests.drills.conftest import drill_config
from tests.world import IDS, TEAM_CHANNEL

LEAD = Invocation(user_id="U0LEAD", channel_id="C0ASK")
SOMEONE = Invocation(user_id="U0SOMEONE", channel_id="C0ASK")
RULES = {"rules": [{"commands": ["drill"], "users": ["U0LEAD"]}]}


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in payload.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


async def test_a_drill_is_asked_with_its_cost_confirmed_run_and_listed(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    features = build_features(
        drill_cloud,
        drill_config_with_access(),
        store=store,
        owner="replica-a",
        chat=SLACK,
        drill_poll_interval=0.02,
    )
    assert features.drills is not None
    router = features.router
    asked = await router.run("drill logs-prod", LEAD, now=clock.now())
    assert asked.ok
    (card,) = asked.messages
    payload = SLACK.render(card)
    assert "host-hours" in payload["text"]
    assert f"<#{TEAM_CHANNEL}>" in payload["text"]
    start, cancel = buttons(payload)
    assert (start["action_id"], cancel["action_id"]) == ("drill_confirm", "drill_cancel")
    assert "confirm" in start  # asked once more, with the cost
    assert "host-hours" in start["confirm"]["text"]["text"]
    assert drill_sim.restored == []  # asking creates nothing

    clicked = await router.run_action("drill_confirm", start["value"], LEAD, now=clock.now())
    assert clicked.ok
    assert "started" in SLACK.render(clicked.messages[0])["text"]
    await features.drills.wait()
    assert len(drill_sim.restored) == 1
    assert drill_sim.labelled() == []

    listed = await router.run("drills logs-prod", SOMEONE, now=clock.now())
    assert listed.ok
    assert "passed, restored in" in json.dumps(SLACK.render(listed.messages[0]))
    await features.drills.aclose()


async def test_a_drill_is_refused_to_people_no_rule_names(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    features = build_features(drill_cloud, drill_config_with_access(), store=store, chat=SLACK)
    refused = await features.router.run("drill logs-prod", SOMEONE, now=clock.now())
    assert not refused.ok
    clicked = await features.router.run_action("drill_confirm", IDS.fresh, SOMEONE, now=clock.now())
    assert not clicked.ok
    assert drill_sim.restored == []


async def test_without_any_rule_for_it_nobody_may_start_a_drill(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    features = build_features(drill_cloud, drill_config(), store=store, chat=SLACK)
    refused = await features.router.run("drill logs-prod", LEAD, now=clock.now())
    assert not refused.ok
    cancelled = await features.router.run_action("drill_cancel", IDS.fresh, LEAD, now=clock.now())
    assert not cancelled.ok  # the cancel is behind the same rule
    assert drill_sim.restored == []


def drill_config_with_access() -> BotConfig:
    config = drill_config(schedule="0 3 1 1 *")
    return config.model_copy(update={"access": config.access.model_validate(RULES)})
