"""Exactly once, under ``kill -9``: real ``backups-bot serve`` processes are killed at random
moments and at the worst one (while Slack holds the answer to a post it has already made), and
restarted, while a simulated cloud flips clusters stale and fresh and a digest is due every
minute. Afterwards every incident has exactly one alert and at most one resolved notice, every
digest slot exactly one digest, nothing is posted twice and nothing is left undelivered, and the
freshness ledger has kept every backup the cloud lists.

Once on SQLite with one process, once on PostgreSQL with two replicas. The fake Slack answers
every post a second late (the post is made at once), so that a kill can land between Slack
accepting a post and the bot recording it: the window the outbox's lookup by metadata closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import clock
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.fleet import Fleet, SimCluster, SimFolder
from bot.demo.simcloud.server import SimCloud
from bot.outbox.posts import EVENT_TYPE
from bot.store import Store
from bot.store.tables import alerts, outbox, run_claims
from tests.app.test_serve import (
    APP_TOKEN,
    BOT_TOKEN,
    IAM_TOKEN,
    ServeProcess,
    serve_env,
    start_serve,
)
from tests.store.conftest import fresh_postgres_url  # noqa: F401  (a fixture)
from tests.waiting import free_port, wait_until

pytestmark = pytest.mark.slow

FOLDER = "b1gcrashfolder000001"
ONCALL = "C0CRASHONCALL"
TEAM = "C0CRASHTEAM"
CLUSTERS = [f"c9qcrash{n:012d}" for n in range(1, 5)]
#: A cluster is stale this long after its newest backup; a sweep every 2 s notices.
MAX_AGE = timedelta(seconds=8)
#: How late the fake Slack answers a post it has made: the window aimed at.
ANSWER_DELAY = 1.0
#: The local minute at the end of a digest run's claim key (``digest:...:2026-12-02T03:41``).
SLOT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d$")


def crash_fleet(now: datetime) -> Fleet:
    fleet = Fleet(folders=[SimFolder(FOLDER, "crash")])
    for n, cluster_id in enumerate(CLUSTERS, start=1):
        fleet.add_cluster(
            SimCluster(
                id=cluster_id,
                folder_id=FOLDER,
                name=f"crash-{n}",
                created_at=now - timedelta(days=30),
                environment="PRODUCTION",
            )
        )
    return fleet


def write_crash_config(path: Path) -> Path:
    path.write_text(
        f"""
watch:
  folders: [{FOLDER}]
freshness:
  overrides:
    - match: {{}}
      max_age: {int(MAX_AGE.total_seconds())}s
alerts:
  - channel: {ONCALL}
    repeat: 1h
    send_resolved: true
digests:
  - channel: {TEAM}
    schedule: "* * * * *"
    timezone: UTC
    misfire_grace: 10m
sweep:
  every: 2s
  lease: 3s
  blind_after: 1000
