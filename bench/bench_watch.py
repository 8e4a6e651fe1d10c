"""Bench of the watcher: one staleness sweep and one digest over 1,000 simulated clusters.

Everything runs on loopback: SimCloud (1,000 clusters, 60 backups each, 50 ms added to every
request) in a child process of its own, as the real cloud is another machine (in this process it
would take the bot's CPU: encoding 60,000 backups a pass is the simulator's work, not the bot's);
FakeSlack and an SQLite store in a temporary directory in this one. For each of the sweep and the
digest it reports

* the wall time;
* the API requests made (from the simulated cloud's request log) against their lower bound: the
  cluster listing pages, one ``listBackups`` per cluster, the retention policies of the clusters
  with no snapshot schedule (their policies may set their maximum age: one ListByFolder listing
  for a folder with two or more of them, a page per 1,000 policies, else one per cluster), one
  ``listOperations`` per stale cluster (why it is late; a fresh one costs none), the empty pages
  with a next-page token the simulator served (the API's contract allows them, so a reader must
  follow them), and for the sweep the confirming re-read (``get`` + ``listBackups`` +
  ``listOperations``, and the policies of one with no schedule) of each new incident, and the
  watched folder's name (Folder.get, once per client and 5 minutes: the sweep's);
* the sweep and the digest queue their posts in the outbox; delivering them to Slack is
  measured by ``bench/bench_delivery.py``;
* the time lower bound ``ceil(requests / concurrency) * latency``, and the ratios (target:
  within 1.3x);
* peak memory: tracemalloc's peak of Python allocations during the phase (fake Slack's work
  included, since it shares the process) and this process's ``ru_maxrss`` (target: < 200 MB).

Wall times are taken in a first pass without tracemalloc (tracing slows allocation-heavy code
down and would distort the time ratio); memory in a second, identical pass on a fresh store.

Run: ``python bench/bench_watch.py`` (``--check`` exits 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot import clock
from bot.alerts.sweep import Sweeper
from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import generate_fleet
from bot.demo.simcloud.server import SimCloud
from bot.digest.runner import DigestRunner, DigestStatus
from bot.fleet.reader import PAGE_SIZE, read_fleet
from bot.settings import Settings
from bot.slack.notifier import SlackNotifier
from bot.store import Store

CLUSTERS = 1_000
BACKUPS = 60
LATENCY = 0.05
STALE_FRACTION = 0.02  # some clusters are stale: the sweep opens (and re-reads) incidents
#: The sweep and the digests read the fleet in the background lane, whose share of the requests
#: in flight is YC_BACKGROUND_IN_FLIGHT; the bench runs them with the defaults.
MAX_IN_FLIGHT: int = Settings.model_fields["yc_max_in_flight"].default
CONCURRENCY: int = Settings.model_fields["yc_background_in_flight"].default
TIME_TARGET = 1.3
MEMORY_TARGET_MB = 200.0
CONSOLE_URL = "https://console.example.test"


class SimProcess:
    """SimCloud in a child process, driven over a pipe: clear or count its request log."""

    def __init__(self, sim_config: SimConfig, now: datetime) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve_sim, args=(child, sim_config, now), name="simcloud", daemon=True
        )
        self._process.start()
        (
            self.url,
            self.folder_ids,
            self.unscheduled,
            self.stale,
            self.stale_unscheduled,
            self.policy_reads,
        ) = self._conn.recv()

    def _ask(self, *command: str) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def clear_requests(self) -> None:
        self._ask("clear")

    def requests(self) -> int:
        count: int = self._ask("count")
        return count

    def empty_pages(self) -> int:
        """Empty pages with a next-page token the simulator served so far (the contract allows
        them; a reader must follow them, so they count in the lower bound)."""
        count: int = self._ask("empty")
        return count

    def stop(self) -> float:
        """Stop the simulator; its peak RSS in MB."""
        rss: float = self._ask("stop")
        self._process.join(timeout=10)
        return rss


def _kinds(sim: SimCloud, now: datetime) -> tuple[int, int, int, int]:
    """Clusters with no snapshot schedule, stale ones (older than their schedule's period plus
    the 2 h grace, or a day and 2 h), stale ones with no schedule, and the retention-policy
    requests a reading of the fleet needs: a folder with two or more clusters with no schedule
    lists its policies at once (ListByFolder, a page per 1,000), one with one asks for it."""
    unscheduled = stale = both = 0
    wanting: dict[str, int] = {}
    policies: dict[str, int] = {}
    for cluster in sim.fleet.clusters.values():
        newest = sim.fleet.newest_backup(cluster.id)
        period = cluster.schedule.interval if cluster.schedule else timedelta(days=1)
        late = newest is None or now - newest.created_at > period + timedelta(hours=2)
        unscheduled += cluster.schedule is None
        stale += late
        both += late and cluster.schedule is None
        wanting[cluster.folder_id] = wanting.get(cluster.folder_id, 0) + (cluster.schedule is None)
        policies[cluster.folder_id] = policies.get(cluster.folder_id, 0) + len(
            cluster.policies or ()
        )
    policy_reads = sum(
        max(1, math.ceil(policies[folder] / PAGE_SIZE)) if n > 1 else n
        for folder, n in wanting.items()
    )
    return unscheduled, stale, both, policy_reads


def _serve_sim(conn: Connection, sim_config: SimConfig, now: datetime) -> None:
    asyncio.run(_sim_main(conn, sim_config, now))


async def _sim_main(conn: Connection, sim_config: SimConfig, now: datetime) -> None:
    sim = SimCloud(sim_config, generate_fleet(sim_config, now))
    loop = asyncio.get_running_loop()
    async with sim:
        conn.send((sim.url, sim.fleet.folder_ids(), *_kinds(sim, now)))
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "clear":
                sim.clear_requests()
                conn.send(None)
            elif command[0] == "count":
                conn.send(len(sim.requests))
            elif command[0] == "empty":
                conn.send(sim.empty_pages_served)
            else:
                break
    conn.send(maxrss_mb())


@dataclass
class Phase:
    name: str
    wall: float = 0.0
    requests: int = 0
    bound_requests: int = 0
    py_peak_mb: float = 0.0
    detail: str = ""

    @property
    def bound_time(self) -> float:
        return math.ceil(self.bound_requests / CONCURRENCY) * LATENCY

    @property
    def request_ratio(self) -> float:
        return self.requests / self.bound_requests

    @property
    def time_ratio(self) -> float:
        return self.wall / self.bound_time


def maxrss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def make_cloud(sim: SimProcess) -> CloudClient:
    return CloudClient(
        mdb_endpoint=sim.url,
        operation_endpoint=sim.url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        max_in_flight=MAX_IN_FLIGHT,
        background_in_flight=CONCURRENCY,
    )


async def one_pass(
    sim: SimProcess, config: BotConfig, now: datetime, workdir: Path, *, trace: bool
) -> tuple[Phase, Phase]:
    """A sweep, then a digest, on a fresh store; wall time or traced peak of each."""
    sweep, digest = Phase("sweep"), Phase("digest")
    listing_pages = max(1, math.ceil(CLUSTERS / PAGE_SIZE))
    async with (
        FakeSlack() as slack,
        await Store.open(f"sqlite+aiosqlite:///{workdir / 'state.db'}") as store,
    ):
        cloud = make_cloud(sim)
        notifier = SlackNotifier(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))
        console_url, owner = CONSOLE_URL, "bench"
        try:
            sweeper = Sweeper(cloud, store, config, console_url=console_url, owner=owner)
            sim.clear_requests()
            empty = sim.empty_pages()
            if trace:
                tracemalloc.reset_peak()
            started = time.perf_counter()
            result = await sweeper.run(now=now)
            sweep.wall = time.perf_counter() - started
            if trace:
                sweep.py_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            # Every stale cluster opens an incident (one route matches all), re-read once.
            reads = CLUSTERS + sim.policy_reads + sim.stale
            rereads = 3 * sim.stale + sim.stale_unscheduled
            sweep.requests = sim.requests()
            # A new client reads each watched folder's name once (Folder.get, kept 5 minutes:
            # the digest after it asks none).
            names = len(sim.folder_ids)
            sweep.bound_requests = (
                listing_pages + names + reads + rereads + sim.empty_pages() - empty
            )
            sweep.detail = result.summary()
            if not result.ok or result.skipped:
                raise SystemExit(f"the sweep did not complete: {result.summary()}")

            runner = DigestRunner(cloud, store, config, console_url=console_url, owner=owner)
            sim.clear_requests()
            empty = sim.empty_pages()
            if trace:
                tracemalloc.reset_peak()
            started = time.perf_counter()
            [posted] = await runner.run_all(now=now)
            digest.wall = time.perf_counter() - started
            if trace:
                digest.py_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            digest.requests = sim.requests()
            digest.bound_requests = (
                listing_pages + CLUSTERS + sim.policy_reads + sim.stale + sim.empty_pages() - empty
            )
            digest.detail = posted.summary()
            if posted.status != DigestStatus.QUEUED:
                raise SystemExit(f"the digest was not queued: {posted.summary()}")
        finally:
            await cloud.aclose()
            await notifier.aclose()
    return sweep, digest


async def bench(sim: SimProcess, now: datetime) -> list[Phase]:
    config = BotConfig.model_validate(
        {
            "watch": {"folders": sim.folder_ids},
            "alerts": [{"channel": "C0ONCALL", "mention": ["S0ONCALL"]}],
            "digests": [{"channel": "C0TEAM"}],
        }
    )
    # Warm-up: one fleet read, so that the simulator's one-time encoding of its 60,000 backups
    # (it caches each one) and opening connections are not counted against the bot.
    cloud = make_cloud(sim)
    try:
        await read_fleet(cloud, config)
    finally:
        await cloud.aclose()
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as first:
        timed = await one_pass(sim, config, now, Path(first), trace=False)
    tracemalloc.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-watch-") as second:
            traced = await one_pass(sim, config, now, Path(second), trace=True)
    finally:
        tracemalloc.stop()
    for phase, memory in zip(timed, traced, strict=True):
        phase.py_peak_mb = memory.py_peak_mb
    return list(timed)


def report(phases: list[Phase], rss: float, sim_rss: float) -> bool:
    print(
        f"watcher bench: {CLUSTERS} clusters x {BACKUPS} backups, {LATENCY * 1000:.0f} ms "
        f"latency, {CONCURRENCY} requests in flight (the background lane's share), SQLite store, "
        "FakeSlack"
    )
    header = (
        f"{'phase':<7} {'wall':>7} {'requests':>9} {'bound':>6} {'ratio':>6} "
        f"{'time bound':>11} {'ratio':>6} {'py peak':>9}  target"
    )
    print(header)
    ok = True
    for p in phases:
        met = (
            p.time_ratio <= TIME_TARGET
            and p.request_ratio <= TIME_TARGET
            and p.py_peak_mb < MEMORY_TARGET_MB
        )
        print(
            f"{p.name:<7} {p.wall:>6.2f}s {p.requests:>9} {p.bound_requests:>6} "
            f"{p.request_ratio:>5.2f}x {p.bound_time:>10.2f}s {p.time_ratio:>5.2f}x "
            f"{p.py_peak_mb:>6.1f} MB  {'met' if met else 'MISSED'}"
        )
        ok = ok and met
    print(f"ru_maxrss: {rss:.1f} MB (the simulated cloud's process: {sim_rss:.1f} MB)")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"load average at the end ({os.cpu_count()} CPUs): {load}")
    for p in phases:
        print(f"  {p.detail}")
    ok = ok and rss < MEMORY_TARGET_MB
    print(
        f"targets: time and requests within {TIME_TARGET}x of the bound, memory < "
        f"{MEMORY_TARGET_MB:.0f} MB: {'met' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    started = time.perf_counter()
    now = clock.now()
    sim_config = SimConfig(
        folders=1,
        clusters_per_folder=CLUSTERS,
        backups_per_cluster=BACKUPS,
        latency=LATENCY,
        stale_fraction=STALE_FRACTION,
        seed=42,
    )
    sim = SimProcess(sim_config, now)
    try:
        phases = asyncio.run(bench(sim, now))
    finally:
        sim_rss = sim.stop()
    ok = report(phases, maxrss_mb(), sim_rss)
    print(f"bench finished in {time.perf_counter() - started:.1f}s")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
