"""A cluster is backed up at most once per ``limits.backup_every`` (10 minutes), whoever asks,
and whichever replica they reach: asking again sooner is answered with the running operation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot import clock
from bot.app.wiring import Features
from bot.chat.actions import Invocation
from bot.chat.card import Buttons
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.server import SimCloud
from bot.errors import UsageError
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.store.conftest import OpenStore
from tests.world import (
    IDS,
    NOW,
    ONCALL_CHANNEL,
    make_cloud,
    make_config,
    make_features,
    make_fleet,
    seed_backups,
)


@pytest.fixture
async def slow_backups() -> AsyncIterator[SimCloud]:
    """Backups that run for a minute: still running when someone asks again."""
    sim = SimCloud(SimConfig(backup_duration=60.0), make_fleet())
    seed_backups(sim)
    await sim.start()
    yield sim
    await sim.stop()


def _service(
    sim: SimCloud, store: Store, notifier: SlackNotifier, config: BotConfig, owner: str
) -> tuple[Features, CloudClient]:
    cloud = make_cloud(sim)
    service = make_features(cloud, store, config, owner=owner)
    return service, cloud


async def test_a_second_person_within_ten_minutes_gets_the_running_backup_not_another(
    slow_backups: SimCloud, store: Store, notifier: SlackNotifier, config: BotConfig
) -> None:
    watch, cloud = _service(slow_backups, store, notifier, config, "a")
    try:
        first = await watch.backups.start(
            IDS.stale, user="U0ALICE", channel=ONCALL_CHANNEL, thread_ts=None, now=NOW
        )
        again = await watch.backups.start(
            IDS.stale,
            user="U0BOB",
            channel=ONCALL_CHANNEL,
            thread_ts=None,
            now=NOW + timedelta(minutes=9, seconds=59),
        )
        [operation_id] = list(slow_backups.operations)
        assert first.text == f"Started a backup of `orders-prod` (operation `{operation_id}`)."
        assert again.text == (
            f"A backup of `orders-prod` was started 9m 59s ago (operation `{operation_id}`), so I "
            "did not start another: one backup per cluster every 10m. Ask again after "
            "2026-03-02 09:10 UTC if you need one."
        )
        # Another cluster is not held back by it.
        other = await watch.backups.start(
            IDS.fresh, user="U0BOB", channel=ONCALL_CHANNEL, thread_ts=None, now=NOW
        )
        assert other.text.startswith("Started a backup of `logs-prod`")
        assert len(slow_backups.operations) == 2
    finally:
        await watch.backups.aclose()
        await cloud.aclose()


async def test_after_ten_minutes_a_new_backup_may_start(
    slow_backups: SimCloud, store: Store, notifier: SlackNotifier, config: BotConfig
) -> None:
    watch, cloud = _service(slow_backups, store, notifier, config, "a")
    try:
        for minutes in (0, 10):
            reply = await watch.backups.start(
                IDS.stale,
                user="U0ALICE",
                channel=ONCALL_CHANNEL,
                thread_ts=None,
                now=NOW + timedelta(minutes=minutes),
            )
            assert reply.text.startswith("Started a backup of `orders-prod`"), reply.text
        assert len(slow_backups.operations) == 2
    finally:
        await watch.backups.aclose()
        await cloud.aclose()


async def test_a_backup_another_replica_started_holds_this_one_back(
    slow_backups: SimCloud, open_store: OpenStore, notifier: SlackNotifier, config: BotConfig
) -> None:
    store_a, store_b = await open_store(), await open_store()
    replica_a, cloud_a = _service(slow_backups, store_a, notifier, config, "a")
    replica_b, cloud_b = _service(slow_backups, store_b, notifier, config, "b")
    # Today, not the fixed NOW: replica a's follower gives up on an operation requested longer
    # ago than its patience by the clock, and a follower that gave up before replica b asked
    # (a race the test once lost under load) no longer holds b back.
    now = clock.now()
    try:
        await replica_a.backups.start(
            IDS.stale, user="U0ALICE", channel=ONCALL_CHANNEL, thread_ts=None, now=now
        )
        reply = await replica_b.backups.start(
            IDS.stale,
            user="U0BOB",
            channel=ONCALL_CHANNEL,
            thread_ts=None,
            now=now + timedelta(minutes=2),
        )
        [operation_id] = list(slow_backups.operations)
        assert f"(operation `{operation_id}`), so I did not start another" in reply.text
    finally:
        for service, cloud in ((replica_a, cloud_a), (replica_b, cloud_b)):
            await service.backups.aclose()
            await cloud.aclose()
        await store_a.close()
        await store_b.close()


async def test_a_stopped_cluster_is_refused_before_the_confirm_and_nothing_is_started(
    slow_backups: SimCloud, store: Store, notifier: SlackNotifier
) -> None:
    allowed = make_config(access={"rules": [{"commands": ["backup"], "users": ["U0ALICE"]}]})
    watch, cloud = _service(slow_backups, store, notifier, allowed, "a")
    who = Invocation("U0ALICE", ONCALL_CHANNEL)
    try:
        asked = await watch.router.run("backup archive", who, now=NOW)
        [reply] = asked.messages
        assert "`archive` cannot be backed up now: the cluster is STOPPED." in str(reply.parts)
        assert not any(isinstance(p, Buttons) for p in reply.parts)  # no confirm to press
        with pytest.raises(UsageError, match="the cluster is STOPPED"):
            await watch.backups.start(
                IDS.stopped, user="U0ALICE", channel=ONCALL_CHANNEL, thread_ts=None, now=NOW
            )
        assert slow_backups.operations == {}
    finally:
        await watch.backups.aclose()
        await cloud.aclose()
