"""The staleness sweep end to end: a simulated cloud, a fake Slack, the store on SQLite and on
PostgreSQL, and time walked explicitly through an incident's life.

The sweep posts nothing itself: it commits each incident with the posts it calls for, and the
delivery executor takes them to Slack. Each test sweeps, delivers, and looks at the fake Slack.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bot import clock
from bot.alerts.model import AlertEntry, AlertStatus, BotIncidentStatus
from bot.alerts.self_policy import BLIND
from bot.alerts.sweep import Sweeper, alert_route_key, slot_key
from bot.app.cli import main
from bot.app.wiring import Features
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.server import SimCloud
from bot.ops.metrics import Metrics
from bot.outbox.change import OutboxState
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.posts import PostKind
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from bot.store.claims import SKIPPED_CLAIM
from bot.store.tables import run_claims
from tests.store.conftest import OpenStore, save_alert
from tests.waiting import wait_until
from tests.world import (
    CONSOLE_URL,
    FOLDER,
    IDS,
    NOW,
    ONCALL_CHANNEL,
    ONCALL_GROUP,
    OTHER_FOLDER,
    DeliveryClock,
    HoldingSim,
    alert_of,
    deliver,
    deliver_with,
    kinds,
    make_config,
    make_features,
    make_fleet,
    replies,
    seed_backups,
    subject,
    sweep_and_deliver,
    top_level,
)

MENTION = f"<!subteam^{ONCALL_GROUP}>"
ALERT, UPDATE, REMINDER, RESOLVED = (
    PostKind.ALERT,
    PostKind.ALERT_UPDATE,
    PostKind.REMINDER,
    PostKind.RESOLVED,
)


def sweeper(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier | None,
    config: BotConfig,
    *,
    owner: str = "replica-a",
    metrics: Metrics | None = None,
) -> Sweeper:
    return Sweeper(cloud, store, config, metrics=metrics, console_url=CONSOLE_URL, owner=owner)


def service(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> Features:
    return make_features(cloud, store, config)


def has_buttons(message: dict[str, Any]) -> bool:
    return any(block["type"] == "actions" for block in message["blocks"])


def posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [call.args for call in slack.calls_to("chat.postMessage")]


def updates(slack: FakeSlack) -> list[dict[str, Any]]:
    return [call.args for call in slack.calls_to("chat.update")]


async def test_a_stale_cluster_walks_through_alert_reminder_ack_snooze_and_resolution(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    watch = service(cloud, store, notifier, config)
    route = alert_route_key(config.alerts[0])

    # 09:00: orders-prod's newest backup is 30 h old (daily schedule: max 1d 2h), new-cluster
    # never had one. One alert each, in the on-call channel, with buttons; on-call is mentioned
    # once, in the first of them; clusters go by name (the cloud lists them in no particular
    # order).
    first = await sweep_and_deliver(sweep, executor, now=NOW)
    assert kinds(first.posts) == [(ALERT, IDS.never), (ALERT, IDS.stale)]
    assert [(p["channel"], p.get("thread_ts")) for p in posts(fake_slack)] == [
        (ONCALL_CHANNEL, None),
        (ONCALL_CHANNEL, None),
    ]
    orders = alert_of(fake_slack, "orders-prod")
    assert orders["text"] == ("FIRING: the newest backup of orders-prod is 1d 6h old (max 1d 2h)")
    assert MENTION not in str(orders["blocks"])
    assert "same sweep as the post above that mentioned on-call" in str(orders["blocks"])
    assert has_buttons(orders)
    never = alert_of(fake_slack, "new-cluster")
    assert never["text"] == f"FIRING: new-cluster has no backup at all {MENTION}"
    # The stopped cluster is not stale, and the PRESTABLE one is not on this route.
    assert "archive" not in str(fake_slack.messages())
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert (entry.status, entry.message_ts) == (AlertStatus.FIRING, orders["ts"])

    # 09:15: the same incidents are open; nothing new is queued, posted or updated.
    calls = len(fake_slack.calls)
    second = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))
    assert second.posts == ()
    assert len(fake_slack.calls) == calls

    # 13:00 (repeat 4h): a reminder in each thread, and each alert message updated in place.
    fake_slack.calls.clear()
    reminded = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=4))
    assert kinds(reminded.posts) == [
        (UPDATE, IDS.never),
        (REMINDER, IDS.never),
        (UPDATE, IDS.stale),
        (REMINDER, IDS.stale),
    ]
    assert sorted((u["channel"], u["ts"]) for u in updates(fake_slack)) == sorted(
        [(ONCALL_CHANNEL, orders["ts"]), (ONCALL_CHANNEL, never["ts"])]
    )
    assert sorted(p["thread_ts"] for p in posts(fake_slack)) == sorted([orders["ts"], never["ts"]])
    [reminder] = replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"])
    assert reminder["text"] == (
        ":alarm_clock: *orders-prod* still has no fresh backup: the newest is 1d 10h old "
        "(max 1d 2h); stale for 8h."
    )
    # The two reminders are one sweep's: on-call is mentioned in the first (new-cluster's) only.
    [other] = replies(fake_slack.messages(ONCALL_CHANNEL), never["ts"])
    assert other["text"].endswith(MENTION)

    # 13:05: someone acknowledges orders-prod: the message says so, without the Ack button.
    fake_slack.calls.clear()
    reply = await watch.alerts.acknowledge(
        IDS.stale, route, user="U0ALICE", now=NOW + timedelta(hours=4, minutes=5)
    )
    await deliver(executor)
    assert "Acknowledged the alert for `orders-prod`" in reply.text
    assert [(u["channel"], u["ts"]) for u in updates(fake_slack)] == [
        (ONCALL_CHANNEL, orders["ts"])
    ]
    orders = alert_of(fake_slack, "orders-prod")
    assert orders["text"].startswith("ACKNOWLEDGED: ")
    assert "<@U0ALICE>" in orders["blocks"][0]["text"]["text"]
    buttons = next(b for b in orders["blocks"] if b["type"] == "actions")["elements"]
    assert "alert_ack" not in [b["action_id"] for b in buttons]

    # 17:00: new-cluster is reminded again; the acknowledged orders-prod is not.
    fake_slack.calls.clear()
    await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=8))
    assert [p["thread_ts"] for p in posts(fake_slack)] == [never["ts"]]

    # 17:05: new-cluster is snoozed for 4 h: updated in place, then silent until 21:05...
    fake_slack.calls.clear()
    snoozed = await watch.alerts.snooze(
        "new-cluster", timedelta(hours=4), user="U0BOB", now=NOW + timedelta(hours=8, minutes=5)
    )
    await deliver(executor)
    assert snoozed.text == "Snoozed alerts for `new-cluster` until 2026-03-02 21:05 UTC."
    assert [(u["channel"], u["ts"]) for u in updates(fake_slack)] == [(ONCALL_CHANNEL, never["ts"])]
    assert alert_of(fake_slack, "new-cluster")["text"].startswith("SNOOZED: ")
    fake_slack.calls.clear()
    quiet = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=12))
    assert quiet.posts == ()
    assert fake_slack.calls == []

    # ...and wakes at 21:15, still without a backup: FIRING again, with a reminder.
    woke = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=12, minutes=15))
    assert kinds(woke.posts) == [(UPDATE, IDS.never), (REMINDER, IDS.never)]
    assert alert_of(fake_slack, "new-cluster")["text"].startswith("FIRING: ")
    assert len(replies(fake_slack.messages(ONCALL_CHANNEL), never["ts"])) == 3

    # 21:30: a backup of orders-prod landed at 21:20. Resolved in the thread, saying how long
    # it went without a fresh backup (stale from 05:00 to 21:20: 16h 20m), and the message updated
    # in place without buttons.
    sim.add_backup(IDS.stale, created_at=NOW + timedelta(hours=12, minutes=20))
    fake_slack.calls.clear()
    resolved = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=12, minutes=30))
    assert kinds(resolved.posts) == [(UPDATE, IDS.stale), (RESOLVED, IDS.stale)]
    notice = replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"])[-1]
    assert notice["text"].startswith(":white_check_mark: Resolved: a fresh backup landed at ")
    assert notice["text"].endswith("*orders-prod* went without a fresh backup for 16h 20m.")
    orders = alert_of(fake_slack, "orders-prod")
    assert orders["text"].startswith("RESOLVED: ")
    assert not has_buttons(orders)
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.status == AlertStatus.RESOLVED

    # 21:45: nothing more about orders-prod: it resolved once.
    fake_slack.calls.clear()
    after = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=12, minutes=45))
    assert [subject(p) for p in after.posts] == []
    assert fake_slack.calls == []


async def test_a_single_flaky_read_never_pages_anyone(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    # One answer says logs-prod (fresh) has no backups at all; the re-read says otherwise.
    sim.inject_fault(rf"/clusters/{IDS.fresh}/backups", 200, times=1, body={"backups": []})

    result = await sweep_and_deliver(sweeper(cloud, store, notifier, config), executor, now=NOW)

    assert result.unconfirmed == (IDS.fresh,)
    assert "logs-prod" not in str(fake_slack.messages())
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 2  # orders-prod, new-cluster
    assert await store.incidents.get_alert(IDS.fresh, alert_route_key(config.alerts[0])) is None


async def test_an_unreadable_re_read_holds_the_alert_until_the_next_sweep(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    # The sweep's own read of new-cluster works (it lists the folder); the confirming re-read
    # starts with Cluster.get, which fails on both tries.
    sim.inject_fault(rf"/clusters/{IDS.never}$", 503, times=2, method="GET")

    held = await sweep_and_deliver(sweep, executor, now=NOW)

    assert held.unconfirmed == (IDS.never,)
    assert [m["text"] for m in top_level(fake_slack.messages(ONCALL_CHANNEL))] == [
        f"FIRING: the newest backup of orders-prod is 1d 6h old (max 1d 2h) {MENTION}"
    ]

    result = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))
    assert kinds(result.posted) == [(ALERT, IDS.never)]
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 2


async def test_new_incidents_are_re_read_together_and_posted_in_cluster_order(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    # new-cluster comes first (clusters go by name), but its re-read is slow: the first
    # Cluster.get answers 503 after 300 ms and the retry gets through. orders-prod's is quick.
    sim.inject_fault(rf"/clusters/{IDS.never}$", 503, times=1, delay=0.3, method="GET")

    result = await sweep_and_deliver(sweeper(cloud, store, notifier, config), executor, now=NOW)

    # orders-prod was re-read while new-cluster's re-read was still waiting...
    listings = [r.path for r in sim.requests if r.path.endswith("/backups")]
    last = {
        cluster_id: max(i for i, p in enumerate(listings) if cluster_id in p)
        for cluster_id in (IDS.stale, IDS.never)
    }
    assert last[IDS.stale] < last[IDS.never]
    # ...yet the alerts were queued, and went out, in the reading's order, each once.
    assert kinds(result.posts) == [(ALERT, IDS.never), (ALERT, IDS.stale)]
    names = ("new-cluster", "orders-prod")
    assert [next(n for n in names if n in p["text"]) for p in posts(fake_slack)] == list(names)


async def test_a_sweep_reads_a_routes_incidents_in_one_query_and_rewrites_none_unchanged(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    await sweep_and_deliver(sweep, executor, now=NOW)
    before = await store.incidents.list_alerts()
    statements: list[str] = []
    outbox_writes: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        verb = statement.split()[0].upper()
        if " alerts" in statement:
            statements.append(verb)
        if "outbox" in statement and verb in ("INSERT", "UPDATE", "DELETE"):
            outbox_writes.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        again = await sweep.run(now=NOW + timedelta(minutes=15))
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)

    assert again.posts == ()
    assert statements == ["SELECT"]  # the route's incidents, all at once; no writes
    assert outbox_writes == []  # nothing queued
    assert await store.incidents.list_alerts() == before  # versions included


async def test_a_stopped_cluster_is_reported_as_stopped_and_resolves_its_alert(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    await sweep_and_deliver(sweep, executor, now=NOW)
    orders = alert_of(fake_slack, "orders-prod")

    sim.stop_cluster(IDS.stale)
    result = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))

    assert kinds(result.posts) == [(UPDATE, IDS.stale), (RESOLVED, IDS.stale)]
    [notice] = replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"])
    assert notice["text"].startswith(":white_check_mark: Resolved: cluster stopped. ")
    assert "stopped" in alert_of(fake_slack, "orders-prod")["blocks"][0]["text"]["text"]
    # The long-stopped archive cluster never had an alert.
    assert "archive" not in str(fake_slack.messages())


async def test_a_removed_snapshot_schedule_resolves_the_alert_and_posts_no_new_one(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    route = alert_route_key(config.alerts[0])
    await sweep_and_deliver(sweep, executor, now=NOW)
    orders = alert_of(fake_slack, "orders-prod")

    sim.fleet.clusters[IDS.stale].schedule = None
    removed = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))
    later = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=6))

    assert kinds(removed.posts) == [(UPDATE, IDS.stale), (RESOLVED, IDS.stale)]
    notice = replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"])[-1]
    assert notice["text"].startswith(
        ":white_check_mark: Resolved: the snapshot schedule of *orders-prod* was removed"
    )
    # Reported, not alerted: no second alert about orders-prod, now or hours later.
    assert IDS.stale not in [subject(p) for p in later.posted]
    assert [m["ts"] for m in top_level(fake_slack.messages(ONCALL_CHANNEL))] == [
        alert_of(fake_slack, "new-cluster")["ts"],
        orders["ts"],
    ]
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.status == AlertStatus.RESOLVED


async def test_a_blind_bot_alerts_about_itself_once_per_channel_and_says_once_when_it_sees_again(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    routes = [
        {
            "channel": ONCALL_CHANNEL,
            "mention": [ONCALL_GROUP],
            "match": {"environment": "PRODUCTION"},
        },
        {"channel": "C0DBA", "match": {"environment": "PRESTABLE"}},
    ]
    config = make_config(alerts=routes, sweep={"every": "15m", "blind_after": 3})
    sweep = sweeper(cloud, store, notifier, config)
    await sweep_and_deliver(sweep, executor, now=NOW)  # a good sweep: three alerts
    fake_slack.calls.clear()
    sim.inject_fault(r"^/managed-opensearch/", 503, times=None)

    results = [
        await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15 * i))
        for i in range(1, 6)
    ]

    assert [r.blind for r in results] == [True] * 5
    assert [r.consecutive_failures for r in results] == [1, 2, 3, 4, 5]
    assert [len(r.posts) for r in results] == [0, 0, 2, 0, 0]
    self_alerts = posts(fake_slack)
    assert sorted(p["channel"] for p in self_alerts) == sorted([ONCALL_CHANNEL, "C0DBA"])
    for post in self_alerts:
        assert not post.get("thread_ts")
        assert "could not read the cloud for 3 sweeps in a row" in post["text"]
    incident = await store.incidents.get_incident(BLIND)
    assert incident is not None
    assert incident.status == BotIncidentStatus.OPEN
    assert incident.since == NOW  # blind since the last sweep that could see

    sim.clear_faults()
    back = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=90))
    again = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=105))

    assert not back.blind
    assert [p.kind for p in back.posts] == [PostKind.SELF_REPLY, PostKind.SELF_REPLY]
    assert again.posts == ()
    # One all-clear in the thread of each self-alert, and nothing else.
    for alert in (m for m in fake_slack.messages() if "could not read the cloud" in m["text"]):
        [recovered] = replies(fake_slack.messages(alert["channel"]), alert["ts"])
        assert "can read the cloud again after 1h 30m" in recovered["text"]
    assert len(posts(fake_slack)) == 4
    incident = await store.incidents.get_incident(BLIND)
    assert incident is not None
    assert (incident.status, incident.messages) == (BotIncidentStatus.CLOSED, ())


async def test_a_dry_run_shows_the_self_alert_the_next_blind_sweep_would_post(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    config = make_config(sweep={"every": "15m", "blind_after": 3})
    sweep = sweeper(cloud, store, notifier, config)
    sim.inject_fault(r"^/managed-opensearch/", 503, times=None)
    for i in range(2):
        await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15 * i))
    fake_slack.calls.clear()

    dry = await sweep.run(now=NOW + timedelta(minutes=30), dry_run=True)

    assert dry.blind
    assert dry.consecutive_failures == 3
    assert [p.kind for p in dry.posts] == [PostKind.SELF_ALERT]
    assert "would queue 1 self-alert(s)" in dry.summary()
    assert await store.outbox.list_posts() == []  # a dry run queues nothing and counts nothing
    assert await store.facts.sweep_failures() == 2
    assert await store.incidents.get_incident(BLIND) is None

    real = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=30))
    assert [p.kind for p in real.posts] == [PostKind.SELF_ALERT]
    assert "queued 1 self-alert(s)" in real.summary()
    assert len(posts(fake_slack)) == 1


async def test_a_restart_on_the_same_database_posts_no_second_alert(
    sim: SimCloud,
    cloud: CloudClient,
    open_store: OpenStore,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    before = await open_store()
    await sweeper(cloud, before, notifier, config).run(now=NOW)
    await deliver_with(before, notifier)
    await before.close()

    after = await open_store()
    result = await sweeper(cloud, after, notifier, config, owner="restarted").run(
        now=NOW + timedelta(minutes=15)
    )
    await deliver_with(after, notifier, owner="restarted")

    assert result.posts == ()
    assert len(posts(fake_slack)) == 2


async def test_alerts_slack_refuses_wait_in_the_outbox_and_go_out_once_without_being_queued_again(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
    delivery_clock: DeliveryClock,
) -> None:
    route = alert_route_key(config.alerts[0])
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=30)
    sweep = sweeper(cloud, store, notifier, config)

    queued = await sweep.run(now=NOW)
    await executor.start()
    first = queued.posts[0]
    await wait_until(
        lambda: _error_of(store, first.id, "ratelimited"), what="Slack's refusal of the first"
    )

    # Slack took nothing; the incidents are open with their alerts queued, and the sweep of the
    # next slot queues no second alert for them.
    assert fake_slack.messages() == []
    for entry in await store.incidents.list_alerts(open_only=True):
        assert (entry.message_id is not None, entry.message_ts) == (True, None)
    retried = await sweep.run(now=NOW + timedelta(minutes=15))
    assert retried.posts == ()

    # Retry-After has passed: both alerts go out, once each, in the order they were queued.
    delivery_clock.advance(timedelta(seconds=31))
    drained = await executor.deliver(timeout=15)
    assert drained.ok
    assert [subject(p) for p in drained.posts] == [IDS.never, IDS.stale]
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 2
    assert len(fake_slack.rejected) == 1
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.message_ts == alert_of(fake_slack, "orders-prod")["ts"]
    again = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=30))
    assert again.posts == ()
    assert len(posts(fake_slack)) == 2


async def _error_of(store: Store, post_id: str, error: str) -> bool:
    post = await store.outbox.get_post(post_id)
    return post is not None and post.state == OutboxState.PENDING and post.error == error


async def test_a_refused_reminder_goes_out_once_slack_takes_it_and_no_second_is_queued(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
    delivery_clock: DeliveryClock,
) -> None:
    config = make_config(watch={"folders": [], "clusters": [IDS.stale]})
    sweep = sweeper(cloud, store, notifier, config)
    await sweep_and_deliver(sweep, executor, now=NOW)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=20)

    due = await sweep.run(now=NOW + timedelta(hours=4))
    [reminder] = due.reminded
    await executor.start()
    await wait_until(
        lambda: _error_of(store, reminder.id, "ratelimited"), what="the reminder refused"
    )
    later = await sweep.run(now=NOW + timedelta(hours=4, minutes=15))
    delivery_clock.advance(timedelta(seconds=21))
    drained = await executor.deliver([reminder.id], timeout=15)

    assert drained.ok
    assert later.reminded == []  # the reminder was due once; it is not queued again
    orders = alert_of(fake_slack, "orders-prod")
    assert len(replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"])) == 1


async def test_a_dry_run_shows_the_messages_and_changes_nothing(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    result = await sweeper(cloud, store, None, config).run(now=NOW, dry_run=True)

    assert result.dry_run
    assert [(p.kind, p.channel, subject(p)) for p in result.posts] == [
        (ALERT, ONCALL_CHANNEL, IDS.never),
        (ALERT, ONCALL_CHANNEL, IDS.stale),
    ]
    assert result.posts[1].payload["text"].startswith("FIRING: the newest backup of orders-prod")
    assert fake_slack.calls == []
    assert await store.incidents.list_alerts() == []
    assert await store.outbox.list_posts() == []
    assert not await store.claims.run_finished(slot_key(NOW, config.sweep.every))


async def test_a_second_replica_in_the_same_slot_does_nothing(
    sim: SimCloud,
    cloud: CloudClient,
    open_store: OpenStore,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    metrics = Metrics()
    store_a, store_b = await open_store(), await open_store()
    first = sweeper(cloud, store_a, notifier, config, owner="a", metrics=metrics)
    second = sweeper(cloud, store_b, notifier, config, owner="b", metrics=metrics)

    ran = await first.run(now=NOW + timedelta(minutes=1))
    await deliver_with(store_a, notifier, owner="a")
    skipped = await second.run(now=NOW + timedelta(minutes=7))
    await deliver_with(store_b, notifier, owner="b")

    assert ran.skipped is None
    assert skipped.skipped == SKIPPED_CLAIM
    assert skipped.summary() == f"sweep sweep:2026-03-02T09:00:00+00:00: skipped, {SKIPPED_CLAIM}"
    assert len(posts(fake_slack)) == 2
    sample = metrics.registry.get_sample_value
    assert sample("backups_bot_alerts_firing") == 2
    assert sample("backups_bot_sweeps_total", {"outcome": "ok"}) == 1
    assert sample("backups_bot_sweeps_total", {"outcome": "skipped"}) == 1
    assert (sample("backups_bot_last_successful_sweep_timestamp_seconds") or 0) > 0


async def test_a_manual_sweep_after_the_scheduled_one_runs_and_posts_nothing_twice(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    scheduled = await sweep_and_deliver(
        sweeper(cloud, store, notifier, config, owner="a"), executor, now=NOW
    )
    by_hand = await sweep_and_deliver(
        sweeper(cloud, store, notifier, config, owner="b"),
        executor,
        now=NOW + timedelta(minutes=3),
        manual=True,
    )

    assert len(scheduled.posted) == 2
    assert by_hand.skipped is None
    assert by_hand.clusters == scheduled.clusters
    assert by_hand.posts == ()
    assert len(posts(fake_slack)) == 2


async def test_an_incident_from_before_the_outbox_open_without_a_message_gets_its_alert_once(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    config = make_config(watch={"folders": [], "clusters": [IDS.stale]})
    route = alert_route_key(config.alerts[0])
    # What a replica of the old bot (it posted after saving) killed in between leaves behind.
    orphan = AlertEntry(
        cluster_id=IDS.stale,
        route_key=route,
        status=AlertStatus.FIRING,
        channel=ONCALL_CHANNEL,
        opened_at=NOW,
        last_notified_at=NOW,
    )
    assert await save_alert(store, orphan) is not None
    sweep = sweeper(cloud, store, notifier, config)

    first = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=1))
    later = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))

    assert kinds(first.posts) == [(ALERT, IDS.stale)]
    assert later.posts == ()
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.opened_at == NOW  # the same incident, not a new one
    assert entry.message_ts == alert_of(fake_slack, "orders-prod")["ts"]


# --- an incident and its posts, committed together ------------------------------------------------


async def test_a_new_incident_is_saved_with_its_alert_or_not_at_all_when_a_rival_got_there_first(
    sim: HoldingSim,
    patient_cloud: CloudClient,
    open_store: OpenStore,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    store_a, store_b = await open_store(), await open_store()
    cloud = patient_cloud
    route = alert_route_key(config.alerts[0])
    # Replica a is held in the confirming re-read of orders-prod, after it read the incidents
    # (none) and before it commits; meanwhile replica b sweeps by hand and opens both incidents.
    hold = sim.hold(rf"/clusters/{IDS.stale}$")
    slow = asyncio.create_task(sweeper(cloud, store_a, notifier, config, owner="a").run(now=NOW))
    await wait_until(lambda: hold.held, what="replica a's re-read to be held")
    rival = await sweeper(cloud, store_b, notifier, config, owner="b").run(
        now=NOW + timedelta(minutes=1), manual=True
    )
    hold.release()
    late = await slow

    assert kinds(rival.posts) == [(ALERT, IDS.never), (ALERT, IDS.stale)]
    # Replica a's changes found the incidents saved by b: it wrote neither incident nor post.
    assert late.posts == ()
    assert len(late.conflicts) == 2
    queued = await store_a.outbox.list_posts()
    assert [p.id for p in queued] == [p.id for p in rival.posts]
    # Every incident names the one alert queued for it, and every alert queued has its incident.
    entries = await store_a.incidents.list_alerts()
    assert sorted(e.cluster_id for e in entries) == sorted([IDS.stale, IDS.never])
    assert {e.message_id for e in entries} == {p.id for p in queued if p.kind == ALERT}
    assert all(e.version == 1 for e in entries)

    await deliver_with(store_a, notifier)
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 2
    entry = await store_a.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.message_ts == alert_of(fake_slack, "orders-prod")["ts"]


async def test_a_sweep_whose_incident_a_click_moved_meanwhile_queues_nothing_for_it(
    sim: HoldingSim,
    patient_cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    cloud = patient_cloud
    route = alert_route_key(config.alerts[0])
    # late-cluster was backed up 23 h before NOW: it goes stale at 12:00, a new incident then.
    late = sim.fleet.add_cluster(replace(sim.fleet.clusters[IDS.fresh], id="c9qlatecluster000007"))
    late.name = "late-cluster"
    sim.add_backup(late.id, created_at=NOW - timedelta(hours=23))
    sweep = sweeper(cloud, store, notifier, config)
    await sweep_and_deliver(sweep, executor, now=NOW)
    orders = alert_of(fake_slack, "orders-prod")

    # 13:00, reminders due. The sweep is held in its re-read of late-cluster, after it decided
    # to remind orders-prod; meanwhile on-call acknowledges orders-prod.
    hold = sim.hold(rf"/clusters/{late.id}$")
    at = NOW + timedelta(hours=4)
    running = asyncio.create_task(sweep.run(now=at))
    await wait_until(lambda: hold.held, what="the sweep to be held")
    watch = service(cloud, store, notifier, config)
    await watch.alerts.acknowledge(IDS.stale, route, user="U0ALICE", now=at)
    hold.release()
    result = await running
    await deliver(executor)

    # The sweep's reminder and update of orders-prod were one change with the incident: the
    # click won, so neither was queued. The other incidents went on as planned.
    assert result.conflicts == (f"{IDS.stale}/{route}",)
    assert kinds(result.posts) == [
        (UPDATE, IDS.never),
        (REMINDER, IDS.never),
        (ALERT, late.id),
    ]
    assert replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"]) == []
    assert alert_of(fake_slack, "orders-prod")["text"].startswith("ACKNOWLEDGED: ")
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert (entry.status, entry.acknowledged_by) == (AlertStatus.ACKNOWLEDGED, "U0ALICE")
    # Acknowledged: the next sweep does not remind it either.
    after = await sweep_and_deliver(sweep, executor, now=at + timedelta(minutes=15))
    assert IDS.stale not in [subject(p) for p in after.posts]


# --- the `sweep` verb ----------------------------------------------------------------------------


@pytest.fixture
async def cli_env(
    fake_slack: FakeSlack,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[SimCloud]:
    """The environment of a ``backups-bot`` process pointed at a simulated cloud (its fleet
    dated around the real clock, which the verb reads), fake Slack and the store."""
    now = clock.now()
    sim = SimCloud(SimConfig(), make_fleet(now))
    seed_backups(sim, now)
    await sim.start()
    config = tmp_path / "backups-bot.yaml"
    config.write_text(
        f"watch: {{folders: [{FOLDER}]}}\n"
        f"alerts:\n  - channel: {ONCALL_CHANNEL}\n    mention: [{ONCALL_GROUP}]\n"
        "    match: {environment: PRODUCTION}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "YC_MDB_ENDPOINT": sim.url,
        "YC_RESOURCE_MANAGER_ENDPOINT": sim.url,
        "YC_OPERATION_ENDPOINT": sim.url,
        "YC_IAM_TOKEN": DEFAULT_STATIC_TOKEN,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": store_url,
        "BACKUPS_BOT_CONFIG": str(config),
    }.items():
        monkeypatch.setenv(name, value)
    yield sim
    await sim.stop()


async def run_cli(*argv: str) -> int:
    # The verb runs its own event loop; this test's loop keeps serving the sim and fake Slack.
    return await asyncio.to_thread(main, list(argv))


@pytest.mark.usefixtures("cli_env")
async def test_the_sweep_verb_dry_run_prints_the_alerts_and_posts_nothing(
    fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("sweep", "--dry-run") == 0

    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(
        ": 5 clusters read, 2 alert(s) would queue, 0 update(s), 0 reminder(s), 0 resolved"
    )
    assert "# alert for c9qordersprod0000001 [new_incident] in C0ONCALL" in out
    assert "orders-prod" in out
    assert fake_slack.calls == []


@pytest.mark.usefixtures("cli_env")
async def test_the_sweep_verb_posts_once_and_prints_a_line_per_post(
    fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("sweep") == 0
    first = capsys.readouterr().out.splitlines()

    in_slack = r"alert p[0-9a-f]{32} for {} \[new_incident\] in C0ONCALL: in Slack \(ts [0-9.]+\)"
    # clusters by name: new-cluster, orders-prod
    assert re.fullmatch(in_slack.replace("{}", IDS.never), first[0]), first
    assert re.fullmatch(in_slack.replace("{}", IDS.stale), first[1]), first
    # Run by hand again at once: it does sweep (the verb is not bound to the scheduled slot),
    # and the open incidents get no second alert.
    assert await run_cli("sweep", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["skipped"] is None
    assert again["posts"] == []
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


@pytest.mark.usefixtures("cli_env")
async def test_the_sweep_verb_dry_run_json_prints_slack_payloads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_cli("sweep", "--dry-run", "--json") == 0

    result = json.loads(capsys.readouterr().out)
    payloads = [post["payload"] for post in result["posts"]]
    assert [p["channel"] for p in payloads] == [ONCALL_CHANNEL, ONCALL_CHANNEL]
    assert payloads[1]["text"].startswith("FIRING: the newest backup of orders-prod")
    assert payloads[1]["blocks"][0]["type"] == "section"
    assert [post["state"] for post in result["posts"]] == [None, None]  # nothing queued


async def test_the_sweep_verb_exits_1_when_the_cloud_cannot_be_read(
    cli_env: SimCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.inject_fault(r"^/managed-opensearch/", 403, times=None)

    assert await run_cli("sweep") == 1
    assert "BLIND (1 failed sweep(s) in a row)" in capsys.readouterr().err


async def test_a_sweep_longer_than_its_lease_keeps_its_claim(
    open_store: OpenStore,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    sim: HoldingSim,
    patient_cloud: CloudClient,
) -> None:
    cloud = patient_cloud
    config = make_config(sweep={"every": "1d", "lease": "1s"})
    store = await open_store()
    key = slot_key(NOW, config.sweep.every)
    # The slow sweep claims the slot at NOW for 1 s, and is held in a re-read for as long as
    # the test needs: its claim lives only if it is renewed.
    hold = sim.hold(rf"/clusters/{IDS.stale}$")
    slow = sweeper(cloud, store, notifier, config, owner="slow")
    running = asyncio.create_task(slow.run(now=NOW))
    await wait_until(lambda: hold.held, what="the slow sweep to be held")

    async def renewed() -> bool:
        async with store.engine.connect() as conn:
            until = await conn.scalar(
                select(run_claims.c.lease_until).where(run_claims.c.key == key)
            )
        return until is not None and until > NOW + timedelta(seconds=1)

    await wait_until(renewed, what="the slow sweep to renew its lease")
    # Another replica comes after the first lease ran out (NOW + 1 s), in the same slot.
    other = await sweeper(cloud, await open_store(), notifier, config, owner="other").run(
        now=NOW + timedelta(seconds=2)
    )
    assert not running.done()
    hold.release()
    done = await running
    await deliver_with(store, notifier)

    assert other.skipped == SKIPPED_CLAIM
    assert done.skipped is None
    assert len(posts(fake_slack)) == len(done.posted) == 2  # all of them by the slow one


async def test_an_alert_of_a_cluster_that_left_the_route_is_resolved_not_left_open(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    route = alert_route_key(config.alerts[0])
    await sweep_and_deliver(sweep, executor, now=NOW)
    alert = alert_of(fake_slack, "orders-prod")

    # orders-prod is moved to PRESTABLE: the PRODUCTION route no longer watches it.
    sim.fleet.clusters[IDS.stale].environment = "PRESTABLE"
    result = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))

    assert result.doubted == (IDS.stale,)  # re-read before it was retired
    assert kinds(result.posts) == [(UPDATE, IDS.stale), (RESOLVED, IDS.stale)]
    updated = next(m for m in fake_slack.messages() if m["ts"] == alert["ts"])
    assert "is no longer watched here" in updated["text"]
    assert not has_buttons(updated)
    thread = [m for m in fake_slack.messages() if m.get("thread_ts") == alert["ts"]]
    assert len(thread) == 1
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.status is AlertStatus.RESOLVED
    # The other incident is untouched, and a further sweep changes nothing.
    assert (await store.incidents.get_alert(IDS.never, route)).status is AlertStatus.FIRING  # type: ignore[union-attr]
    again = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=30))
    assert again.posts == ()


async def test_an_unreadable_folder_resolves_none_of_its_clusters_alerts(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    config = make_config(watch={"folders": [FOLDER, OTHER_FOLDER]})
    sweep = sweeper(cloud, store, notifier, config)
    await sweep_and_deliver(sweep, executor, now=NOW)
    route = alert_route_key(config.alerts[0])
    assert (await store.incidents.get_alert(IDS.other, route)) is not None
    calls = len(fake_slack.calls)

    # The other folder cannot be listed any more (403), while the first still can: its
    # clusters are not seen, but that is no news of their being gone.
    sim.fleet.folders = [f for f in sim.fleet.folders if f.id != OTHER_FOLDER]
    result = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))

    assert result.fleet_errors
    assert result.doubted == (IDS.other,)
    assert result.posts == ()
    assert len(fake_slack.calls) == calls
    entry = await store.incidents.get_alert(IDS.other, route)
    assert entry is not None
    assert entry.status.is_open


# --- doubt before closing ------------------------------------------------------------------------


async def test_a_listing_that_comes_back_empty_once_resolves_nothing_and_pages_nobody_again(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    await sweep_and_deliver(sweep, executor, now=NOW)
    before = await store.incidents.list_alerts()
    calls = len(fake_slack.calls)

    # A valid, empty answer to the folder's cluster listing, once.
    sim.inject_fault(r"/clusters$", 200, times=1, body={})
    empty = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))
    normal = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=30))

    assert empty.clusters == 0
    assert not empty.blind
    assert sorted(empty.doubted) == sorted([IDS.stale, IDS.never])  # each asked for by id
    assert empty.posts == ()
    assert normal.posts == ()
    assert len(fake_slack.calls) == calls  # no resolved notice, no second alert
    assert [
        (e.cluster_id, e.status, e.message_id) for e in await store.incidents.list_alerts()
    ] == [(e.cluster_id, e.status, e.message_id) for e in before]


async def test_a_cluster_deleted_from_the_cloud_is_retired_with_one_resolved_notice(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    route = alert_route_key(config.alerts[0])
    await sweep_and_deliver(sweep, executor, now=NOW)
    alert = alert_of(fake_slack, "orders-prod")

    del sim.fleet.clusters[IDS.stale]  # gone: Cluster.get answers 404
    result = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))
    again = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=30))

    assert result.doubted == (IDS.stale,)
    assert kinds(result.posts) == [(UPDATE, IDS.stale), (RESOLVED, IDS.stale)]
    assert again.posts == ()
    [notice] = replies(fake_slack.messages(ONCALL_CHANNEL), alert["ts"])
    assert "is no longer watched here" in notice["text"]
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.status is AlertStatus.RESOLVED


async def test_a_missing_cluster_that_cannot_be_read_keeps_its_incident_open(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    route = alert_route_key(config.alerts[0])
    await sweep_and_deliver(sweep, executor, now=NOW)
    opened = await store.incidents.get_alert(IDS.stale, route)
    calls = len(fake_slack.calls)

    # The listing leaves orders-prod out, and asking for it by id fails (503, every try).
    sim.inject_fault(r"/clusters$", 200, times=1, body={})
    sim.inject_fault(rf"/clusters/{IDS.stale}$", 503, times=None, method="GET")
    result = await sweep_and_deliver(sweep, executor, now=NOW + timedelta(minutes=15))

    assert IDS.stale in result.doubted
    assert result.posts == ()
    assert len(fake_slack.calls) == calls
    assert (
        await store.incidents.get_alert(IDS.stale, route) == opened
    )  # unknown is no reason to close


async def test_a_sweep_exports_each_watched_clusters_freshness_for_prometheus(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> None:
    metrics = Metrics()
    await sweeper(cloud, store, notifier, config, metrics=metrics).run(now=NOW)
    body = metrics.render()[0].decode()
    stale = f'cluster="orders-prod",cluster_id="{IDS.stale}",folder="{FOLDER}"'
    assert f"backups_bot_newest_backup_age_seconds{{{stale}}} 108000.0" in body  # 30 h
    assert f"backups_bot_max_age_seconds{{{stale}}} 93600.0" in body  # 1d 2h
    assert f'backups_bot_cluster_freshness{{{stale},state="stale"}} 1.0' in body
    never = f'cluster="new-cluster",cluster_id="{IDS.never}",folder="{FOLDER}"'
    assert f'backups_bot_cluster_freshness{{{never},state="never"}} 1.0' in body
    assert f"backups_bot_newest_backup_age_seconds{{{never}}}" not in body
    # One freshness series per watched cluster.
    series = [line for line in body.splitlines() if line.startswith("backups_bot_cluster_fresh")]
    assert len(series) == len({line.split('cluster_id="')[1][:20] for line in series})
