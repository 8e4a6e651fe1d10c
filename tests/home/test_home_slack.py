"""The Home tab through Slack: app_home_opened over the signed Events API, views.publish to the
fake Slack, and clicks from the tab answered on the tab (never an error for want of a channel)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot import clock
from bot.alerts.actions import ACKNOWLEDGE, LIST_BACKUPS, SNOOZE_4H, AlertRef
from bot.alerts.model import AlertEntry, AlertStatus, Seen
from bot.alerts.sweep import alert_route_key
from bot.chat.actions import Answer, BoundAction, Invocation
from bot.commands.messages import render_ack
from bot.commands.router import CommandRoute
from bot.config import Access, AccessRule, AlertRoute, BotConfig, Match, Watch
from bot.demo.fake_slack import (
    FakeSlack,
    home_action_form,
    home_action_payload,
    home_opened_event,
    signed_headers,
)
from bot.demo.simcloud.server import SimCloud
from bot.freshness.model import FreshnessState, MaxAge, MaxAgeSource
from bot.home.service import HomeService
from bot.outbox.change import Change
from bot.store import Store
from bot.store.facts import MARKER_LAST_SWEEP
from tests.slack.harness import FOLDER, LOGS, SIGNING_SECRET, RunningBot, running_bot
from tests.waiting import wait_until

ONCALLER = "U0HOMEONCALL"
OTHER = "U0SOMEONEELSE"
MINE = AlertRoute(channel="C0ONCALL", mention=[ONCALLER], match=Match(environment="PRODUCTION"))
THEIRS = AlertRoute(channel="C0OTHER", mention=["S0GROUP"])
CONFIG = BotConfig(watch=Watch(folders=[FOLDER]), alerts=[MINE, THEIRS])
MAX_AGE = MaxAge(timedelta(hours=26), MaxAgeSource.DEFAULT)


def incident(cluster_id: str, name: str, route: AlertRoute, **kw: Any) -> AlertEntry:
    now = clock.now()
    values: dict[str, Any] = {
        "cluster_id": cluster_id,
        "route_key": alert_route_key(route),
        "status": AlertStatus.FIRING,
        "channel": route.channel,
        "opened_at": now - timedelta(hours=1),
        "stale_since": now - timedelta(hours=2),
        "last_state": FreshnessState.STALE,
        "cluster_name": name,
        "folder_id": FOLDER,
        "seen": Seen(MAX_AGE),
    }
    values.update(kw)
    return AlertEntry(**values)


class Acknowledging:
    """Stands in for the alerts feature (tested in tests/alerts): the same declared buttons,
    recording what reaches it from the tab."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def commands(self) -> Iterator[CommandRoute[Any]]:
        return iter(())

    def actions(self) -> Iterator[BoundAction]:
        async def acknowledge(ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
            self.calls.append((ref.cluster_id, inv.user_id, inv.channel_id))
            return Answer([render_ack(f"Acknowledged the alert for `{ref.cluster_id}`.")])

        async def snooze(ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
            raise RuntimeError("a bug behind a button")

        yield ACKNOWLEDGE.bind(acknowledge)
        yield SNOOZE_4H.bind(snooze)


async def seeded(store: Store) -> None:
    await store.commit(
        Change(
            alerts=[
                incident("c9qmine0000000000001", "search-prod", MINE),
                incident(
                    "c9qmine0000000000002",
                    "logs-prod",
                    MINE,
                    status=AlertStatus.SNOOZED,
                    snoozed_by=ONCALLER,
                    snoozed_until=clock.now() + timedelta(hours=4),
                ),
                incident("c9qtheirs00000000001", "billing-prod", THEIRS),
            ],
            markers={MARKER_LAST_SWEEP: clock.now() - timedelta(minutes=3)},
        )
    )


async def open_home(bot: RunningBot, user_id: str, *, tab: str = "home") -> int:
    body = json.dumps(home_opened_event(user_id, tab=tab))
    headers = signed_headers(SIGNING_SECRET, body) | {"Content-Type": "application/json"}
    answer = await bot.post(body, headers)
    return answer.status


async def click_home(bot: RunningBot, action_id: str, value: str, user_id: str) -> int:
    body = home_action_form(action_id, value, user_id=user_id)
    answer = await bot.post(body, signed_headers(SIGNING_SECRET, body))
    return answer.status


def texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def button_value(view: dict[str, Any], action_id: str, cluster_id: str) -> str:
    for block in view["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id and cluster_id in element.get("value", ""):
                return str(element["value"])
    raise AssertionError(f"no {action_id} button for {cluster_id}")


async def test_opening_the_tab_publishes_the_incidents_of_the_routes_that_mention_me(
    fake_slack: FakeSlack, sim: SimCloud, home_store: Store
) -> None:
    await seeded(home_store)
    home = HomeService(home_store, CONFIG)
    async with running_bot(fake_slack, sim.url, config=CONFIG, home=home) as bot:
        assert await open_home(bot, ONCALLER) == 200
        await wait_until(lambda: fake_slack.home(ONCALLER) is not None, what="the tab")
    view = fake_slack.home(ONCALLER)
    assert view is not None
    said = texts(view)
    assert "search-prod" in said
    assert "billing-prod" not in said  # a route that mentions only a user group
    assert "logs-prod" in said  # my snooze
    assert "last sweep" in said
    assert not sim.requests  # rendered from the store: the cloud was not read
    value = button_value(view, ACKNOWLEDGE.id, "c9qmine0000000000001")
    assert json.loads(value)["r"] == alert_route_key(MINE)


async def test_a_person_no_route_names_sees_every_route_and_why(
    fake_slack: FakeSlack, sim: SimCloud, home_store: Store
) -> None:
    await seeded(home_store)
    async with running_bot(
        fake_slack, sim.url, config=CONFIG, home=HomeService(home_store, CONFIG)
    ) as bot:
        await open_home(bot, OTHER)
        await wait_until(lambda: fake_slack.home(OTHER) is not None, what="the tab")
    said = texts(fake_slack.home(OTHER) or {})
    assert "billing-prod" in said
    assert "no alert route mentions you" in said


async def test_the_messages_tab_publishes_nothing(
    fake_slack: FakeSlack, sim: SimCloud, home_store: Store
) -> None:
    async with running_bot(
        fake_slack, sim.url, config=CONFIG, home=HomeService(home_store, CONFIG)
    ) as bot:
        assert await open_home(bot, ONCALLER, tab="messages") == 200
        assert await bot.in_flight.drain(10)
    assert not fake_slack.calls_to("views.publish")


async def test_a_click_on_the_tab_is_answered_on_the_tab_by_the_alerts_handler(
    fake_slack: FakeSlack, sim: SimCloud, home_store: Store
) -> None:
    await seeded(home_store)
    feature = Acknowledging()
    home = HomeService(home_store, CONFIG)
    async with running_bot(
        fake_slack, sim.url, config=CONFIG, features=[feature], home=home
    ) as bot:
        await open_home(bot, ONCALLER)
        await wait_until(lambda: fake_slack.home(ONCALLER) is not None, what="the tab")
        view = fake_slack.home(ONCALLER)
        assert view is not None
        value = button_value(view, ACKNOWLEDGE.id, "c9qmine0000000000001")
        assert await click_home(bot, ACKNOWLEDGE.id, value, ONCALLER) == 200
        await wait_until(
            lambda: len(fake_slack.calls_to("views.publish")) == 2, what="the tab again"
        )
        assert await bot.in_flight.drain(10)
    assert feature.calls == [("c9qmine0000000000001", ONCALLER, "")]
    again = fake_slack.home(ONCALLER)
    assert again is not None
    assert "Acknowledged the alert for" in again["blocks"][1]["text"]["text"]
    # Nothing went to a channel, an ephemeral message or a response URL.
    assert not fake_slack.calls_to("chat.postEphemeral")
    assert not fake_slack.calls_to("chat.postMessage")


async def test_a_failing_click_on_the_tab_says_so_on_the_tab(
    fake_slack: FakeSlack, sim: SimCloud, home_store: Store
) -> None:
    await seeded(home_store)
    async with running_bot(
        fake_slack,
        sim.url,
        config=CONFIG,
        features=[Acknowledging()],
        home=HomeService(home_store, CONFIG),
    ) as bot:
        value = json.dumps({"c": "c9qmine0000000000001", "r": alert_route_key(MINE)})
        await click_home(bot, SNOOZE_4H.id, value, ONCALLER)
        await wait_until(lambda: fake_slack.home(ONCALLER) is not None, what="the tab")
    view = fake_slack.home(ONCALLER)
    assert view is not None
    assert "error id" in view["blocks"][1]["text"]["text"]


async def test_without_the_tab_a_click_from_a_view_is_answered_in_the_apps_dm(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url, config=CONFIG, features=[Acknowledging()]) as bot:
        value = json.dumps({"c": "c9qmine0000000000001", "r": alert_route_key(MINE)})
        await click_home(bot, ACKNOWLEDGE.id, value, ONCALLER)
        await wait_until(lambda: fake_slack.calls_to("chat.postMessage"), what="the DM")
    posted = fake_slack.calls_to("chat.postMessage")[0].args
    assert posted["channel"] == ONCALLER
    assert "Acknowledged the alert for" in posted["text"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"view": {"type": "home", "blocks": [{"type": "divider"}]}}, "user_id"),
        ({"user_id": "U1", "view": {"type": "modal", "blocks": []}}, "/view/type"),
        ({"user_id": "U1", "view": "{not json"}, "/view"),
        ({"user_id": "U1", "view": {"type": "home", "blocks": [{"type": "divider"}] * 101}}, "100"),
        (
            {
                "user_id": "U1",
                "view": {
                    "type": "home",
                    "blocks": [{"type": "divider", "block_id": "x"}] * 2,
                },
            },
            "duplicate block_id",
        ),
    ],
)
async def test_the_fake_refuses_a_view_slack_refuses(
    fake_slack: FakeSlack, args: dict[str, Any], error: str
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake_slack.api_url + "views.publish",
            json=args,
            headers={"Authorization": f"Bearer {fake_slack.bot_token}"},
        ) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is False
    assert body["error"] == "invalid_arguments"
    assert error in json.dumps(body["response_metadata"]["messages"])
    assert fake_slack.home("U1") is None


