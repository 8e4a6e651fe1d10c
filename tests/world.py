"""Shared fixtures of the watcher tests: a simulated cloud with a small hand-made fleet, a fake
Slack, a notifier and a cloud client pointed at them, a store on SQLite and on PostgreSQL, and the
delivery executor that takes what the watcher queues in the outbox to the fake Slack.

Everything talks over real HTTP on 127.0.0.1; nothing of ours is mocked. Time is explicit: the
fleet is built around :data:`NOW` and tests hand ``now`` to the code under test. The watcher
posts nothing itself: a test runs a sweep (or a digest, or a click), then ``executor.deliver()``,
then looks at the fake Slack.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from bot import clock
from bot.alerts.sweep import Sweeper, SweepResult
from bot.app.wiring import Features, build_features
from bot.backup.follower import OperationFollower
from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.cloud.retry import RetryPolicy
from bot.config import BotConfig, validation_context
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import GIB, Fleet, SimCluster, SimFolder, SimSchedule
from bot.demo.simcloud.server import Handler, SimCloud
from bot.ops.metrics import Metrics
from bot.outbox.change import QueuedPost
from bot.outbox.executor import DeliveryExecutor, DrainResult
from bot.outbox.pacing import Pace, Pacer
from bot.outbox.posts import OutboundPost, PostKind
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.store.conftest import (  # noqa: F401  (fixtures, re-exported for the watch tests)
    open_store,
    postgres_store_url,
    postgres_url,
    sqlite_url,
    store,
    store_url,
)
from tests.waiting import PATIENCE

#: The tests' "now": Monday 2 March 2026, 09:00 UTC.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

FOLDER = "b1gwatchfolder000001"
OTHER_FOLDER = "b1gotherfolder000002"

ONCALL_CHANNEL = "C0ONCALL"
ONCALL_GROUP = "S0ONCALLGROUP"
TEAM_CHANNEL = "C0TEAM"
CONSOLE_URL = "https://console.example.test"


@dataclass(frozen=True)
class Ids:
    """The clusters of :func:`make_fleet`."""

    stale: str = "c9qordersprod0000001"  # daily schedule, newest backup 30 h old: stale
    fresh: str = "c9qlogsprod000000002"  # daily schedule, backed up 3 h ago: fresh
    stopped: str = "c9qarchive0000000003"  # stopped; its newest backup is 10 days old
    never: str = "c9qnewcluster0000004"  # no schedule, no backup at all
    prestable: str = "c9qsearchpre0000005"  # PRESTABLE and stale: not on the on-call route
    other: str = "c9qotherfolder000006"  # in a folder the bot does not watch


IDS = Ids()


def _cluster(
    cluster_id: str,
    name: str,
    *,
    folder: str = FOLDER,
    environment: str = "PRODUCTION",
    status: str = "RUNNING",
    schedule: SimSchedule | None = None,
    labels: dict[str, str] | None = None,
) -> SimCluster:
    return SimCluster(
        id=cluster_id,
        folder_id=folder,
        name=name,
        created_at=NOW - timedelta(days=400),
        environment=environment,
        status=status,
        schedule=schedule,
        labels=labels or {},
    )


def make_fleet(now: datetime = NOW) -> Fleet:
    """Six clusters, one of each kind the watcher tells apart (see :class:`Ids`)."""
    fleet = Fleet(folders=[SimFolder(FOLDER, "watched"), SimFolder(OTHER_FOLDER, "other")])
    daily = SimSchedule("daily", hour=3, minute=0)
    fleet.add_cluster(_cluster(IDS.stale, "orders-prod", schedule=daily, labels={"team": "shop"}))
    fleet.add_cluster(_cluster(IDS.fresh, "logs-prod", schedule=daily))
    fleet.add_cluster(_cluster(IDS.stopped, "archive", status="STOPPED", schedule=daily))
    fleet.add_cluster(_cluster(IDS.never, "new-cluster"))
    fleet.add_cluster(
        _cluster(IDS.prestable, "search-pre", environment="PRESTABLE", schedule=daily)
    )
    fleet.add_cluster(_cluster(IDS.other, "elsewhere", folder=OTHER_FOLDER, schedule=daily))
    return fleet


def seed_backups(sim: SimCloud, now: datetime = NOW) -> None:
    """Backups for the fleet of :func:`make_fleet`, dated around ``now``."""
    for days in (3, 2):
        sim.add_backup(IDS.stale, created_at=now - timedelta(hours=30, days=days), size_bytes=GIB)
    sim.add_backup(IDS.stale, created_at=now - timedelta(hours=30), size_bytes=GIB)
    sim.add_backup(IDS.fresh, created_at=now - timedelta(hours=27), size_bytes=5 * GIB)
    sim.add_backup(IDS.fresh, created_at=now - timedelta(hours=3), size_bytes=5 * GIB)
    sim.add_backup(IDS.stopped, created_at=now - timedelta(days=10))
    sim.add_backup(IDS.prestable, created_at=now - timedelta(days=2))
    sim.add_backup(IDS.other, created_at=now - timedelta(days=5))


def make_config(**overrides: Any) -> BotConfig:
    """The watcher config of the tests: the watched folder, one on-call route for PRODUCTION."""
    data: dict[str, Any] = {
        "watch": {"folders": [FOLDER]},
        "freshness": {"grace": "2h", "default_max_age": "24h"},
        "alerts": [
            {
                "channel": ONCALL_CHANNEL,
                "mention": [ONCALL_GROUP],
                "repeat": "4h",
                "send_resolved": True,
                "match": {"environment": "PRODUCTION"},
            }
        ],
        "digests": [{"channel": TEAM_CHANNEL, "schedule": "30 9 * * mon-fri"}],
        "sweep": {"every": "15m", "blind_after": 3, "lease": "5m"},
    }
    data.update(overrides)
    # Sweeps every second are allowed here, as BACKUPS_BOT_FAST_SWEEPS allows them to a process.
    return BotConfig.model_validate(data, context=validation_context(fast_sweeps=True))


@pytest.fixture
def config() -> BotConfig:
    return make_config()


@dataclass
class Hold:
    """Requests held by :meth:`HoldingSim.hold` until :meth:`release`."""

    pattern: re.Pattern[str]
    left: int
    released: asyncio.Event
    held: int = 0  # requests waiting now

    def release(self) -> None:
        self.released.set()


class HoldingSim(SimCloud):
    """The simulated cloud, able to hold chosen requests until the test lets them go: a way to
    keep a sweep inside a read for exactly as long as a test needs, with no sleep to guess."""

    def __init__(self, config: SimConfig | None = None, fleet: Fleet | None = None) -> None:
        super().__init__(config, fleet)
        self.holds: list[Hold] = []

    def hold(self, path_regex: str, *, times: int = 1) -> Hold:
        """Hold the next ``times`` requests whose path matches, until the hold is released."""
        hold = Hold(re.compile(path_regex), times, asyncio.Event())
        self.holds.append(hold)
        return hold

    async def _answer(
        self, request: web.Request, handler: Handler, request_id: str
    ) -> web.StreamResponse:
        for hold in self.holds:
            if hold.left > 0 and hold.pattern.search(request.path):
                hold.left -= 1
                hold.held += 1
                try:
                    await hold.released.wait()
                finally:
                    hold.held -= 1
                break
        return await super()._answer(request, handler, request_id)


@pytest.fixture
async def sim() -> AsyncIterator[HoldingSim]:
    """The simulated cloud serving :func:`make_fleet` with :func:`seed_backups`."""
    cloud = HoldingSim(SimConfig(unknown_fields=True), make_fleet())
    seed_backups(cloud)
    await cloud.start()
    yield cloud
    await cloud.stop()


def make_features(
    cloud: CloudClient,
    store: Store,  # noqa: F811  (the fixture of that name)
    config: BotConfig,
    *,
    owner: str = "replica-a",
    queued: Any = None,
) -> Features:
    """The features a process answers people with, as ``serve`` wires them, with a follower
    that polls started backups quickly."""
    follower = OperationFollower(cloud, store, owner=owner, poll_interval=0.05, queued=queued)
    return build_features(
        cloud,
        config,
        store=store,
        console_url=CONSOLE_URL,
        owner=owner,
        queued=queued,
        follower=follower,
    )


def make_cloud(sim: SimCloud, *, timeout: float = 5.0) -> CloudClient:
    """A client of ``sim`` with a static token and retries that cost milliseconds. A test that
    holds requests (:meth:`HoldingSim.hold`) gives it a timeout longer than the hold."""
    return CloudClient(
        mdb_endpoint=sim.url,
        operation_endpoint=sim.url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        retry=RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.005),
        timeout=timeout,
    )


@pytest.fixture
async def cloud(sim: SimCloud) -> AsyncIterator[CloudClient]:
    client = make_cloud(sim)
    yield client
    await client.aclose()


@pytest.fixture
async def patient_cloud(sim: HoldingSim) -> AsyncIterator[CloudClient]:
    """A client of ``sim`` whose requests wait out a :meth:`HoldingSim.hold` (60 s timeout)."""
    client = make_cloud(sim, timeout=60)
    yield client
    await client.aclose()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(usergroups={ONCALL_GROUP: ["U0ONCALL1"]}) as slack:
        yield slack


def make_notifier(slack: FakeSlack) -> SlackNotifier:
    """A notifier of ``slack`` with the production retry handlers, minus their waiting."""
    fast = FixedValueRetryIntervalCalculator(0.001)
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        timeout=5,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=fast),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2, interval_calculator=fast),
        ],
    )
    return SlackNotifier(client)


@pytest.fixture
async def notifier(fake_slack: FakeSlack) -> AsyncIterator[SlackNotifier]:
    slack = make_notifier(fake_slack)
    yield slack
    await slack.aclose()


def texts(messages: list[dict[str, Any]]) -> list[str]:
    """The fallback texts of fake Slack messages."""
    return [str(m["text"]) for m in messages]


def top_level(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages that are not thread replies."""
    return [m for m in messages if not m.get("thread_ts")]


