"""The alert's life on the real clock path: freezegun moves time, and everything reads it the way
production does (``bot.clock.now()`` at each sweep and each button click), as the scheduler and
the Slack handlers do. The buttons are pressed with the values the bot itself rendered. What the
sweeps and clicks queue is delivered by the executor, on the same frozen clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun import freeze_time

from bot import clock
from bot.alerts.model import AlertStatus
from bot.alerts.sweep import Sweeper, alert_route_key
from bot.chat.actions import Invocation
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.server import SimCloud
from bot.outbox.executor import DeliveryExecutor
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.world import (
    CONSOLE_URL,
    IDS,
    NOW,
    ONCALL_CHANNEL,
    alert_of,
    deliver,
    make_features,
    replies,
    subject,
    sweep_and_deliver,
)

ONCALLER = Invocation(user_id="U0ONCALL1", channel_id=ONCALL_CHANNEL)


def _button(message: dict[str, Any], action_id: str) -> str:
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    return str(next(e["value"] for e in actions["elements"] if e["action_id"] == action_id))


async def test_an_alert_fires_reminds_is_snoozed_from_its_button_wakes_and_resolves(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    common = {"console_url": CONSOLE_URL, "owner": "replica-a"}
    sweeper = Sweeper(cloud, store, config, **common)
    watch = make_features(cloud, store, config)
    dispatcher = watch.router
    route = alert_route_key(config.alerts[0])

    with freeze_time(NOW, real_asyncio=True) as frozen:
        # Monday 09:00: orders-prod's newest backup is 30 h old: one alert.
        await sweep_and_deliver(sweeper, executor, now=clock.now())
        alert = alert_of(fake_slack, "orders-prod")
        assert alert["text"].startswith("FIRING: ")

        # 13:00, after the route's 4 h: a reminder in its thread.
        frozen.tick(timedelta(hours=4))
        await sweep_and_deliver(sweeper, executor, now=clock.now())
        assert len(replies(fake_slack.messages(ONCALL_CHANNEL), alert["ts"])) == 1

        # 13:02: on-call presses "Snooze 4 h" on the alert: it says so in place.
        frozen.tick(timedelta(minutes=2))
        value = _button(alert, "alert_snooze_4h")
        reply = await dispatcher.run_action("alert_snooze_4h", value, ONCALLER, now=clock.now())
        await deliver(executor)
        assert reply.ok, reply
        assert alert_of(fake_slack, "orders-prod")["text"].startswith("SNOOZED: ")
        entry = await store.incidents.get_alert(IDS.stale, route)
        assert entry is not None
        assert entry.snoozed_until == NOW + timedelta(hours=8, minutes=2)

        # 17:00: still snoozed, nothing is said.
        frozen.tick(timedelta(hours=3, minutes=58))
        quiet = await sweep_and_deliver(sweeper, executor, now=clock.now())
        assert [p for p in quiet.posts if subject(p) == IDS.stale] == []
        assert len(replies(fake_slack.messages(ONCALL_CHANNEL), alert["ts"])) == 1

        # 17:15: the snooze ran out and the backup is still missing: FIRING again, reminded.
        frozen.tick(timedelta(minutes=15))
        await sweep_and_deliver(sweeper, executor, now=clock.now())
        assert alert_of(fake_slack, "orders-prod")["text"].startswith("FIRING: ")
        assert len(replies(fake_slack.messages(ONCALL_CHANNEL), alert["ts"])) == 2

        # 17:20 a backup lands; the 17:30 sweep resolves the alert, once.
        frozen.tick(timedelta(minutes=5))
        sim.add_backup(IDS.stale, created_at=clock.now())
        frozen.tick(timedelta(minutes=10))
        await sweep_and_deliver(sweeper, executor, now=clock.now())
        resolved = alert_of(fake_slack, "orders-prod")
        assert resolved["text"].startswith("RESOLVED: ")
        notice = replies(fake_slack.messages(ONCALL_CHANNEL), alert["ts"])[-1]
        # Stale from Monday 05:00 (30 h old at 09:00, max 1d 2h) to the backup at 17:20.
        assert notice["text"].endswith("went without a fresh backup for 12h 20m.")
        entry = await store.incidents.get_alert(IDS.stale, route)
        assert entry is not None
        assert entry.status is AlertStatus.RESOLVED

        frozen.tick(timedelta(minutes=15))
        again = await sweep_and_deliver(sweeper, executor, now=clock.now())
        assert [p for p in again.posts if subject(p) == IDS.stale] == []
    await watch.backups.aclose()