async def test_the_fake_keeps_a_published_tab_per_person(fake_slack: FakeSlack) -> None:
    view = {"type": "home", "blocks": [{"type": "divider"}] * 100}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake_slack.api_url + "views.publish",
            json={"user_id": "U1", "view": view},
            headers={"Authorization": f"Bearer {fake_slack.bot_token}"},
        ) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    assert body["view"]["id"].startswith("V")
    shown = fake_slack.home("U1")
    assert shown is not None
    assert len(shown["blocks"]) == 100


async def test_over_socket_mode_the_tab_opens_and_a_click_on_it_is_answered_on_it(
    fake_slack: FakeSlack, sim: SimCloud, home_store: Store
) -> None:
    await seeded(home_store)
    feature = Acknowledging()
    async with running_bot(
        fake_slack,
        sim.url,
        config=CONFIG,
        features=[feature],
        home=HomeService(home_store, CONFIG),
        socket_mode=True,
    ) as bot:
        await fake_slack.send_envelope("events_api", home_opened_event(ONCALLER))
        await wait_until(lambda: fake_slack.home(ONCALLER) is not None, what="the tab")
        view = fake_slack.home(ONCALLER)
        assert view is not None
        value = button_value(view, ACKNOWLEDGE.id, "c9qmine0000000000001")
        await fake_slack.send_envelope(
            "interactive", home_action_payload(ACKNOWLEDGE.id, value, user_id=ONCALLER)
        )
        await wait_until(
            lambda: len(fake_slack.calls_to("views.publish")) == 2, what="the tab again"
        )
        assert await bot.in_flight.drain(10)
    assert feature.calls == [("c9qmine0000000000001", ONCALLER, "")]


