"""``backups-bot drill`` as a real process against the simulated cloud and the fake Slack: it
passes and exits 0; a dry run creates nothing; and ``kill -9`` at every step of a drill (the
restore request in flight, following the restore, waiting for the hosts, the delete in flight)
leaves no live drill cluster once the reaper has made its next pass, nor a second cluster when
another replica takes the drill over."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot import clock
from bot.config import load_config
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud import DEFAULT_STATIC_TOKEN, SimCloud
from bot.drills.model import DrillOutcome
from bot.drills.service import DrillService
from bot.store import Store
from tests.app.test_serve import BOT_TOKEN, REPO
from tests.drills.conftest import FAST, NETWORK, SUBNET
from tests.drills.test_service import leftover
from tests.waiting import wait_until
from tests.world import FOLDER, IDS, TEAM_CHANNEL, make_cloud, make_fleet, seed_backups

pytestmark = pytest.mark.slow

CONFIG = f"""
watch: {{folders: [{FOLDER}]}}
sweep: {{every: 2s, lease: 2s}}
drills:
  - match: {{environment: PRODUCTION}}
    folder: {FOLDER}
    network: {NETWORK}
    subnets: {{ru-central1-a: {SUBNET}}}
    channel: {TEAM_CHANNEL}
    time_limit: 1h
    rto_target: 1h
