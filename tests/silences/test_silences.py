"""Silences end to end: the slash commands through the router as Slack renders their answers,
the sweep against the simulated cloud, delivery to the fake Slack, the store on SQLite and on
PostgreSQL. A silenced cluster's incident opens but pages nobody; its end is said once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.alerts.model import AlertStatus
from bot.alerts.sweep import Sweeper, alert_route_key
from bot.chat.actions import Invocation
from bot.cloud.client import CloudClient
from bot.commands.router import Reply
from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.posts import PostKind
from bot.slack.blocks import SLACK
from bot.store import Store
from tests.alerts.test_phone_budget import BUDGET, before_first_button
from tests.cards import texts_of
from tests.store.conftest import OpenStore
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
    top_level,
)

ALERT, UPDATE, REMINDER = PostKind.ALERT, PostKind.ALERT_UPDATE, PostKind.REMINDER
LEAD = Invocation("U0LEAD", ONCALL_CHANNEL)
OTHER = Invocation("U0OTHER", ONCALL_CHANNEL)


def sweeper(cloud: CloudClient, store: Store, config: BotConfig, owner: str = "a") -> Sweeper:
    return Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner=owner)


def said(reply: Reply) -> str:
    """Everything the reply shows, as Slack gets it (Block Kit, checked against its budgets)."""
    return "\n".join(t for card in reply.messages for t in texts_of(SLACK.render(card)))


def thread(slack: FakeSlack, name: str) -> list[dict[str, Any]]:
    return replies(slack.messages(ONCALL_CHANNEL), alert_of(slack, name)["ts"])


async def test_a_silenced_cluster_opens_its_incident_pages_nobody_and_says_its_end_once(
    cloud: CloudClient,
    store: Store,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    watch = make_features(cloud, store, config)
    sweep = sweeper(cloud, store, config)
    route = alert_route_key(config.alerts[0])

    # 08:55: the shop team's clusters are silenced for 6 h (orders-prod has team=shop).
    reply = await watch.router.run(
        "silence label:team=shop 6h planned maintenance", LEAD, now=NOW - timedelta(minutes=5)
    )
    assert reply.ok
    assert not reply.ephemeral
    [silence] = await store.silences.active(NOW)
    n = silence.id  # 1 on a new database (PostgreSQL's sequence is not reset between tests)
    shown = said(reply)
    assert f"Silence *#{n}* set: `label:team=shop` until" in shown
    assert "Reason: planned maintenance" in shown
    assert f"/backups unsilence {n}" in shown

    # 09:00: orders-prod is stale but silenced: its incident opens with no post; new-cluster
    # pages as ever, and on-call is mentioned once, for it.
    first = await sweep_and_deliver(sweep, executor, now=NOW)
    assert kinds(first.posts) == [(ALERT, IDS.never)]
    assert [m["text"] for m in top_level(fake_slack.messages(ONCALL_CHANNEL))] == [
        f"FIRING: new-cluster has no backup at all <!subteam^{ONCALL_GROUP}>"
    ]
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert (entry.status, entry.silence_id, entry.message_id) == (AlertStatus.FIRING, n, None)

    # `status` shows it silenced (a marker on its row), with the silence's id.
    status = said(await watch.router.run("status", LEAD, now=NOW + timedelta(minutes=1)))
    [row] = [line for line in status.split("\n") if "orders-prod" in line]
    assert "silenced until" in row
    assert f"(silence {n})" in row
    assert "silenced" not in "".join(line for line in status.split("\n") if "new-cluster" in line)

    # 13:00 (repeat 4h): a reminder for new-cluster only.
    reminded = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=4))
    assert kinds(reminded.posts) == [(UPDATE, IDS.never), (REMINDER, IDS.never)]

    # 15:00: the silence ran out (14:55) with orders-prod still stale: the alert it never had is
    # posted now, mentioning on-call, and its thread says the silence is over; once.
    fake_slack.calls.clear()
    over = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=6))
    assert kinds(over.posts) == [(ALERT, IDS.stale), (REMINDER, IDS.stale)]
    orders = alert_of(fake_slack, "orders-prod")
    assert mentions([orders]) == 1
    [notice] = thread(fake_slack, "orders-prod")
    assert notice["text"].startswith(f":bell: Silence {n} is over and this alert is still open.")
    again = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=6, minutes=15))
    assert again.posts == ()
    assert len(thread(fake_slack, "orders-prod")) == 1


async def test_silencing_an_open_alert_stops_its_reminders_and_unsilence_resumes_them_once(
    cloud: CloudClient,
    store: Store,
    open_store: OpenStore,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    watch = make_features(cloud, store, config)
    sweep = sweeper(cloud, store, config)
    await sweep_and_deliver(sweep, executor, now=NOW)
    assert mentions(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 1

    # 09:05: orders-prod, by its name, for a day. The next sweep updates its alert: silenced,
    # no mention, no reminder.
    reply = await watch.router.run("silence orders-prod 1d", LEAD, now=NOW + timedelta(minutes=5))
    assert "It holds 1 watched cluster now" in said(reply)
    [silence] = await store.silences.active(NOW + timedelta(minutes=5))
    n = silence.id
    quiet = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))
    assert kinds(quiet.posts) == [(UPDATE, IDS.stale)]
    orders = alert_of(fake_slack, "orders-prod")
    assert "silenced until" in str(orders["blocks"])
    assert f"(silence {n})" in str(orders["blocks"])
    assert mentions([orders]) == 0
    assert len(before_first_button(orders)) <= BUDGET
    reminded = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=4))
    assert (REMINDER, IDS.stale) not in kinds(reminded.posts)

    # Another replica (its own engine on the same database) sees the silence, and lists it.
    twin = await open_store()
    assert [s.id for s in await twin.silences.active(NOW + timedelta(hours=4))] == [n]
    listed = said(await watch.router.run("silences", OTHER, now=NOW + timedelta(hours=4)))
    assert "1 silence holds now" in listed
    assert f"*#{n}* `orders-prod` by <@U0LEAD> until" in listed

    # 13:30: lifted early. The next sweep (on the twin) says so once in the alert's thread,
    # and the alert pages again.
    lifted = await watch.router.run(
        f"unsilence {n}", OTHER, now=NOW + timedelta(hours=4, minutes=30)
    )
    assert f"Silence *#{n}* (`orders-prod`) ended" in said(lifted)
    twin_sweep = sweeper(cloud, twin, config, owner="b")
    resumed = await sweep_and_deliver(
        twin_sweep, executor, now=NOW + timedelta(hours=4, minutes=45)
    )
    assert kinds(resumed.posts) == [(UPDATE, IDS.stale), (REMINDER, IDS.stale)]
    notices = [m for m in thread(fake_slack, "orders-prod") if f"Silence {n} is over" in m["text"]]
    assert len(notices) == 1
    assert mentions(notices) == 1
    assert "silenced" not in str(alert_of(fake_slack, "orders-prod")["blocks"])
    later = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=5))
    assert (REMINDER, IDS.stale) not in kinds(later.posts)

    # Lifting it again, or one that never was, says so.
    twice = await watch.router.run(f"unsilence {n}", LEAD, now=NOW + timedelta(hours=5))
    assert not twice.ok
    assert f"Silence {n} is over already" in said(twice)
    unknown = await watch.router.run(f"unsilence #{n + 41}", LEAD, now=NOW + timedelta(hours=5))
    assert not unknown.ok
    assert f"There is no silence {n + 41}" in said(unknown)
    none = said(await watch.router.run("silences", LEAD, now=NOW + timedelta(hours=5)))
    assert "No silence holds now" in none


async def test_a_whole_folder_silenced_pages_nobody_and_a_match_that_cannot_be_read_is_refused(
    cloud: CloudClient,
    store: Store,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    watch = make_features(cloud, store, config)
    reply = await watch.router.run(f"silence folder:{FOLDER} 2h", LEAD, now=NOW)
    assert reply.ok
    result = await sweep_and_deliver(sweeper(cloud, store, config), executor, now=NOW)
    assert result.posts == ()
    assert fake_slack.messages(ONCALL_CHANNEL) == []
    opened = await store.incidents.list_alerts(open_only=True)
    assert sorted(e.cluster_id for e in opened) == sorted([IDS.stale, IDS.never])

    bad = await watch.router.run("silence environment:SOMEWHERE 2h", LEAD, now=NOW)
    assert not bad.ok
    assert "is not a match I can read" in said(bad)
    nothing = await watch.router.run("silence label:team=nobody 2h", LEAD, now=NOW)
    assert "No watched cluster matches it now" in said(nothing)


async def test_access_rules_apply_to_the_silence_commands(cloud: CloudClient, store: Store) -> None:
    config = make_config(
        access={"rules": [{"commands": ["silence", "unsilence"], "users": ["U0LEAD"]}]}
    )
    watch = make_features(cloud, store, config)
    denied = await watch.router.run("silence orders-prod 1h", OTHER, now=NOW)
    assert not denied.ok
    assert "<@U0LEAD>" in said(denied)
    assert await store.silences.active(NOW) == []
    allowed = await watch.router.run("silence orders-prod 1h", LEAD, now=NOW)
    assert allowed.ok
    [silence] = await store.silences.active(NOW)
    assert not (await watch.router.run(f"unsilence {silence.id}", OTHER, now=NOW)).ok
    # Listing is not limited by a rule on silencing.
    assert (await watch.router.run("silences", OTHER, now=NOW)).ok
    assert (await watch.router.run(f"unsilence {silence.id}", LEAD, now=NOW)).ok


async def test_silences_over_long_ago_are_pruned_and_those_that_hold_are_kept(
    store: Store,
) -> None:
    over = await store.silences.add(
        "folder:b1gold", by="U0A", now=NOW - timedelta(days=40), ends_at=NOW - timedelta(days=39)
    )
    lifted = await store.silences.add(
        "logs-prod", by="U0A", now=NOW - timedelta(days=40), ends_at=NOW + timedelta(days=1)
    )
    assert await store.silences.lift(lifted.id, by="U0B", now=NOW - timedelta(days=35))
    holding = await store.silences.add(
        "label:team=shop", by="U0A", now=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=2)
    )
    assert await store.prune(before=NOW - timedelta(days=30)) >= 2
    assert await store.silences.get(over.id) is None
    assert await store.silences.get(lifted.id) is None
    assert [s.id for s in await store.silences.active(NOW)] == [holding.id]