async def test_the_tab_and_the_answer_on_it_are_in_the_persons_language(
    sim: SimCloud, home_store: Store
) -> None:
    await seeded(home_store)
    async with FakeSlack(locales={ONCALLER: "ru-RU"}) as fake:
        async with running_bot(
            fake,
            sim.url,
            config=CONFIG,
            features=[Acknowledging()],
            home=HomeService(home_store, CONFIG),
        ) as bot:
            await open_home(bot, ONCALLER)
            await wait_until(lambda: fake.home(ONCALLER) is not None, what="the tab")
        view = fake.home(ONCALLER)
    assert view is not None
    said = texts(view)
    assert "Бэкапы: ваше дежурство" in said
    assert "Подтвердить" in said  # the alert's Acknowledge, as the alert says it in Russian


async def test_a_click_on_the_tab_that_access_rules_refuse_is_refused_on_the_tab(
    fake_slack: FakeSlack, sim: SimCloud, home_store: Store
) -> None:
    await seeded(home_store)
    only_in_oncall = CONFIG.model_copy(
        update={
            "access": Access(
                rules=[AccessRule(commands=["snooze"], users=[ONCALLER], channels=["C0ONCALL"])]
            )
        }
    )
    feature = Acknowledging()
    async with running_bot(
        fake_slack,
        sim.url,
        config=only_in_oncall,
        features=[feature],
        home=HomeService(home_store, only_in_oncall),
    ) as bot:
        value = json.dumps({"c": "c9qmine0000000000001", "r": alert_route_key(MINE)})
        await click_home(bot, ACKNOWLEDGE.id, value, ONCALLER)
        await wait_until(lambda: fake_slack.home(ONCALLER) is not None, what="the tab")
    assert not feature.calls
    view = fake_slack.home(ONCALLER)
    assert view is not None
    assert "C0ONCALL" in view["blocks"][1]["text"]["text"]


async def test_a_list_asked_from_the_tab_goes_to_the_apps_dm_and_the_tab_says_so(
    fake_slack: FakeSlack, sim: SimCloud, home_store: Store
) -> None:
    await seeded(home_store)
    async with running_bot(
        fake_slack,
        sim.url,
        config=CONFIG,
        features=[Acknowledging()],
        home=HomeService(home_store, CONFIG),
    ) as bot:
        # The real list (the queries feature), of a cluster the simulated cloud has.
        value = json.dumps({"c": LOGS, "r": alert_route_key(MINE)})
        await click_home(bot, LIST_BACKUPS.id, value, ONCALLER)
        await wait_until(lambda: fake_slack.home(ONCALLER) is not None, what="the tab")
    [posted] = [c.args for c in fake_slack.calls_to("chat.postMessage")]
    assert posted["channel"] == ONCALLER
    assert posted["blocks"][-1]["elements"][0]["action_id"] == "list_next_page"
    view = fake_slack.home(ONCALLER)
    assert view is not None
    notice = view["blocks"][1]["text"]["text"]
    assert "logs-prod" in notice
    assert "Messages tab" in notice
