"""The staleness sweep end to end: a simulated cloud, a fake Slack, the store on SQLite and on
PostgreSQL, and time walked explicitly through an incident's life."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot import clock
from bot.cli import main
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.core.types import AlertEntry, AlertStatus
from bot.ops.metrics import Metrics
from bot.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.simcloud.server import SimCloud
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from bot.testing.fake_slack import FakeSlack
from bot.watch.service import WatchService
from bot.watch.sweep import (
    FACT_SELF_ALERT,
    SKIPPED_CLAIM,
    SweepActionKind,
    Sweeper,
    alert_route_key,
    slot_key,
)
from tests.store.conftest import OpenStore
from tests.watch.conftest import (
    CONSOLE_URL,
    FOLDER,
    IDS,
    NOW,
    ONCALL_CHANNEL,
    ONCALL_GROUP,
    OTHER_FOLDER,
    alert_of,
    make_config,
    make_fleet,
    replies,
    seed_backups,
    top_level,
)

MENTION = f"<!subteam^{ONCALL_GROUP}>"


def sweeper(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier | None,
    config: BotConfig,
    *,
    owner: str = "replica-a",
    metrics: Metrics | None = None,
) -> Sweeper:
    return Sweeper(
        cloud, store, notifier, config, metrics=metrics, console_url=CONSOLE_URL, owner=owner
    )


def service(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> WatchService:
    return WatchService(cloud, store, notifier, config, console_url=CONSOLE_URL, owner="replica-a")


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
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    watch = service(cloud, store, notifier, config)
    route = alert_route_key(config.alerts[0])

    # 09:00: orders-prod's newest backup is 30 h old (daily schedule: max 1d 2h), new-cluster
    # never had one. One alert each, in the on-call channel, mentioning on-call, with buttons;
    # clusters go by name (the cloud lists them in no particular order).
    first = await sweep.run(now=NOW)
    assert [(a.kind, a.cluster_id) for a in first.actions] == [
        (SweepActionKind.POST_ALERT, IDS.never),
        (SweepActionKind.POST_ALERT, IDS.stale),
    ]
    assert [(p["channel"], p.get("thread_ts")) for p in posts(fake_slack)] == [
        (ONCALL_CHANNEL, None),
        (ONCALL_CHANNEL, None),
    ]
    orders = alert_of(fake_slack, "orders-prod")
    assert orders["text"] == (
        f"FIRING: the newest backup of orders-prod is 1d 6h old (max 1d 2h) {MENTION}"
    )
    assert MENTION in orders["blocks"][0]["text"]["text"]
    assert has_buttons(orders)
    never = alert_of(fake_slack, "new-cluster")
    assert never["text"] == f"FIRING: new-cluster has no backup at all {MENTION}"
    # The stopped cluster is not stale, and the PRESTABLE one is not on this route.
    assert "archive" not in str(fake_slack.messages())
    entry = await store.get_alert(IDS.stale, route)
    assert entry is not None
    assert (entry.status, entry.message_ts) == (AlertStatus.FIRING, orders["ts"])

    # 09:15: the same incidents are open; nothing new is posted or updated.
    calls = len(fake_slack.calls)
    second = await sweep.run(now=NOW + timedelta(minutes=15))
    assert second.actions == ()
    assert len(fake_slack.calls) == calls

    # 13:00 (repeat 4h): a reminder in each thread, and each alert message updated in place.
    fake_slack.calls.clear()
    await sweep.run(now=NOW + timedelta(hours=4))
    assert sorted((u["channel"], u["ts"]) for u in updates(fake_slack)) == sorted(
        [(ONCALL_CHANNEL, orders["ts"]), (ONCALL_CHANNEL, never["ts"])]
    )
    assert sorted(p["thread_ts"] for p in posts(fake_slack)) == sorted([orders["ts"], never["ts"]])
    [reminder] = replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"])
    assert reminder["text"] == (
        ":alarm_clock: *orders-prod* still has no fresh backup: the newest is 1d 10h old "
        f"(max 1d 2h); stale for 8h. {MENTION}"
    )

    # 13:05: someone acknowledges orders-prod: the message says so, without the Ack button.
    fake_slack.calls.clear()
    reply = await watch.acknowledge(
        IDS.stale, route, user="U0ALICE", now=NOW + timedelta(hours=4, minutes=5)
    )
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
    await sweep.run(now=NOW + timedelta(hours=8))
    assert [p["thread_ts"] for p in posts(fake_slack)] == [never["ts"]]

    # 17:05: new-cluster is snoozed for 4 h: updated in place, then silent until 21:05...
    fake_slack.calls.clear()
    snoozed = await watch.snooze(
        "new-cluster", timedelta(hours=4), user="U0BOB", now=NOW + timedelta(hours=8, minutes=5)
    )
    assert snoozed.text == "Snoozed alerts for `new-cluster` until 2026-03-02 21:05 UTC."
    assert [(u["channel"], u["ts"]) for u in updates(fake_slack)] == [(ONCALL_CHANNEL, never["ts"])]
    assert alert_of(fake_slack, "new-cluster")["text"].startswith("SNOOZED: ")
    fake_slack.calls.clear()
    quiet = await sweep.run(now=NOW + timedelta(hours=12))
    assert quiet.actions == ()
    assert fake_slack.calls == []

    # ...and wakes at 21:15, still without a backup: FIRING again, with a reminder.
    woke = await sweep.run(now=NOW + timedelta(hours=12, minutes=15))
    assert [(a.kind, a.cluster_id) for a in woke.actions] == [
        (SweepActionKind.UPDATE_ALERT, IDS.never),
        (SweepActionKind.POST_REMINDER, IDS.never),
    ]
    assert alert_of(fake_slack, "new-cluster")["text"].startswith("FIRING: ")
    assert len(replies(fake_slack.messages(ONCALL_CHANNEL), never["ts"])) == 3

    # 21:30: a backup of orders-prod landed at 21:20. Resolved in the thread, saying how long
    # it went without a fresh backup (stale from 05:00 to 21:20: 16h 20m), and the message updated
    # in place without buttons.
    sim.add_backup(IDS.stale, created_at=NOW + timedelta(hours=12, minutes=20))
    fake_slack.calls.clear()
    resolved = await sweep.run(now=NOW + timedelta(hours=12, minutes=30))
    assert [(a.kind, a.cluster_id) for a in resolved.actions] == [
        (SweepActionKind.UPDATE_ALERT, IDS.stale),
        (SweepActionKind.POST_RESOLVED, IDS.stale),
    ]
    notice = replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"])[-1]
    assert notice["text"].startswith(":white_check_mark: Resolved: a fresh backup landed at ")
    assert notice["text"].endswith("*orders-prod* went without a fresh backup for 16h 20m.")
    orders = alert_of(fake_slack, "orders-prod")
    assert orders["text"].startswith("RESOLVED: ")
    assert not has_buttons(orders)
    entry = await store.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.status == AlertStatus.RESOLVED

    # 21:45: nothing more about orders-prod: it resolved once.
    fake_slack.calls.clear()
    after = await sweep.run(now=NOW + timedelta(hours=12, minutes=45))
    assert [a.cluster_id for a in after.actions] == []


async def test_a_single_flaky_read_never_pages_anyone(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    # One answer says logs-prod (fresh) has no backups at all; the re-read says otherwise.
    sim.inject_fault(rf"/clusters/{IDS.fresh}/backups", 200, times=1, body={"backups": []})

    result = await sweeper(cloud, store, notifier, config).run(now=NOW)

    assert result.unconfirmed == (IDS.fresh,)
    assert "logs-prod" not in str(fake_slack.messages())
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 2  # orders-prod, new-cluster
    assert await store.get_alert(IDS.fresh, alert_route_key(config.alerts[0])) is None


async def test_an_unreadable_re_read_holds_the_alert_until_the_next_sweep(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    # The sweep's own read of new-cluster works (it lists the folder); the confirming re-read
    # starts with Cluster.get, which fails on both tries.
    sim.inject_fault(rf"/clusters/{IDS.never}$", 503, times=2, method="GET")

    held = await sweep.run(now=NOW)

    assert held.unconfirmed == (IDS.never,)
    assert [m["text"] for m in top_level(fake_slack.messages(ONCALL_CHANNEL))] == [
        f"FIRING: the newest backup of orders-prod is 1d 6h old (max 1d 2h) {MENTION}"
    ]

    result = await sweep.run(now=NOW + timedelta(minutes=15))
    assert [a.cluster_id for a in result.posted] == [IDS.never]


async def test_new_incidents_are_re_read_together_and_posted_in_cluster_order(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    # new-cluster comes first (clusters go by name), but its re-read is slow: the first
    # Cluster.get answers 503 after 300 ms and the retry gets through. orders-prod's is quick.
    sim.inject_fault(rf"/clusters/{IDS.never}$", 503, times=1, delay=0.3, method="GET")

    result = await sweeper(cloud, store, notifier, config).run(now=NOW)

    # orders-prod was re-read while new-cluster's re-read was still waiting...
    listings = [r.path for r in sim.requests if r.path.endswith("/backups")]
    last = {
        cluster_id: max(i for i, p in enumerate(listings) if cluster_id in p)
        for cluster_id in (IDS.stale, IDS.never)
    }
    assert last[IDS.stale] < last[IDS.never]
    # ...yet the alerts went out in the reading's order, each once.
    assert [(a.kind, a.cluster_id) for a in result.actions] == [
        (SweepActionKind.POST_ALERT, IDS.never),
        (SweepActionKind.POST_ALERT, IDS.stale),
    ]
    names = ("new-cluster", "orders-prod")
    assert [next(n for n in names if n in p["text"]) for p in posts(fake_slack)] == list(names)


async def test_a_sweep_reads_a_routes_incidents_in_one_query_and_rewrites_none_unchanged(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    await sweep.run(now=NOW)
    before = await store.list_alerts()
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if " alerts" in statement:
            statements.append(statement.split()[0].upper())

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        again = await sweep.run(now=NOW + timedelta(minutes=15))
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)

    assert again.actions == ()
    assert statements == ["SELECT"]  # the route's incidents, all at once; no writes
    assert await store.list_alerts() == before  # versions included


async def test_a_stopped_cluster_is_reported_as_stopped_and_resolves_its_alert(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    await sweep.run(now=NOW)
    orders = alert_of(fake_slack, "orders-prod")

    sim.stop_cluster(IDS.stale)
    result = await sweep.run(now=NOW + timedelta(minutes=15))

    assert [a.kind for a in result.actions] == [
        SweepActionKind.UPDATE_ALERT,
        SweepActionKind.POST_RESOLVED,
    ]
    [notice] = replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"])
    assert notice["text"].startswith(":white_check_mark: Resolved: cluster stopped. ")
    assert "stopped" in alert_of(fake_slack, "orders-prod")["blocks"][0]["text"]["text"]
    # The long-stopped archive cluster never had an alert.
    assert "archive" not in str(fake_slack.messages())


async def test_a_removed_snapshot_schedule_is_reported_not_alerted(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    await sweep.run(now=NOW)
    orders = alert_of(fake_slack, "orders-prod")

    sim.fleet.clusters[IDS.stale].schedule = None
    await sweep.run(now=NOW + timedelta(minutes=15))

    notice = replies(fake_slack.messages(ONCALL_CHANNEL), orders["ts"])[-1]
    assert notice["text"].startswith(
        ":white_check_mark: Resolved: the snapshot schedule of *orders-prod* was removed"
    )


async def test_a_blind_bot_alerts_about_itself_once_and_says_once_when_it_sees_again(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
) -> None:
    config = make_config(sweep={"every": "15m", "blind_after": 3})
    sweep = sweeper(cloud, store, notifier, config)
    await sweep.run(now=NOW)  # a good sweep: two alerts
    fake_slack.calls.clear()
    sim.inject_fault(r"^/managed-opensearch/", 503, times=None)

    results = [await sweep.run(now=NOW + timedelta(minutes=15 * i)) for i in range(1, 6)]

    assert [r.blind for r in results] == [True] * 5
    assert [r.consecutive_failures for r in results] == [1, 2, 3, 4, 5]
    assert [len(r.actions) for r in results] == [0, 0, 1, 0, 0]
    [self_alert] = posts(fake_slack)
    assert self_alert["channel"] == ONCALL_CHANNEL
    assert "could not read the cloud for 3 sweeps in a row" in self_alert["text"]
    assert await store.get_fact(FACT_SELF_ALERT)

    sim.clear_faults()
    back = await sweep.run(now=NOW + timedelta(minutes=90))
    again = await sweep.run(now=NOW + timedelta(minutes=105))

    assert not back.blind
    assert [a.kind for a in back.actions] == [SweepActionKind.POST_SELF_RECOVERED]
    assert again.actions == ()
    ts = back.actions[0].thread_ts
    [recovered] = [p for p in posts(fake_slack) if p.get("thread_ts") == ts]
    assert "can read the cloud again after 1h 30m" in recovered["text"]
    assert await store.get_fact(FACT_SELF_ALERT) == ""


async def test_a_dry_run_shows_the_self_alert_the_next_blind_sweep_would_post(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
) -> None:
    config = make_config(sweep={"every": "15m", "blind_after": 3})
    sweep = sweeper(cloud, store, notifier, config)
    sim.inject_fault(r"^/managed-opensearch/", 503, times=None)
    for i in range(2):
        await sweep.run(now=NOW + timedelta(minutes=15 * i))
    fake_slack.calls.clear()

    dry = await sweep.run(now=NOW + timedelta(minutes=30), dry_run=True)

    assert dry.blind
    assert dry.consecutive_failures == 3
    assert [a.kind for a in dry.actions] == [SweepActionKind.POST_SELF_ALERT]
    assert "would post 1 self-alert(s)" in dry.summary()
    assert posts(fake_slack) == []  # a dry run posts nothing and counts nothing
    assert await store.sweep_failures() == 2
    assert not await store.get_fact(FACT_SELF_ALERT)

    real = await sweep.run(now=NOW + timedelta(minutes=30))
    assert [a.kind for a in real.actions] == [SweepActionKind.POST_SELF_ALERT]
    assert "posted 1 self-alert(s)" in real.summary()
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
    await before.close()

    after = await open_store()
    result = await sweeper(cloud, after, notifier, config, owner="restarted").run(
        now=NOW + timedelta(minutes=15)
    )

    assert result.actions == ()
    assert len(posts(fake_slack)) == 2


async def test_a_failed_slack_post_marks_nothing_and_the_next_sweep_posts_once(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    # Each post is tried three times (two retries of a 500): both alerts fail for good.
    fake_slack.fail_next("chat.postMessage", status=500, retry_after=None, times=6)
    sweep = sweeper(cloud, store, notifier, config)

    failed = await sweep.run(now=NOW)

    assert not failed.ok
    assert [a.error is not None for a in failed.actions] == [True, True]
    assert len(fake_slack.rejected) == 6
    assert fake_slack.messages() == []
    assert await store.list_alerts(open_only=True) == []

    retried = await sweep.run(now=NOW + timedelta(minutes=15))
    again = await sweep.run(now=NOW + timedelta(minutes=30))

    assert retried.ok
    assert len(retried.posted) == 2
    assert again.actions == ()
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 2


async def test_a_failed_reminder_is_tried_again_at_the_next_sweep(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
) -> None:
    config = make_config(watch={"folders": [], "clusters": [IDS.stale]})
    sweep = sweeper(cloud, store, notifier, config)
    await sweep.run(now=NOW)
    fake_slack.fail_next("chat.postMessage", status=500, retry_after=None, times=3)

    failed = await sweep.run(now=NOW + timedelta(hours=4))
    retried = await sweep.run(now=NOW + timedelta(hours=4, minutes=15))

    assert [a.kind for a in failed.failed] == [SweepActionKind.POST_REMINDER]
    assert [a.kind for a in retried.reminded] == [SweepActionKind.POST_REMINDER]
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
    assert [(a.kind, a.channel, a.cluster_id) for a in result.actions] == [
        (SweepActionKind.POST_ALERT, ONCALL_CHANNEL, IDS.never),
        (SweepActionKind.POST_ALERT, ONCALL_CHANNEL, IDS.stale),
    ]
    assert result.actions[1].message.text.startswith("FIRING: the newest backup of orders-prod")
    assert fake_slack.calls == []
    assert await store.list_alerts() == []
    assert not await store.run_finished(slot_key(NOW, config.sweep.every))


async def test_a_second_replica_in_the_same_slot_does_nothing(
    sim: SimCloud,
    cloud: CloudClient,
    open_store: OpenStore,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    metrics = Metrics()
    first = sweeper(cloud, await open_store(), notifier, config, owner="a", metrics=metrics)
    second = sweeper(cloud, await open_store(), notifier, config, owner="b", metrics=metrics)

    ran = await first.run(now=NOW + timedelta(minutes=1))
    skipped = await second.run(now=NOW + timedelta(minutes=7))

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
) -> None:
    scheduled = await sweeper(cloud, store, notifier, config, owner="a").run(now=NOW)
    by_hand = await sweeper(cloud, store, notifier, config, owner="b").run(
        now=NOW + timedelta(minutes=3), manual=True
    )

    assert len(scheduled.posted) == 2
    assert by_hand.skipped is None
    assert by_hand.clusters == scheduled.clusters
    assert by_hand.actions == ()
    assert len(posts(fake_slack)) == 2


async def test_an_incident_reserved_by_a_writer_that_died_is_posted_after_a_lease(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
) -> None:
    config = make_config(watch={"folders": [], "clusters": [IDS.stale]})
    route = alert_route_key(config.alerts[0])
    # What a replica killed between reserving the incident and posting it leaves behind.
    orphan = AlertEntry(
        cluster_id=IDS.stale,
        route_key=route,
        status=AlertStatus.FIRING,
        channel=ONCALL_CHANNEL,
        opened_at=NOW,
        last_notified_at=NOW,
    )
    assert await store.save_alert(orphan) is not None
    sweep = sweeper(cloud, store, notifier, config)

    early = await sweep.run(now=NOW + timedelta(minutes=1))  # it may still be posting: wait
    late = await sweep.run(now=NOW + timedelta(minutes=15))

    assert early.actions == ()
    assert [a.kind for a in late.actions] == [SweepActionKind.POST_ALERT]
    entry = await store.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.message_ts == alert_of(fake_slack, "orders-prod")["ts"]


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
        ": 5 clusters read, 2 alert(s) would post, 0 update(s), 0 reminder(s), 0 resolved"
    )
    assert "# post alert for c9qordersprod0000001 in C0ONCALL [new_incident]" in out
    assert "orders-prod" in out
    assert fake_slack.calls == []


@pytest.mark.usefixtures("cli_env")
async def test_the_sweep_verb_posts_once_and_prints_a_line_per_action(
    fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("sweep") == 0
    first = capsys.readouterr().out.splitlines()

    assert first[:2] == [  # clusters by name: new-cluster, orders-prod
        "post alert for c9qnewcluster0000004 in C0ONCALL [new_incident]",
        "post alert for c9qordersprod0000001 in C0ONCALL [new_incident]",
    ]
    # Run by hand again at once: it does sweep (the verb is not bound to the scheduled slot),
    # and the open incidents get no second alert.
    assert await run_cli("sweep", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["skipped"] is None
    assert again["actions"] == []
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


@pytest.mark.usefixtures("cli_env")
async def test_the_sweep_verb_dry_run_json_prints_slack_payloads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_cli("sweep", "--dry-run", "--json") == 0

    result = json.loads(capsys.readouterr().out)
    payloads = [action["payload"] for action in result["actions"]]
    assert [p["channel"] for p in payloads] == [ONCALL_CHANNEL, ONCALL_CHANNEL]
    assert payloads[1]["text"].startswith("FIRING: the newest backup of orders-prod")
    assert payloads[1]["blocks"][0]["type"] == "section"


async def test_the_sweep_verb_exits_1_when_the_cloud_cannot_be_read(
    cli_env: SimCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.inject_fault(r"^/managed-opensearch/", 403, times=None)

    assert await run_cli("sweep") == 1
    assert "BLIND (1 failed sweep(s) in a row)" in capsys.readouterr().err


async def test_a_sweep_longer_than_its_lease_keeps_its_claim(
    cloud: CloudClient,
    open_store: OpenStore,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    sim: SimCloud,
) -> None:
    sim.config = replace(sim.config, latency=0.3)  # about 1.5 s of reading: longer than 1 s
    config = make_config(sweep={"every": "1d", "lease": "1s"})
    slow = sweeper(cloud, await open_store(), notifier, config, owner="slow")
    started = clock.now()
    running = asyncio.create_task(slow.run(now=started))
    await asyncio.sleep(1.2)

    other = await sweeper(cloud, await open_store(), notifier, config, owner="other").run(
        now=clock.now()
    )
    done = await running

    assert other.skipped == SKIPPED_CLAIM
    assert done.skipped is None
    assert (clock.now() - started).total_seconds() > 1.0
    assert len(posts(fake_slack)) == len(done.posted) > 0  # all of them by the slow one


async def test_an_alert_of_a_cluster_that_left_the_route_is_resolved_not_left_open(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    route = alert_route_key(config.alerts[0])
    await sweep.run(now=NOW)
    alert = alert_of(fake_slack, "orders-prod")

    # orders-prod is moved to PRESTABLE: the PRODUCTION route no longer watches it.
    sim.fleet.clusters[IDS.stale].environment = "PRESTABLE"
    result = await sweep.run(now=NOW + timedelta(minutes=15))

    assert [(a.kind, a.cluster_id) for a in result.actions] == [
        (SweepActionKind.UPDATE_ALERT, IDS.stale),
        (SweepActionKind.POST_RESOLVED, IDS.stale),
    ]
    updated = next(m for m in fake_slack.messages() if m["ts"] == alert["ts"])
    assert "is no longer watched here" in updated["text"]
    assert not has_buttons(updated)
    thread = [m for m in fake_slack.messages() if m.get("thread_ts") == alert["ts"]]
    assert len(thread) == 1
    entry = await store.get_alert(IDS.stale, route)
    assert entry is not None
    assert entry.status is AlertStatus.RESOLVED
    # The other incident is untouched, and a further sweep changes nothing.
    assert (await store.get_alert(IDS.never, route)).status is AlertStatus.FIRING  # type: ignore[union-attr]
    again = await sweep.run(now=NOW + timedelta(minutes=30))
    assert again.actions == ()


async def test_an_unreadable_folder_resolves_none_of_its_clusters_alerts(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
) -> None:
    config = make_config(watch={"folders": [FOLDER, OTHER_FOLDER]})
    sweep = sweeper(cloud, store, notifier, config)
    await sweep.run(now=NOW)
    route = alert_route_key(config.alerts[0])
    assert (await store.get_alert(IDS.other, route)) is not None
    calls = len(fake_slack.calls)

    # The other folder cannot be listed any more (403), while the first still can: its
    # clusters are not seen, but that is no news of their being gone.
    sim.fleet.folders = [f for f in sim.fleet.folders if f.id != OTHER_FOLDER]
    result = await sweep.run(now=NOW + timedelta(minutes=15))

    assert result.fleet_errors
    assert result.actions == ()
    assert len(fake_slack.calls) == calls
    entry = await store.get_alert(IDS.other, route)
    assert entry is not None
    assert entry.status.is_open
