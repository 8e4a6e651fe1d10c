"""Several replicas sharing one PostgreSQL database: real ``backups-bot sweep`` processes against
a simulated cloud and a fake Slack served by this test process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from bot import clock
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.server import SimCloud
from bot.store.claims import SKIPPED_CLAIM
from tests.waiting import wait_until
from tests.world import FOLDER, IDS, ONCALL_CHANNEL, ONCALL_GROUP, make_fleet, seed_backups

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]

#: A day-long slot, so that processes started together never straddle two slots; a 2 s lease,
#: so that a killed replica's run is taken over quickly.
CONFIG = f"""
watch:
  folders: [{FOLDER}]
alerts:
  - channel: {ONCALL_CHANNEL}
    mention: [{ONCALL_GROUP}]
    match: {{environment: PRODUCTION}}
sweep:
  every: 1d
  lease: 2s
"""


async def start_sim(now: datetime, *, latency: float) -> SimCloud:
    sim = SimCloud(SimConfig(latency=latency), make_fleet(now))
    seed_backups(sim, now)
    await sim.start()
    return sim


def environment(sim: SimCloud, slack: FakeSlack, database_url: str, config: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "YC_", "BACKUPS_BOT_", "DATABASE_URL"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        YC_MDB_ENDPOINT=sim.url,
        YC_RESOURCE_MANAGER_ENDPOINT=sim.url,
        YC_OPERATION_ENDPOINT=sim.url,
        YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=database_url,
        BACKUPS_BOT_CONFIG=str(config),
        LOG_FORMAT="text",
        LOG_LEVEL="WARNING",
        # A 2 s lease is below the minute a real config must keep to.
        BACKUPS_BOT_FAST_SWEEPS="1",
    )
    return env


async def start_sweep(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sweep",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process) -> tuple[int, str]:
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, (out + err).decode()


def alerted_clusters(slack: FakeSlack) -> list[str]:
    """The cluster each alert posted (a top-level message) is about, one entry per post, read
    from the value its buttons carry (the cluster id and the route)."""
    clusters = []
    for call in slack.calls_to("chat.postMessage"):
        if call.args.get("thread_ts"):
            continue
        [actions] = [b for b in call.args["blocks"] if b["type"] == "actions"]
        values = {json.loads(element["value"])["c"] for element in actions["elements"]}
        [cluster_id] = values
        clusters.append(cluster_id)
    return sorted(clusters)


#: The clusters of the fleet that are stale on the PRODUCTION route: orders-prod, new-cluster.
ALERTED = sorted([IDS.stale, IDS.never])


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "backups-bot.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def test_two_sweeps_started_at_once_post_each_alert_exactly_once(
    postgres_store_url: str, slack: FakeSlack, config_file: Path, tmp_path: Path
) -> None:
    sim = await start_sim(clock.now(), latency=0.02)
    try:
        env = environment(sim, slack, postgres_store_url, config_file)
        processes = [await start_sweep(env, tmp_path) for _ in range(2)]
        outcomes = await asyncio.gather(*(finish(p) for p in processes))
    finally:
        await sim.stop()

    assert [code for code, _ in outcomes] == [0, 0], outcomes
    # Both really swept (a sweep run by hand is not bound to the scheduled slot); the incidents
    # are reserved in the database before anything is posted, so only one of them posted each.
    assert sum(SKIPPED_CLAIM in output for _, output in outcomes) == 0, outcomes
    assert alerted_clusters(slack) == ALERTED  # each stale cluster, once


async def test_a_replica_killed_mid_run_leaves_nothing_half_done(
    postgres_store_url: str, slack: FakeSlack, config_file: Path, tmp_path: Path
) -> None:
    # Slow answers keep the first replica busy reading while it is killed.
    sim = await start_sim(clock.now(), latency=0.4)
    try:
        env = environment(sim, slack, postgres_store_url, config_file)
        doomed = await start_sweep(env, tmp_path)
        await wait_until(lambda: sim.requests_to(r"/backups$"), what="the first replica's read")
        doomed.kill()
        await doomed.communicate()
        assert slack.calls_to("chat.postMessage") == []
        # The slowness was only there to catch the first replica mid-read.
        sim.config = replace(sim.config, latency=0.0)
        # The next sweep posts every alert the dead one would have posted...
        code, output = await finish(await start_sweep(env, tmp_path))
        assert code == 0, output
        assert alerted_clusters(slack) == ALERTED
        # ...and one more posts nothing: every alert was posted exactly once.
        code, output = await finish(await start_sweep(env, tmp_path))
        assert code == 0, output
    finally:
        await sim.stop()
    assert alerted_clusters(slack) == ALERTED
