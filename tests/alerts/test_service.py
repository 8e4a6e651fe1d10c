"""The watcher's side of the commands and buttons, against the simulated cloud and fake Slack.

A click commits the incident with the update of its message; the delivery executor sends it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url

from bot import clock
from bot.alerts.model import AlertStatus
from bot.alerts.sweep import Sweeper, alert_route_key
from bot.app.wiring import Features
from bot.backup.service import backup_idempotency_key
from bot.chat.actions import Invocation
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.server import SimCloud
from bot.errors import NotFound, UsageError
from bot.outbox.change import OutboxState
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.posts import PostKind
from bot.slack.blocks import SLACK
from bot.slack.notifier import SlackNotifier
from bot.store import Store, db
from tests.world import (
    CONSOLE_URL,
    FOLDER,
    IDS,
    NOW,
    ONCALL_CHANNEL,
    deliver,
    deliver_with,
    make_cloud,
    make_config,
    make_features,
    make_fleet,
    replies,
    seed_backups,
    top_level,
)

WHO = Invocation(user_id="U0BOB", channel_id=ONCALL_CHANNEL)


def make_service(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    config: BotConfig,
    *,
    owner: str = "replica-a",
) -> Features:
    return make_features(cloud, store, config, owner=owner)


@pytest.fixture
async def watch(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> AsyncIterator[Features]:
    service = make_service(cloud, store, notifier, config)
    yield service
    await service.backups.aclose()


async def sweep_now(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig, *, minutes: int
) -> None:
    """A sweep at NOW + ``minutes``, and what it queued delivered."""
    sweeper = Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="sweeper")
    await sweeper.run(now=NOW + timedelta(minutes=minutes))
    await deliver_with(store, notifier, owner="sweeper")


async def test_clusters_view_shows_the_watched_folder_with_each_state(
    sim: SimCloud, watch: Features
) -> None:
    message = await watch.queries.clusters_view(None, now=NOW)

    # The folder by its name (Folder.get), its id in the context line.
    assert message.text.startswith("Clusters in watched: ")
    shown = str(SLACK.render(message)["blocks"])
    assert f"watched: folder id `{FOLDER}`" in shown
    for name in ("orders-prod", "logs-prod", "archive", "new-cluster", "search-pre"):
        assert name in shown
    assert "elsewhere" not in shown
    assert "stopped" in message.text


async def test_clusters_view_refuses_a_folder_the_bot_does_not_show(
    sim: SimCloud, watch: Features
) -> None:
    with pytest.raises(NotFound):
        await watch.queries.clusters_view("b1gnotshown000000009", now=NOW)


async def test_status_view_builds_the_digest_for_one_cluster_by_name(
    sim: SimCloud, watch: Features
) -> None:
    message = await watch.queries.status_view("orders-prod", now=NOW)

    text = str(SLACK.render(message)["blocks"])
    assert "orders-prod" in text
    assert "logs-prod" not in text
    # One cluster: no fleet counts ("1 cluster: 0 fresh · 1 stale ..."), and no alert yet.
    assert "1 cluster" not in text
    assert "0 fresh" not in text
    assert "alert_ack" not in text


async def test_status_of_a_cluster_with_an_open_alert_offers_the_alerts_buttons(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    config: BotConfig,
    watch: Features,
) -> None:
    await sweep_now(cloud, store, notifier, config, minutes=0)
    message = SLACK.render(await watch.queries.status_view("orders-prod", now=NOW))
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in buttons][:2] == ["alert_ack", "alert_snooze_4h"]
    route = alert_route_key(config.alerts[0])
    assert {"c": IDS.stale, "r": route} == json.loads(buttons[0]["value"])


async def test_status_view_of_everything_watched_puts_problems_first(
    sim: SimCloud, watch: Features
) -> None:
    message = await watch.queries.status_view(None, now=NOW)

    text = str(SLACK.render(message)["blocks"])
    for name in ("orders-prod", "logs-prod", "archive", "new-cluster"):
        assert name in text
    assert text.index("new-cluster") < text.index("logs-prod")


async def test_snoozing_a_cluster_without_an_open_alert_says_so(
    sim: SimCloud, watch: Features
) -> None:
    with pytest.raises(UsageError, match="logs-prod has no open alert to snooze"):
        await watch.alerts.snooze("logs-prod", timedelta(hours=4), user="U0BOB", now=NOW)


async def test_snooze_and_unsnooze_update_the_alert_in_place(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    watch: Features,
    executor: DeliveryExecutor,
) -> None:
    await sweep_now(cloud, store, notifier, config, minutes=0)
    route = alert_route_key(config.alerts[0])

    await watch.alerts.snooze(IDS.stale, timedelta(hours=4), user="U0BOB", now=NOW)
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert (entry.status, entry.snoozed_by) == (AlertStatus.SNOOZED, "U0BOB")
    # Committed with the update of the alert message, which waits for the executor.
    [queued] = await store.outbox.list_posts(states=OutboxState.OPEN)
    assert (queued.kind, queued.parent_id) == (PostKind.ALERT_UPDATE, entry.message_id)
    await deliver(executor)
    assert fake_slack.calls_to("chat.update")[-1].args["text"].startswith("SNOOZED: ")

    fake_slack.calls.clear()
    reply = await watch.alerts.unsnooze("orders-prod", user="U0BOB", now=NOW + timedelta(minutes=5))
    await deliver(executor)

    assert reply.text == "Alerts for `orders-prod` are back on."
    [update] = fake_slack.calls_to("chat.update")
    assert update.args["ts"] == entry.message_ts
    assert update.args["text"].startswith("FIRING: ")
    with pytest.raises(UsageError, match="not snoozed"):
        await watch.alerts.unsnooze("orders-prod", user="U0BOB", now=NOW + timedelta(minutes=6))


async def test_two_clicks_on_acknowledge_change_the_alert_once(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    watch: Features,
    executor: DeliveryExecutor,
) -> None:
    await sweep_now(cloud, store, notifier, config, minutes=0)
    route = alert_route_key(config.alerts[0])
    fake_slack.calls.clear()

    first = await watch.alerts.acknowledge(IDS.stale, route, user="U0ALICE", now=NOW)
    second = await watch.alerts.acknowledge(IDS.stale, route, user="U0BOB", now=NOW)
    await deliver(executor)

    assert first.text.startswith("Acknowledged the alert for `orders-prod`")
    assert "already acknowledged by U0ALICE" in second.text
    assert len(fake_slack.calls_to("chat.update")) == 1


async def test_the_unacknowledge_button_gives_the_alert_back_firing_with_acknowledge_again(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    watch: Features,
    executor: DeliveryExecutor,
) -> None:
    await sweep_now(cloud, store, notifier, config, minutes=0)
    route = alert_route_key(config.alerts[0])
    await watch.alerts.acknowledge(IDS.stale, route, user="U0ALICE", now=NOW)
    await deliver(executor)

    def alert_buttons() -> dict[str, str]:
        [alert] = [m for m in top_level(fake_slack.messages(ONCALL_CHANNEL)) if IDS.stale in str(m)]
        return {
            e["action_id"]: e["value"]
            for b in alert["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        }

    assert "alert_unack" in alert_buttons()
    assert "alert_ack" not in alert_buttons()
    at = NOW + timedelta(minutes=2)
    reply = await watch.router.run_action(
        "alert_unack", alert_buttons()["alert_unack"], WHO, now=at
    )
    await deliver(executor)

    assert reply.messages[0].text.startswith("Unacknowledged the alert for `orders-prod`")
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert (entry.status, entry.acknowledged_by, entry.last_notified_at) == (
        AlertStatus.FIRING,
        None,
        at,
    )
    assert "alert_ack" in alert_buttons()
    again = await watch.router.run_action("alert_unack", alert_buttons()["alert_ack"], WHO, now=at)
    assert "is not acknowledged; nothing to undo" in again.messages[0].text


async def test_the_snooze_button_silences_one_incident_and_a_resolved_one_cannot_be(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    config: BotConfig,
    watch: Features,
) -> None:
    await sweep_now(cloud, store, notifier, config, minutes=0)
    route = alert_route_key(config.alerts[0])

    reply = await watch.alerts.snooze_alert(
        IDS.never, route, timedelta(hours=24), user="U0BOB", now=NOW
    )

    assert reply.text == "Snoozed alerts for `new-cluster` until 2026-03-03 09:00 UTC."
    sim.add_backup(IDS.stale, created_at=NOW + timedelta(minutes=20))
    await sweep_now(cloud, store, notifier, config, minutes=30)
    with pytest.raises(UsageError, match="no longer open"):
        await watch.alerts.snooze_alert(IDS.stale, route, timedelta(hours=4), user="U0BOB", now=NOW)


async def test_the_unsnooze_button_on_a_snoozed_alert_wakes_it_up(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    watch: Features,
    executor: DeliveryExecutor,
) -> None:
    await sweep_now(cloud, store, notifier, config, minutes=0)
    route = alert_route_key(config.alerts[0])

    def buttons() -> dict[str, str]:
        [alert] = [m for m in top_level(fake_slack.messages(ONCALL_CHANNEL)) if IDS.stale in str(m)]
        return {
            e["action_id"]: e["value"]
            for b in alert["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        }

    assert "alert_unsnooze" not in buttons()  # only a snoozed alert offers it
    await watch.router.run_action("alert_snooze_4h", buttons()["alert_snooze_4h"], WHO, now=NOW)
    await deliver(executor)
    assert "alert_unsnooze" in buttons()

    at = NOW + timedelta(minutes=3)
    value = buttons()["alert_unsnooze"]
    reply = await watch.router.run_action("alert_unsnooze", value, WHO, now=at)
    await deliver(executor)

    assert reply.messages[0].text == "Alerts for `orders-prod` are back on."
    entry = await store.incidents.get_alert(IDS.stale, route)
    assert entry is not None
    assert (entry.status, entry.snoozed_until, entry.snoozed_by) == (AlertStatus.FIRING, None, None)
    assert "alert_unsnooze" not in buttons()
    again = await watch.router.run_action("alert_unsnooze", value, WHO, now=at)
    assert "is not snoozed" in again.messages[0].text


@pytest.fixture
async def quick_sim() -> AsyncIterator[SimCloud]:
    """The same fleet, with backups that finish 0.3 s after they are started."""
    sim = SimCloud(SimConfig(backup_duration=0.3), make_fleet())
    seed_backups(sim)
    await sim.start()
    yield sim
    await sim.stop()


async def test_a_double_click_starts_one_backup_which_is_followed_to_the_thread(
    quick_sim: SimCloud,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    cloud = make_cloud(quick_sim)
    watch = make_service(cloud, store, notifier, config)
    try:
        await sweep_now(cloud, store, notifier, config, minutes=0)
        alert = next(
            m for m in top_level(fake_slack.messages(ONCALL_CHANNEL)) if "orders" in m["text"]
        )
        now = clock.now()
        clicks = [
            await watch.backups.start(
                IDS.stale, user="U0ALICE", channel=ONCALL_CHANNEL, thread_ts=alert["ts"], now=now
            )
            for _ in range(2)
        ]
        [operation_id] = list(quick_sim.operations)
        assert clicks[0].text == f"Started a backup of `orders-prod` (operation `{operation_id}`)."
        # The second click is answered with the backup the first one started.
        assert clicks[1].text.startswith(
            f"A backup of `orders-prod` was started 0s ago (operation `{operation_id}`), so I did "
            "not start another"
        )
        await watch.backups.follower.wait()
        await deliver(executor)

        [reply] = replies(fake_slack.messages(ONCALL_CHANNEL), alert["ts"])
        assert reply["text"].startswith(
            ":white_check_mark: The backup of *orders-prod* that <@U0ALICE> started is done"
        )
        assert await store.operations.list_pending_operations() == []

        # The next sweep sees the new backup and resolves the alert.
        sweeper = Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="s")
        result = await sweeper.run(now=NOW + timedelta(minutes=15))
        assert PostKind.RESOLVED in [p.kind for p in result.posts]
    finally:
        await watch.backups.aclose()
        await cloud.aclose()


async def test_a_backup_confirmed_from_a_command_reports_in_the_open_alerts_thread(
    quick_sim: SimCloud,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    cloud = make_cloud(quick_sim)
    allowed = config.model_copy(
        update={
            "access": make_config(
                access={"rules": [{"commands": ["backup"], "users": ["U0ALICE"]}]}
            ).access
        }
    )
    watch = make_service(cloud, store, notifier, allowed)
    try:
        await sweep_now(cloud, store, notifier, config, minutes=0)
        alert = next(
            m for m in top_level(fake_slack.messages(ONCALL_CHANNEL)) if "orders" in m["text"]
        )
        # Typed in the team's channel: /backups backup orders-prod, then Start backup.
        team = Invocation(user_id="U0ALICE", channel_id="C0TEAM")
        asked = await watch.router.run("backup orders-prod", team, now=clock.now())
        assert "Start a backup of orders-prod now?" in asked.messages[0].text
        started = await watch.router.run_action("backup_confirm", IDS.stale, team, now=clock.now())
        assert started.messages[0].text.startswith("Started a backup of `orders-prod`")
        await watch.backups.follower.wait()
        await deliver(executor)

        [reply] = replies(fake_slack.messages(ONCALL_CHANNEL), alert["ts"])
        assert reply["text"].startswith(
            ":white_check_mark: The backup of *orders-prod* that <@U0ALICE> started is done"
        )
        assert fake_slack.messages("C0TEAM") == []  # not a top-level post where it was typed
    finally:
        await watch.backups.aclose()
        await cloud.aclose()


async def test_the_idempotency_key_is_per_cluster_person_and_minute() -> None:
    key = backup_idempotency_key(IDS.stale, "U0ALICE", NOW)

    assert key == backup_idempotency_key(IDS.stale, "U0ALICE", NOW + timedelta(seconds=59))
    assert key != backup_idempotency_key(IDS.stale, "U0ALICE", NOW + timedelta(minutes=1))
    assert key != backup_idempotency_key(IDS.stale, "U0BOB", NOW)
    assert key != backup_idempotency_key(IDS.fresh, "U0ALICE", NOW)


async def test_a_restart_keeps_following_a_started_backup(
    quick_sim: SimCloud,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    cloud = make_cloud(quick_sim)
    try:
        before = make_service(cloud, store, notifier, config, owner="before")
        await before.backups.start(
            "logs-prod", user="U0BOB", channel=ONCALL_CHANNEL, thread_ts=None, now=clock.now()
        )
        await before.backups.aclose()  # shut down before the operation is done
        assert await store.outbox.list_posts() == []
        assert fake_slack.messages() == []
        assert len(await store.operations.list_pending_operations()) == 1

        after = make_service(cloud, store, notifier, config, owner="after")
        resumed = await after.backups.resume(clock.now())
        await after.backups.follower.wait()
        await after.backups.aclose()
        await deliver(executor)

        assert resumed == list(quick_sim.operations)
        [report] = fake_slack.messages(ONCALL_CHANNEL)
        assert "The backup of *logs-prod* that <@U0BOB> started is done" in report["text"]
        assert await store.operations.list_pending_operations() == []
    finally:
        await cloud.aclose()


async def test_a_snooze_while_the_database_is_locked_says_so_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
    sim: SimCloud,
    cloud: CloudClient,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    sqlite_url: str,
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)  # fail in 200 ms, not 30 s
    store = await Store.open(sqlite_url)
    service = make_service(cloud, store, notifier, config)
    dispatcher = service.router
    try:
        await sweep_now(cloud, store, notifier, config, minutes=0)
        route = alert_route_key(config.alerts[0])
        fake_slack.calls.clear()

        path = make_url(sqlite_url).database
        assert path is not None
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        try:
            reply = await dispatcher.run("snooze orders-prod 4h", WHO, now=NOW)
        finally:
            blocker.close()

        assert not reply.ok
        text = SLACK.render(reply.messages[0])["text"]
        assert "My database is not answering right now, so nothing was changed." in text
        assert "error id" not in text
        assert (
            await store.outbox.list_posts(states=OutboxState.OPEN) == []
        )  # no update queued either
        await deliver_with(store, notifier)
        assert fake_slack.calls_to("chat.update") == []
        entry = await store.incidents.get_alert(IDS.stale, route)
        assert entry is not None
        assert entry.status is AlertStatus.FIRING

        again = await dispatcher.run("snooze orders-prod 4h", WHO, now=NOW)
        await deliver_with(store, notifier)
        assert again.ok
        assert len(fake_slack.calls_to("chat.update")) == 1
    finally:
        await service.backups.aclose()
        await store.close()
