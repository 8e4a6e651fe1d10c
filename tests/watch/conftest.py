"""Shared fixtures of the watcher tests: a simulated cloud with a small hand-made fleet, a fake
Slack, a notifier and a cloud client pointed at them, and a store on SQLite and on PostgreSQL.

Everything talks over real HTTP on 127.0.0.1; nothing of ours is mocked. Time is explicit: the
fleet is built around :data:`NOW` and tests hand ``now`` to the code under test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.cloud.retry import RetryPolicy
from bot.config import BotConfig
from bot.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.simcloud.fleet import GIB, Fleet, SimCluster, SimFolder, SimSchedule
from bot.simcloud.server import SimCloud
from bot.slack.notifier import SlackNotifier
from bot.testing.fake_slack import FakeSlack
from tests.store.conftest import (  # noqa: F401  (fixtures, re-exported for the watch tests)
    open_store,
    postgres_store_url,
    postgres_url,
    sqlite_url,
    store,
    store_url,
)

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
    return BotConfig.model_validate(data)


@pytest.fixture
def config() -> BotConfig:
    return make_config()


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    """The simulated cloud serving :func:`make_fleet` with :func:`seed_backups`."""
    cloud = SimCloud(SimConfig(unknown_fields=True), make_fleet())
    seed_backups(cloud)
    await cloud.start()
    yield cloud
    await cloud.stop()


def make_cloud(sim: SimCloud) -> CloudClient:
    """A client of ``sim`` with a static token and retries that cost milliseconds."""
    return CloudClient(
        mdb_endpoint=sim.url,
        operation_endpoint=sim.url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        retry=RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.005),
        timeout=5.0,
    )


@pytest.fixture
async def cloud(sim: SimCloud) -> AsyncIterator[CloudClient]:
    client = make_cloud(sim)
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
