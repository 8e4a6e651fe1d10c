"""Fixtures of the drill tests: a simulated cloud whose restores and deletes take tenths of a
second, a client of it, a drill route into the watched folder, and a runner that polls quickly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.cloud.client import CloudClient
from bot.config import BotConfig, DrillRoute
from bot.demo.simcloud import SimCloud, SimConfig
from bot.drills.runner import DrillRunner
from bot.store import Store
from tests.world import FOLDER, TEAM_CHANNEL, make_cloud, make_config, make_fleet, seed_backups

#: Sim seconds (real ones here: no frozen clock) a restore, its health and a delete take.
FAST = SimConfig(restore_duration=0.3, healthy_after=0.2, delete_duration=0.1)
NETWORK = "enpdrillnetwork00001"
SUBNET = "e9bdrillsubnet000001"


def drill_config(**route: Any) -> BotConfig:
    """The watcher config of the tests with one drill route into the watched folder."""
    data: dict[str, Any] = {
        "match": {"environment": "PRODUCTION"},
        "folder": FOLDER,
        "network": NETWORK,
        "subnets": {"ru-central1-a": SUBNET},
        "channel": TEAM_CHANNEL,
        "time_limit": "1h",
        "rto_target": "1h",
    }
    data.update(route)
    return make_config(drills=[data])


@pytest.fixture
def route() -> DrillRoute:
    return drill_config().drills[0]


@pytest.fixture
async def drill_sim() -> AsyncIterator[SimCloud]:
    cloud = SimCloud(FAST, make_fleet())
    seed_backups(cloud)
    await cloud.start()
    yield cloud
    await cloud.stop()


@pytest.fixture
async def drill_cloud(drill_sim: SimCloud) -> AsyncIterator[CloudClient]:
    client = make_cloud(drill_sim)
    yield client
    await client.aclose()


def make_runner(cloud: CloudClient, store: Store, *, owner: str = "replica-a") -> DrillRunner:
    return DrillRunner(cloud, store, owner=owner, poll_interval=0.02)
