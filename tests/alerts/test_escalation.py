"""Escalation and the runbook link, end to end: a route's ``escalate_after``/``escalate_to``
and ``runbook_url`` against the simulated cloud, delivered to the fake Slack."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from bot.alerts.actions import RUNBOOK, AlertRef
from bot.alerts.messages import runbook_link
from bot.alerts.sweep import Sweeper, alert_route_key
from bot.chat.actions import Invocation
from bot.cloud.client import CloudClient
from bot.cloud.models import Cluster
from bot.config import AlertRoute, BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.posts import PostKind
from bot.slack.blocks import SLACK
from bot.store import Store
from tests.alerts.test_phone_budget import BUDGET, before_first_button
from tests.world import (
    CONSOLE_URL,
    FOLDER,
    IDS,
    NOW,
    ONCALL_CHANNEL,
    ONCALL_GROUP,
    alert_of,
    kinds,
    make_config,
    make_features,
    mentions,
    replies,
    sweep_and_deliver,
)

LEADS = "S0LEADS"
RUNBOOK_URL = "https://wiki.example/runbooks/{cluster}?folder={folder}&id={cluster_id}"
ALERT, UPDATE, REMINDER = PostKind.ALERT, PostKind.ALERT_UPDATE, PostKind.REMINDER


@pytest.fixture
def config() -> BotConfig:
    return make_config(
        alerts=[
            {
                "channel": ONCALL_CHANNEL,
                "mention": [ONCALL_GROUP],
                "repeat": "4h",
                "match": {"environment": "PRODUCTION"},
                "escalate_after": "30m",
                "escalate_to": [LEADS],
                "runbook_url": RUNBOOK_URL,
            }
        ]
    )


def thread(slack: FakeSlack, name: str) -> list[dict[str, Any]]:
    return replies(slack.messages(ONCALL_CHANNEL), alert_of(slack, name)["ts"])


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_an_unanswered_alert_escalates_once_and_its_reminders_then_mention_both(
    cloud: CloudClient,
    store: Store,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="a")
    watch = make_features(cloud, store, config)
    route = alert_route_key(config.alerts[0])
    await sweep_and_deliver(sweep, executor, now=NOW)
    assert mentions(fake_slack.messages(ONCALL_CHANNEL), LEADS) == 0

    # 09:10: orders-prod is acknowledged; new-cluster is not answered.
    await watch.alerts.acknowledge(IDS.stale, route, user="U0ANN", now=NOW + timedelta(minutes=10))
    early = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))
    assert REMINDER not in [kind for kind, _ in kinds(early.posts)]

    # 09:30: new-cluster escalates: once, in its thread, to the leads; the alert says so.
    up = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=30))
    assert kinds(up.posts) == [(UPDATE, IDS.never), (REMINDER, IDS.never)]
    [escalation] = thread(fake_slack, "new-cluster")
    assert escalation["text"].startswith(
        ":arrow_double_up: Escalated: nobody acknowledged or snoozed this alert within 30m."
    )
    assert mentions([escalation], LEADS) == 1
    assert mentions([escalation], ONCALL_GROUP) == 0
    escalated = alert_of(fake_slack, "new-cluster")
    assert ":arrow_double_up: escalated" in str(escalated["blocks"])
    assert len(before_first_button(escalated)) <= BUDGET  # the marker keeps it phone-sized
    assert mentions(thread(fake_slack, "orders-prod"), LEADS) == 0

    # Not again.
    calm = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=45))
    assert calm.posts == ()

    # 13:30 (repeat 4h after the escalation): the reminder mentions on-call and the leads.
    later = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=4, minutes=30))
    assert (REMINDER, IDS.never) in kinds(later.posts)
    reminder = thread(fake_slack, "new-cluster")[-1]
    assert mentions([reminder], LEADS) == 1
    assert mentions([reminder], ONCALL_GROUP) == 1
    entry = await store.incidents.get_alert(IDS.never, route)
    assert entry is not None
    assert entry.escalated_at == NOW + timedelta(minutes=30)


async def test_a_storm_that_nobody_answers_escalates_in_its_thread(
    cloud: CloudClient,
    store: Store,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    config = make_config(
        alerts=[
            {
                "channel": ONCALL_CHANNEL,
                "mention": [ONCALL_GROUP],
                "match": {"environment": "PRODUCTION"},
                "group_after": 1,
                "escalate_after": "30m",
                "escalate_to": [LEADS],
            }
        ]
    )
    sweep = Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="a")
    first = await sweep_and_deliver(sweep, executor, now=NOW)
    assert [kind for kind, _ in kinds(first.posts)] == [PostKind.GROUP_ALERT]
    [storm] = [m for m in fake_slack.messages(ONCALL_CHANNEL) if not m.get("thread_ts")]
    up = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=30))
    assert PostKind.REMINDER in [kind for kind, _ in kinds(up.posts)]
    thread_of_storm = replies(fake_slack.messages(ONCALL_CHANNEL), storm["ts"])
    assert mentions(thread_of_storm, LEADS) == 1
    [storm] = [m for m in fake_slack.messages(ONCALL_CHANNEL) if not m.get("thread_ts")]
    assert ":arrow_double_up: escalated" in str(storm["blocks"])
    calm = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=45))
    assert calm.posts == ()


async def test_an_alert_links_its_routes_runbook_and_the_click_is_answered(
    cloud: CloudClient,
    store: Store,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="a")
    await sweep_and_deliver(sweep, executor, now=NOW)
    [link] = [b for b in buttons(alert_of(fake_slack, "orders-prod")) if "url" in b]
    assert link["action_id"] == RUNBOOK.id
    assert link["text"]["text"] == "Runbook"
    assert link["url"] == (
        f"https://wiki.example/runbooks/orders-prod?folder={FOLDER}&id={IDS.stale}"
    )
    watch = make_features(cloud, store, config)
    clicked = await watch.router.run_action(
        RUNBOOK.id, link["value"], Invocation("U0ANN", ONCALL_CHANNEL), now=NOW
    )
    assert clicked.ok
    assert clicked.messages == []
    value = RUNBOOK.value(AlertRef(IDS.stale, alert_route_key(config.alerts[0])))
    assert value == link["value"]

    # `status <cluster>` offers the open alert's buttons, the runbook's link among them.
    status = await watch.router.run("status orders-prod", Invocation("U0ANN", "C0X"), now=NOW)
    shown = [SLACK.render(card) for card in status.messages]
    assert link["url"] in str(shown)


def test_the_runbook_link_encodes_each_value() -> None:
    route = AlertRoute(channel="C1", runbook_url="https://w.example/{cluster}/{folder}")
    cluster = Cluster(id="c9q1", name="a b/c&d", folder_id="b1g?x")
    assert runbook_link(route, cluster) == "https://w.example/a%20b%2Fc%26d/b1g%3Fx"
    assert runbook_link(AlertRoute(channel="C1"), cluster) is None


@pytest.mark.parametrize(
    ("route", "says"),
    [
        ({"escalate_after": "30m"}, "go together"),
        ({"escalate_to": [LEADS]}, "go together"),
        ({"escalate_after": "30m", "escalate_to": ["oncall"]}, "is not a user group id"),
        ({"runbook_url": "wiki/{cluster}"}, "is not an http(s) URL"),
        ({"runbook_url": "https://w/{name}"}, "may use {cluster}, {cluster_id} and {folder}"),
    ],
)
def test_a_route_with_a_broken_escalation_or_runbook_is_refused(
    route: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        make_config(alerts=[{"channel": ONCALL_CHANNEL, **route}])