"""


class MethodHoldingSim(SimCloud):
    """The simulated cloud, able to hold the next request of one method and path until the test
    lets it go (the process under test is killed meanwhile)."""

    def __init__(self) -> None:
        super().__init__(FAST, make_fleet())
        self.hold: tuple[str, re.Pattern[str]] | None = None
        self.held = asyncio.Event()
        self.released = asyncio.Event()

    async def _answer(self, request: web.Request, handler, request_id: str):  # type: ignore[no-untyped-def]
        hold = self.hold
        if hold is not None and request.method == hold[0] and hold[1].search(request.path):
            self.hold = None
            self.held.set()
            await self.released.wait()
        return await super()._answer(request, handler, request_id)


@dataclass
class World:
    sim: MethodHoldingSim
    slack: FakeSlack
    env: dict[str, str]
    database_url: str
    config_path: Path


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    sim = MethodHoldingSim()
    seed_backups(sim)
    await sim.start()
    slack = FakeSlack(bot_token=BOT_TOKEN)
    await slack.start()
    config_path = tmp_path / "backups-bot.yaml"
    config_path.write_text(CONFIG, encoding="utf-8")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "YC_", "BACKUPS_BOT_", "DATABASE_URL", "LOG_"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        YC_MDB_ENDPOINT=sim.url,
        YC_RESOURCE_MANAGER_ENDPOINT=sim.url,
        YC_OPERATION_ENDPOINT=sim.url,
        YC_IAM_ENDPOINT=sim.url,
        YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=database_url,
        BACKUPS_BOT_CONFIG=str(config_path),
        BACKUPS_BOT_FAST_SWEEPS="1",
    )
    try:
        yield World(sim, slack, env, database_url, config_path)
    finally:
        await slack.stop()
        await sim.stop()


async def drill(w: World, *args: str) -> asyncio.subprocess.Process:
    return await verb(w, "drill", *args)


async def verb(w: World, name: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        name,
        *args,
        env=w.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def finish(process: asyncio.subprocess.Process) -> tuple[int, str]:
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


async def test_the_drill_verb_passes_posts_and_exits_0(world: World) -> None:
    code, out = await finish(await drill(world, IDS.fresh))
    assert code == 0, out
    assert "passed" in out
    assert "deleted" in out
    assert world.sim.labelled() == []
    assert len(world.sim.restored) == 1
    (post,) = world.slack.messages(TEAM_CHANNEL)
    assert "Restore drill" in post["text"]
    assert "passed" in post["text"]


async def test_a_failed_drill_exits_1_and_says_why(world: World) -> None:
    newest = world.sim.fleet.newest_backup(IDS.fresh)
    assert newest is not None
    world.sim.mark_backup_bad(newest.id, "Snapshot is corrupted")
    code, out = await finish(await drill(world, IDS.fresh))
    assert code == 1, out
    assert "Snapshot is corrupted" in out
    assert world.sim.labelled() == []


async def test_a_dry_run_says_what_and_the_cost_and_creates_nothing(world: World) -> None:
    code, out = await finish(await drill(world, IDS.fresh, "--dry-run"))
    assert code == 0, out
    assert "dry run" in out
    assert "host-hours" in out
    assert f"backups-bot-source={IDS.fresh}" in out
    assert world.sim.restored == []
    assert [r for r in world.sim.requests if r.method != "GET"] == []
    assert world.slack.messages() == []


async def test_a_cluster_no_route_matches_is_a_usage_error(world: World) -> None:
    code, out = await finish(await drill(world, IDS.prestable))
    assert code == 2, out
    assert "No drills: route matches" in out
    assert world.sim.restored == []


async def test_the_one_shot_sweep_runs_the_reaper_too(world: World) -> None:
    cluster = leftover(world.sim, age=timedelta(hours=2))
    # A dry run says what it would delete, and deletes nothing.
    code, out = await finish(await verb(world, "sweep", "--dry-run"))
    assert code == 0, out
    assert f"would delete leftover drill cluster {cluster.id}" in out
    assert [r for r in world.sim.requests if r.method == "DELETE"] == []
    code, out = await finish(await verb(world, "sweep", "--wait", "30"))
    assert code == 0, out
    assert f"deleted leftover drill cluster {cluster.id}" in out
    await wait_until(lambda: world.sim.labelled() == [], what="the leftover deleted")
    (post,) = [m for m in world.slack.messages(TEAM_CHANNEL) if cluster.id in m["text"]]
    assert "leftover" in post["text"]
    # The next one-shot sweep finds nothing left and reports nothing again.
    code, out = await finish(await verb(world, "sweep", "--json"))
    assert code == 0, out
    assert '"reaped": []' in out
    assert len([m for m in world.slack.messages() if cluster.id in m["text"]]) == 1


#: Where the process is killed: (method, path) of the request it is waiting for.
STEPS = {
    "restore in flight": ("POST", r"clusters:restore$"),
    "following the restore": ("GET", r"^/operations/"),
    "waiting for the hosts": ("GET", r"/hosts$"),
    "delete in flight": ("DELETE", r"/clusters/c9q"),
}


async def kill_at(w: World, step: str) -> None:
    w.sim.hold = (STEPS[step][0], re.compile(STEPS[step][1]))
    process = await drill(w, IDS.fresh)
    await asyncio.wait_for(w.sim.held.wait(), timeout=60)
    os.kill(process.pid, signal.SIGKILL)
    await process.wait()
    w.sim.released.set()  # the cloud still does what it was asked: the answer is lost


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_kill_9_at_every_step_leaves_no_drill_cluster_after_the_reaper(
    world: World, step: str
) -> None:
    await kill_at(world, step)
    await wait_until(lambda: len(world.sim.restored) == 1, what="the restore to be made")
    config = load_config(world.config_path, fast_sweeps=True)
    async with make_cloud(world.sim) as cloud:
        store = await Store.open(world.database_url)
        try:
            service = DrillService(cloud, store, config, owner="reaper", poll_interval=0.02)
            # The next sweep after the drill's time limit.
            await service.reaper.reap(now=clock.now() + timedelta(hours=1, minutes=1))
        finally:
            await store.close()
    await wait_until(lambda: world.sim.labelled() == [], what="no live drill cluster")
    assert len(world.sim.restored) == 1


@pytest.mark.parametrize("step", ["following the restore", "waiting for the hosts"])
async def test_a_drill_whose_process_died_is_taken_over_without_a_second_cluster(
    world: World, step: str
) -> None:
    await kill_at(world, step)
    config = load_config(world.config_path, fast_sweeps=True)
    async with make_cloud(world.sim) as cloud:
        store = await Store.open(world.database_url)
        try:
            service = DrillService(cloud, store, config, owner="replica-b", poll_interval=0.02)
            (running,) = await store.drills.running_drills()

            async def taken_over() -> bool:
                await service.take_over(now=clock.now())
                await service.wait()
                record = await store.drills.get_drill(running.id)
                return record is not None and record.finished

            # The dead process's claim lapses after its lease (2 s); then the drill is resumed.
            await wait_until(taken_over, timeout=30, what="the drill taken over", interval=0.5)
            record = await store.drills.get_drill(running.id)
        finally:
            await store.close()
    assert record is not None
    assert record.outcome == DrillOutcome.PASSED, record.error
    assert len(world.sim.restored) == 1
    assert world.sim.labelled() == []
