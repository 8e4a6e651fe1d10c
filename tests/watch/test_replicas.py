"""Several replicas sharing one PostgreSQL database: real ``backups-bot sweep`` processes against
a simulated cloud and a fake Slack served by this test process."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot import clock
from bot.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.simcloud.server import SimCloud
from bot.testing.fake_slack import FakeSlack
from bot.watch.part import SKIPPED_CLAIM
from tests.waiting import wait_until
from tests.watch.conftest import FOLDER, ONCALL_CHANNEL, ONCALL_GROUP, make_fleet, seed_backups

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
        YC_OPERATION_ENDPOINT=sim.url,
        YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=database_url,
        BACKUPS_BOT_CONFIG=str(config),
        LOG_FORMAT="text",
        LOG_LEVEL="WARNING",
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


def alert_posts(slack: FakeSlack) -> list[str]:
    """Clusters named by the alerts posted (top-level messages), one entry per post."""
    return sorted(
        call.args["text"].split(":", 1)[1].strip()
        for call in slack.calls_to("chat.postMessage")
        if not call.args.get("thread_ts")
    )


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
    posted = alert_posts(slack)
    assert len(posted) == 2
    assert [p.split(" ")[:3] for p in posted] == [
        ["new-cluster", "has", "no"],
        ["the", "newest", "backup"],
    ]


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
        # The next sweep posts every alert the dead one would have posted...
        code, output = await finish(await start_sweep(env, tmp_path))
        assert code == 0, output
        assert len(alert_posts(slack)) == 2
        # ...and one more posts nothing: every alert was posted exactly once.
        code, output = await finish(await start_sweep(env, tmp_path))
        assert code == 0, output
    finally:
        await sim.stop()
    assert len(alert_posts(slack)) == 2
    assert len(set(alert_posts(slack))) == 2