""",
        encoding="utf-8",
    )
    return path


@dataclass
class World:
    """The fakes, the database and the processes of one run."""

    sim: SimCloud
    slack: FakeSlack
    database_url: str
    config: Path
    cwd: Path
    rng: random.Random
    replicas: list[ServeProcess] = field(default_factory=list)
    started_at: datetime = field(default_factory=clock.now)
    kills: Counter[str] = field(default_factory=Counter)

    async def start(self) -> ServeProcess:
        env = serve_env(
            self.sim,
            self.slack,
            database_url=self.database_url,
            config=self.config,
            port=free_port(),
        )
        replica = await start_serve(env, self.cwd)
        await replica.wait_serving()
        return replica

    restarting: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    #: Every process of the run, killed ones included, for their logs.
    every: list[ServeProcess] = field(default_factory=list)

    async def kill_and_restart(self, index: int, kind: str) -> None:
        """kill -9 one replica and start it again. With a twin still up, the restart goes on in
        the background while the chaos goes on; alone, it is waited for."""
        await self.replicas[index].kill()
        self.kills[kind] += 1
        self.restarting[index] = asyncio.create_task(self._restart(index))
        if len(self.live()) == 0:
            await self.restarting[index]

    async def _restart(self, index: int) -> None:
        self.replicas[index] = await self.start()
        self.every.append(self.replicas[index])
        del self.restarting[index]

    def live(self) -> list[int]:
        return [i for i in range(len(self.replicas)) if i not in self.restarting]

    async def a_live_one(self) -> int:
        while not self.live():
            await asyncio.wait(list(self.restarting.values()), return_when=asyncio.FIRST_COMPLETED)
        return self.rng.choice(self.live())

    async def restarted(self) -> None:
        if self.restarting:
            await asyncio.gather(*self.restarting.values())

    async def holder_of(self, channel: str) -> int | None:
        """The replica delivering ``channel`` now (the holder of its outbox claim)."""
        async with await Store.open(self.database_url) as store, store.engine.connect() as conn:
            owner = await conn.scalar(
                select(run_claims.c.owner).where(run_claims.c.key == f"outbox:{channel}")
            )
        for index in self.live():
            if owner and f":{self.replicas[index].pid}:" in owner:
                return index
        return None


@contextlib.asynccontextmanager
async def world(database_url: str, tmp_path: Path, seed: int) -> AsyncIterator[World]:
    now = clock.now()
    sim = SimCloud(SimConfig(static_tokens=(IAM_TOKEN,)), crash_fleet(now))
    for cluster_id in CLUSTERS:
        sim.add_backup(cluster_id, created_at=now)
    await sim.start()
    try:
        async with FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as slack:
            slack.lose_next("chat.postMessage", mode="late", delay=ANSWER_DELAY, times=100_000)
            config = write_crash_config(tmp_path / "backups-bot.yaml")
            w = World(sim, slack, database_url, config, tmp_path, random.Random(seed))
            try:
                yield w
            finally:
                for replica in w.replicas:
                    if replica.process.returncode is None:
                        replica.process.kill()
                        await replica.process.wait()
    finally:
        await sim.stop()


async def flip(w: World, stop: asyncio.Event) -> None:
    """Every second or two a random cluster gets a fresh backup: the others go stale in turn."""
    while not stop.is_set():
        w.sim.add_backup(w.rng.choice(CLUSTERS), created_at=clock.now())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), w.rng.uniform(0.8, 2.0))


async def chaos(w: World, *, kills: int, aimed: int) -> None:
    plan = ["aimed"] * aimed + ["random"] * (kills - aimed)
    w.rng.shuffle(plan)
    for kind in plan:
        if kind == "random":
            await asyncio.sleep(w.rng.uniform(0.2, 1.5))
            await w.kill_and_restart(await w.a_live_one(), kind)
            continue
        # Aimed: a post has reached Slack and its answer is still on its way.
        seen = len(w.slack.lost)
        await wait_until(
            lambda seen=seen: len(w.slack.lost) > seen, timeout=60, what="a post in flight"
        )
        channel = str(w.slack.lost[-1].args.get("channel"))
        await asyncio.sleep(w.rng.uniform(0.05, ANSWER_DELAY * 0.6))
        holder = await w.holder_of(channel)
        await w.kill_and_restart(holder if holder is not None else await w.a_live_one(), kind)
    await w.restarted()


async def settle(w: World) -> datetime:
    """Let the replicas deliver everything; return when all is out and quiet, early enough in a
    minute that no new digest slot starts before they are stopped."""

    async def settled() -> bool:
        if clock.now().second > 50:
            return False  # a new digest slot would start while the replicas stop
        async with await Store.open(w.database_url) as store, store.engine.connect() as conn:
            waiting = await conn.scalar(
                select(outbox.c.id).where(outbox.c.state.in_(("pending", "sending"))).limit(1)
            )
            digests = set(
                (
                    await conn.execute(
                        select(outbox.c.subject).where(
                            outbox.c.kind == "digest", outbox.c.state == "sent"
                        )
                    )
                ).scalars()
            )
            # A sweep has read the last backups (with nothing open, no post says so).
            histories = await store.ledger.histories(
                start=w.started_at - timedelta(days=1), end=clock.now() + timedelta(hours=2)
            )
        kept = {b.backup_id for h in histories for b in h.backups}
        minute = clock.now().strftime("%Y-%m-%dT%H:%M")
        return waiting is None and last <= kept and any(s.endswith(minute) for s in digests)

    # Every cluster gets a backup that keeps it fresh past the test's end: the open incidents
    # resolve at the next sweep, and then nothing changes any more.
    last = {
        w.sim.add_backup(cluster_id, created_at=clock.now() + timedelta(hours=1)).id
        for cluster_id in CLUSTERS
    }
    await wait_until(settled, timeout=90, interval=0.5, what="every post delivered")
    return clock.now()


async def check(w: World, stopped_at: datetime) -> None:
    """The promises, read off Slack and the database."""
    async with await Store.open(w.database_url) as store, store.engine.connect() as conn:
        rows = {r.id: r for r in (await conn.execute(select(outbox))).all()}
        incidents = (await conn.execute(select(alerts))).all()

    # Nothing is left undelivered, and nothing was given up.
    assert {r.state for r in rows.values()} <= {"sent", "superseded"}, Counter(
        r.state for r in rows.values()
    )
    # Nothing is in Slack twice: every message carries the outbox id of one post.
    carried: list[str] = []
    for message in w.slack.messages():
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == EVENT_TYPE:
            carried.append(metadata["event_payload"]["outbox_id"])
    duplicates = [post_id for post_id, n in Counter(carried).items() if n > 1]
    assert duplicates == [], [(rows[d].kind, rows[d].subject) for d in duplicates]
    # And every post the outbox sent is in Slack, at the ts it recorded.
    by_id = {
        m["metadata"]["event_payload"]["outbox_id"]: m
        for m in w.slack.messages()
        if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE
    }
    posts = [r for r in rows.values() if r.method == "post"]
    messages = [r for r in posts if r.kind != "file"]
    assert {r.id for r in messages} == set(by_id)
    assert all(by_id[r.id]["ts"] == r.ts for r in messages)
    # A file carries no metadata: each digest's CSV is shared once, in its digest's thread.
    files = [r for r in posts if r.kind == "file"]
    shared = w.slack.files()
    assert len(shared) == len(files), (len(shared), len(files))
    tops = {r.ts for r in posts if r.kind == "digest"}
    assert all(f["thread_ts"] in tops for f in shared)

    # Each incident: one alert; one resolved notice once it resolved, and none before.
    alerts_of: dict[str, list[Any]] = defaultdict(list)
    for r in posts:
        if r.kind == "alert":
            alerts_of[r.subject.split()[0]].append(r)
    resolved_in: Counter[str] = Counter(r.parent_id for r in posts if r.kind == "resolved")
    assert sum(len(v) for v in alerts_of.values()) >= 2, "the run opened too few incidents"
    for cluster_id, opened in alerts_of.items():
        opened.sort(key=lambda r: r.seq)
        [incident] = [i for i in incidents if i.cluster_id == cluster_id]
        for alert in opened[:-1]:
            assert resolved_in[alert.id] == 1, (cluster_id, alert.id)
        last_resolved = 1 if incident.status == "resolved" else 0
        assert resolved_in[opened[-1].id] == last_resolved
        assert incident.message_id == opened[-1].id
    assert all(n <= 1 for n in resolved_in.values())

    # Each digest slot (every minute the bot was up): exactly one digest, none missing. The
    # first is the minute the first process started in, or the next if it started on the turn.
    slots = Counter(SLOT.search(r.subject).group(0) for r in posts if r.kind == "digest")  # type: ignore[union-attr]
    assert set(slots.values()) == {1}, slots
    first = min(datetime.fromisoformat(s).replace(tzinfo=UTC) for s in slots)
    started = w.started_at.replace(second=0, microsecond=0)
    assert first in (started, started + timedelta(minutes=1)), (first, w.started_at)
    expected = []
    minute = first
    while minute <= stopped_at:
        expected.append(minute.strftime("%Y-%m-%dT%H:%M"))
        minute += timedelta(minutes=1)
    assert sorted(slots) == expected
    # The freshness ledger lost no backup to a kill: every backup the cloud lists is kept, and
    # each cluster's history is one span (no kill left time the bot cannot vouch for).
    async with await Store.open(w.database_url) as store:
        histories = await store.ledger.histories(
            start=w.started_at - timedelta(days=1), end=clock.now() + timedelta(hours=2)
        )
    kept = {h.cluster_id: {b.backup_id for b in h.backups} for h in histories}
    assert kept == {c: {b.id for b in w.sim.fleet.backups[c]} for c in CLUSTERS}
    assert [len(h.spans) for h in histories] == [1] * len(CLUSTERS)
    # The worst moment was hit: a successor found in Slack a post its killed predecessor had
    # made but not recorded, and did not post it again.
    found = [m for p in w.every for m in p.messages() if "was already in Slack" in m]
    assert found, "no kill landed between a post and its record"
    for process in w.every:
        assert "Traceback" not in process.output()


async def run(w: World, *, replicas: int, kills: int, aimed: int) -> None:
    w.started_at = clock.now()
    w.replicas = list(await asyncio.gather(*(w.start() for _ in range(replicas))))
    w.every.extend(w.replicas)
    stop = asyncio.Event()
    flipper = asyncio.create_task(flip(w, stop))
    try:
        await chaos(w, kills=kills, aimed=aimed)
    finally:
        stop.set()
        await flipper
    stopped_at = await settle(w)
    codes = await asyncio.gather(*(r.terminate(timeout=30) for r in w.replicas))
    assert codes == [0] * replicas
    assert w.kills == {"aimed": aimed, "random": kills - aimed}
    await check(w, stopped_at)


async def test_kill_9_on_sqlite_loses_and_repeats_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    async with world(url, tmp_path, seed=int(time.time())) as w:
        await run(w, replicas=1, kills=10, aimed=5)


@pytest.mark.postgres
async def test_kill_9_of_replicas_on_postgres_loses_and_repeats_nothing(
    fresh_postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with world(fresh_postgres_url, tmp_path, seed=int(time.time())) as w:
        await run(w, replicas=2, kills=10, aimed=5)