def replies(messages: list[dict[str, Any]], ts: str) -> list[dict[str, Any]]:
    """Replies in the thread of ``ts``."""
    return [m for m in messages if m.get("thread_ts") == ts]


def alert_of(slack: FakeSlack, name: str) -> dict[str, Any]:
    """The one alert (a top-level message in the on-call channel) about cluster ``name``."""
    [message] = [m for m in top_level(slack.messages(ONCALL_CHANNEL)) if name in m["text"]]
    return message


def mentions(messages: list[dict[str, Any]], who: str = ONCALL_GROUP) -> int:
    """How many of ``messages`` ping ``who`` (a user group or a user)."""
    tag = f"<!subteam^{who}>" if who.startswith("S") else f"<@{who}>"
    return sum(tag in str(m["text"]) or tag in str(m["blocks"]) for m in messages)


# --- delivery ------------------------------------------------------------------------------------

#: Slack's pace is what a few tests are about; every other test delivers at once.
FAST = Pace(posts_per_second=1000, post_burst=1000, updates_per_second=1000, update_burst=1000)


class DeliveryClock:
    """The executor's clock: real time, plus jumps a test makes to skip a wait it has asked for
    (a retry's ``not_before``, a 429's pause) instead of sleeping through it.

    Real time is long past :data:`NOW`, so whatever a test queues "at" NOW (or days after it) is
    due at once; under freezegun it is the frozen time, which is what the test queued at."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return clock.now() + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta.total_seconds()


def make_executor(
    outbox: Store,
    notifier: SlackNotifier,
    *,
    owner: str = "deliverer",
    delivery_clock: DeliveryClock | None = None,
    pace: Pace = FAST,
    metrics: Metrics | None = None,
) -> DeliveryExecutor:
    """An executor of the store ``outbox`` to ``notifier`` on ``delivery_clock`` (its pacer
    too)."""
    moments = delivery_clock or DeliveryClock()
    executor = DeliveryExecutor(
        outbox, notifier, owner=owner, pace=pace, metrics=metrics, clock=moments.now
    )
    executor.pacer = Pacer(pace, clock=moments.monotonic)
    return executor


@pytest.fixture
def delivery_clock() -> DeliveryClock:
    return DeliveryClock()


@pytest.fixture
async def executor(
    store: Store,  # noqa: F811  (the fixture of that name)
    notifier: SlackNotifier,
    delivery_clock: DeliveryClock,
) -> AsyncIterator[DeliveryExecutor]:
    """The delivery executor of the test's store and notifier; not started: a test calls
    ``deliver()`` when it wants what was queued to be in Slack."""
    delivery = make_executor(store, notifier, delivery_clock=delivery_clock)
    yield delivery
    await delivery.aclose()


def describe(posts: list[QueuedPost]) -> str:
    return "; ".join(f"{p.describe()}: {p.state} ({p.error})" for p in posts)


async def deliver(executor: DeliveryExecutor) -> DrainResult:
    """Deliver everything queued now; fails the test unless every post is in Slack."""
    drained = await executor.deliver(timeout=PATIENCE)
    assert drained.ok, f"not delivered: {describe(drained.failed + drained.waiting)}"
    return drained


async def deliver_with(outbox: Store, notifier: SlackNotifier, **kwargs: Any) -> DrainResult:
    """Deliver everything queued in ``outbox`` with an executor of its own (``kwargs`` as for
    :func:`make_executor`), closed after: its workers are done before the store closes."""
    executor = make_executor(outbox, notifier, **kwargs)
    try:
        return await deliver(executor)
    finally:
        await executor.aclose()


async def sweep_and_deliver(
    sweeper: Sweeper, executor: DeliveryExecutor, *, now: datetime, **kwargs: Any
) -> SweepResult:
    """One sweep at ``now``, then every post it queued delivered."""
    result = await sweeper.run(now=now, **kwargs)
    await deliver(executor)
    return result


def subject(post: OutboundPost | QueuedPost) -> str:
    """What a post is about (a cluster id, ``group <label>``, a run key), without its reason."""
    return post.subject.partition(" [")[0]


def kinds(posts: tuple[OutboundPost, ...] | list[OutboundPost]) -> list[tuple[PostKind, str]]:
    """Each queued post's kind and what it is about, in queue order."""
    return [(post.kind, subject(post)) for post in posts]
