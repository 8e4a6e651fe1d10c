"""A person's request goes ahead of a background fleet read queued in the same client.

A simulated cloud of 200 clusters answers every request after 10 ms; the client lets 2 requests
fly at once, and the reader's bounded pool keeps ``READERS`` clusters' ``listBackups`` queued
for about a second. What is asserted is order (how much of the read is still queued, and how many
of its requests were answered first, when the person's answer is in), never wall time.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.alerts.sweep import Sweeper
from bot.app.scheduler import SWEEP_JOB, WatchScheduler
from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.cloud.limits import Lane, background_lane
from bot.cloud.retry import RetryPolicy
from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import generate_fleet
from bot.demo.simcloud.server import SimCloud
from bot.digest.runner import DigestRunner
from bot.fleet.reader import READERS, FleetReading, read_fleet
from bot.store import Store
from tests.waiting import wait_until
from tests.world import CONSOLE_URL, NOW, make_config, make_notifier

REPO = Path(__file__).resolve().parents[2]
CLUSTERS = 200
MAX_IN_FLIGHT = 2
#: Most of what was queued must still be queued when the person's answer is in. Only the
#: requests that get a slot while the person's one waits or flies start meanwhile: a handful.
QUEUED = READERS - MAX_IN_FLIGHT
STILL_QUEUED = QUEUED // 2


@pytest.fixture
async def big_sim() -> AsyncIterator[SimCloud]:
    # One page per cluster (no seeded empty pages), so that the queue the lanes order is known:
    # these tests are about lanes, not paging. Every other freedom stays on.
    config = SimConfig(
        folders=1,
        clusters_per_folder=CLUSTERS,
        backups_per_cluster=3,
        latency=0.01,
        empty_page_rate=0,
    )
    async with SimCloud(config, generate_fleet(config, NOW)) as sim:
        yield sim


@pytest.fixture
async def cloud(big_sim: SimCloud) -> AsyncIterator[CloudClient]:
    client = CloudClient(
        mdb_endpoint=big_sim.url,
        operation_endpoint=big_sim.url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        retry=RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.005),
        timeout=10.0,
        max_in_flight=MAX_IN_FLIGHT,
    )
    yield client
    await client.aclose()


def watch_all(sim: SimCloud) -> BotConfig:
    # A maximum age set for every cluster, so that no retention policy could set it: the read is
    # one listBackups per cluster, all queued at once (policies, and operations for clusters in
    # question, would be asked only after a first answer, which is not what these tests order).
    return make_config(
        watch={"folders": sim.fleet.folder_ids()},
        freshness={"grace": "2h", "overrides": [{"match": {}, "max_age": "30d"}]},
        alerts=[],
        digests=[],
    )


async def list_one(cloud: CloudClient, sim: SimCloud) -> int:
    """A person's ``/backups list``: every backup of the first cluster."""
    cluster_id = next(iter(sim.fleet.clusters))
    return len([b async for b in cloud.list_cluster_backups(cluster_id)])


async def start_fleet_read(cloud: CloudClient, sim: SimCloud) -> asyncio.Task[FleetReading]:
    """A fleet read in the background lane, returned once most of its requests are queued."""
    with background_lane():
        reading = asyncio.create_task(read_fleet(cloud, watch_all(sim), now=NOW))
    await wait_until(
        lambda: cloud.limiter.waiting(Lane.BACKGROUND) >= QUEUED, what="the read queued"
    )
    return reading


async def test_a_person_s_request_overtakes_a_queued_background_fleet_read(
    cloud: CloudClient, big_sim: SimCloud
) -> None:
    reading = await start_fleet_read(cloud, big_sim)
    before = len(big_sim.requests)

    assert await list_one(cloud, big_sim) == 3

    still_queued = cloud.limiter.waiting(Lane.BACKGROUND)
    assert still_queued > STILL_QUEUED, f"only {still_queued} of {QUEUED} still queued"
    assert len(big_sim.requests) - before < STILL_QUEUED  # a handful answered first
    assert not reading.done()
    fleet = await reading
    assert len(fleet.clusters) == CLUSTERS
    assert fleet.errors == ()
    assert all(r.count == 3 for r in fleet.clusters)
    assert cloud.limiter.peak_in_flight == MAX_IN_FLIGHT
    assert big_sim.peak_in_flight <= MAX_IN_FLIGHT


async def test_in_the_background_lane_the_same_request_waits_for_the_whole_read(
    cloud: CloudClient, big_sim: SimCloud
) -> None:
    # The control: without its own lane a person's request queues first come, first served.
    reading = await start_fleet_read(cloud, big_sim)

    before = len(big_sim.requests)
    with background_lane():
        assert await list_one(cloud, big_sim) == 3

    # Every read queued before it was answered first.
    assert len(big_sim.requests) - before > QUEUED
    await reading


async def test_the_scheduled_sweep_reads_in_the_background_lane(
    cloud: CloudClient, big_sim: SimCloud, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    config = watch_all(big_sim)
    notifier = make_notifier(fake_slack)
    store = await Store.open(sqlite_url)

    def clock() -> datetime:
        return NOW

    scheduler = WatchScheduler(
        sweeper=Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="lanes"),
        digests=DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="l"),
        config=config,
        store=store,
        owner="lanes",
        clock=clock,
    )
    try:
        await scheduler.start()  # the first sweep starts at once
        await wait_until(
            lambda: cloud.limiter.waiting(Lane.BACKGROUND) >= QUEUED, what="the sweep queued"
        )

        assert await list_one(cloud, big_sim) == 3

        assert cloud.limiter.waiting(Lane.BACKGROUND) > STILL_QUEUED
        assert not [name for name, _ in scheduler.history if name == SWEEP_JOB]
        await scheduler.shutdown(wait=True)  # lets the sweep finish
        [(name, result)] = scheduler.history
        assert name == SWEEP_JOB
        assert result is not None
        assert result.ok
    finally:
        await scheduler.shutdown(wait=False)
        await notifier.aclose()
        await store.close()


@pytest.mark.parametrize("verb", ["sweep", "digest"])
async def test_the_sweep_and_digest_verbs_read_within_the_background_share(
    big_sim: SimCloud, tmp_path: Path, verb: str
) -> None:
    config = tmp_path / "backups-bot.yaml"
    config.write_text(
        f"watch:\n  folders: {big_sim.fleet.folder_ids()}\n"
        "digests:\n  - channel: C0TEAM\n    schedule: '30 9 * * mon-fri'\n    timezone: UTC\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YC_", "BACKUPS_"))}
    env.update(
        PYTHONPATH=str(REPO),
        YC_MDB_ENDPOINT=big_sim.url,
        YC_RESOURCE_MANAGER_ENDPOINT=big_sim.url,
        YC_OPERATION_ENDPOINT=big_sim.url,
        YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
        YC_MAX_IN_FLIGHT="8",
        YC_BACKGROUND_IN_FLIGHT="2",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'state.db'}",
        BACKUPS_BOT_CONFIG=str(config),
        LOG_LEVEL="WARNING",
    )
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", verb, "--dry-run"),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=120)

    assert process.returncode == 0, err.decode()
    assert len(big_sim.requests_to(r"/backups$")) >= CLUSTERS
    # Run by hand, the scheduled jobs keep to the share they have when scheduled: 2, not 8.
    assert big_sim.peak_in_flight == 2
