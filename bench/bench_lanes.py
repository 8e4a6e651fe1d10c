"""Bench of the limiter's lanes: a person's ``/backups list`` during a scheduled fleet read.

SimCloud (1,000 clusters x 60 backups, 50 ms added to every request) runs in a child process
(``python -m bot.demo.simcloud``), its responses encoded before the clock starts. One
CloudClient with
the defaults of ``backups-bot serve`` (``YC_MAX_IN_FLIGHT`` 64 in all, of which
``YC_BACKGROUND_IN_FLIGHT`` 16 for the background lane) runs a full fleet read in the background
lane (:func:`bot.fleet.reader.read_fleet`, what every sweep and digest does: about 1,570
requests: a ``listBackups`` per cluster, the retention policies of those with no snapshot
schedule, the operations of the stale ones; at most ``READERS`` (32) clusters read at once)
while 20 interactive ``list_cluster_backups`` calls are made, one every 100 ms from 200 ms after
the read starts. Reported:

* the calls' latency p50 / p99 / max, against the lower bound: one request's latency (50 ms)
  times the pages a call needs (60 backups: one page);
* the same with the lanes disabled: the calls made in the background lane too, so that they
  queue first come, first served behind the read for its 16 slots (the behaviour before lanes);
* the same calls with no read running, for reference;
* the background read's wall time alone, with the interactive calls, and its lower bound
  ``ceil(requests / 16) x 50 ms``.

Targets (``--check`` exits 1 when one is missed): with lanes, the calls' p99 within 1.5x of their
lower bound, and the read slowed by less than 10% by them. Not 1x: the event loop that handles
the read's responses handles the calls' too.

Run: ``.venv/bin/python bench/bench_lanes.py [--check]`` (about 30 s).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import statistics
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field

from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.cloud.limits import Lane, background_lane
from bot.config import BotConfig
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN
from bot.fleet.reader import read_fleet
from bot.settings import Settings

CLUSTERS = 1_000
BACKUPS = 60
LATENCY = 0.05
#: The defaults of serve: requests in flight in all, and the background lane's share of them.
MAX_IN_FLIGHT: int = Settings.model_fields["yc_max_in_flight"].default
CONCURRENCY: int = Settings.model_fields["yc_background_in_flight"].default
CALLS = 20
CALL_EVERY = 0.1
FIRST_CALL_AFTER = 0.2
#: The calls list with the client's default page size: this many pages each.
CALL_PAGES = math.ceil(BACKUPS / 1000)
P99_TARGET = 1.5  # x the calls' lower bound
READ_SLOWDOWN_TARGET = 1.1  # read wall with the calls / alone


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    queued_at_answer: list[int] = field(default_factory=list)
    read_wall: float | None = None
    read_requests: int = 0

    def pct(self, q: float) -> float:
        """Nearest-rank percentile of the latencies."""
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def start_sim() -> tuple[asyncio.subprocess.Process, str, str]:
    """The simulator in a child process; it, its URL and its folder id."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.demo.simcloud",
        "--port",
        str(free_port()),
        "--folders",
        "1",
        "--clusters",
        str(CLUSTERS),
        "--backups",
        str(BACKUPS),
        "--latency",
        str(LATENCY * 1000),
        "--stale",
        "0.02",
        "--preencode",
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
    if "simulated cloud at" not in first:
        raise RuntimeError(f"the simulator did not start: {first!r}")
    url = first.split()[3]
    folder = (await proc.stdout.readline()).decode().split()[1]
    return proc, url, folder


async def calls(
    cloud: CloudClient, cluster_ids: Sequence[str], run: Run, *, lanes: bool, started: float
) -> None:
    """The person's calls: one every CALL_EVERY, each timed from when it is made."""

    async def one(cluster_id: str) -> None:
        # Without lanes the person's calls queue with the read, first come, first served.
        with nullcontext() if lanes else background_lane():
            begun = time.perf_counter()
            count = sum([1 async for _ in cloud.list_cluster_backups(cluster_id)])
            run.latencies.append(time.perf_counter() - begun)
        run.queued_at_answer.append(cloud.limiter.waiting(Lane.BACKGROUND))
        assert count == BACKUPS, f"{cluster_id}: {count} backups"

    tasks = []
    for i, cluster_id in enumerate(cluster_ids):
        delay = started + FIRST_CALL_AFTER + i * CALL_EVERY - time.perf_counter()
        await asyncio.sleep(max(0.0, delay))
        tasks.append(asyncio.create_task(one(cluster_id)))
    await asyncio.gather(*tasks)


async def measure(
    cloud: CloudClient,
    config: BotConfig,
    cluster_ids: Sequence[str],
    name: str,
    *,
    read: bool,
    interactive: bool,
    lanes: bool = True,
) -> Run:
    """One run: the background read, the calls, or both at once."""
    run = Run(name)
    cloud.limiter.peak_in_flight = 0
    started = time.perf_counter()

    async def background() -> None:
        with background_lane():
            fleet = await read_fleet(cloud, config)
        run.read_wall = time.perf_counter() - started
        run.read_requests = fleet.requests
        if fleet.errors or len(fleet.clusters) != CLUSTERS:
            raise SystemExit(f"the fleet read failed: {fleet.errors[:3]}")

    work = []
    if read:
        work.append(background())
    if interactive:
        work.append(calls(cloud, cluster_ids, run, lanes=lanes, started=started))
    await asyncio.gather(*work)
    assert cloud.limiter.peak_in_flight <= MAX_IN_FLIGHT
    return run


async def bench() -> list[Run]:
    started = time.perf_counter()
    proc, url, folder = await start_sim()
    print(
        f"simulator: {CLUSTERS} clusters x {BACKUPS} backups, {LATENCY * 1000:.0f} ms per "
        f"request, child process at {url} (ready in {time.perf_counter() - started:.1f} s)"
    )
    config = BotConfig.model_validate({"watch": {"folders": [folder]}})
    cloud = CloudClient(
        mdb_endpoint=url,
        operation_endpoint=url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        max_in_flight=MAX_IN_FLIGHT,
        background_in_flight=CONCURRENCY,
    )
    try:
        cluster_ids = [c.id async for c in cloud.list_clusters(folder)]
        # Spread over the fleet, none of them first in the read's queue.
        picked = cluster_ids[CLUSTERS // (2 * CALLS) :: CLUSTERS // CALLS][:CALLS]
        # Warm-up: connections opened and the simulator's caches filled, untimed.
        await read_fleet(cloud, config)
        return [
            await measure(cloud, config, picked, "calls alone", read=False, interactive=True),
            await measure(cloud, config, picked, "read alone", read=True, interactive=False),
            await measure(cloud, config, picked, "with lanes", read=True, interactive=True),
            await measure(
                cloud, config, picked, "without lanes", read=True, interactive=True, lanes=False
            ),
        ]
    finally:
        await cloud.aclose()
        proc.terminate()
        await proc.wait()


def report(runs: list[Run]) -> bool:
    alone, read_alone, lanes, fifo = runs
    call_bound = CALL_PAGES * LATENCY
    assert read_alone.read_wall is not None
    assert lanes.read_wall is not None
    read_bound = math.ceil(read_alone.read_requests / CONCURRENCY) * LATENCY
    print(
        f"\n{CALLS} interactive list_cluster_backups, one every {CALL_EVERY * 1000:.0f} ms from "
        f"{FIRST_CALL_AFTER * 1000:.0f} ms, during a background fleet read of "
        f"{read_alone.read_requests} requests; {MAX_IN_FLIGHT} requests in flight at most, "
        f"{CONCURRENCY} of them for the read"
    )
    print(
        f"lower bound of a call: {CALL_PAGES} page x {LATENCY * 1000:.0f} ms = "
        f"{call_bound * 1000:.0f} ms; of the read: ceil({read_alone.read_requests} / "
        f"{CONCURRENCY}) x {LATENCY * 1000:.0f} ms = {read_bound:.2f} s"
    )
    print(
        f"\n{'run':<34} {'p50':>8} {'p99':>8} {'max':>8} {'p99/bound':>10} "
        f"{'read queue at answer':>21} {'read wall':>10}"
    )
    for run, label in (
        (alone, "calls alone, no read"),
        (read_alone, "read alone"),
        (lanes, "with lanes (calls interactive)"),
        (fifo, "without lanes (one FIFO lane)"),
    ):
        if run.latencies:
            figures = (
                f"{run.pct(0.5) * 1000:>6.0f}ms {run.pct(0.99) * 1000:>6.0f}ms "
                f"{max(run.latencies) * 1000:>6.0f}ms {run.pct(0.99) / call_bound:>9.1f}x "
                f"{statistics.median(run.queued_at_answer):>21.0f}"
            )
        else:
            figures = f"{'':>8} {'':>8} {'':>8} {'':>10} {'':>21}"
        wall = f"{run.read_wall:>9.2f}s" if run.read_wall is not None else ""
        print(f"{label:<34} {figures} {wall}")
    slowdown = lanes.read_wall / read_alone.read_wall
    p99_ratio = lanes.pct(0.99) / call_bound
    print(
        f"\nthe read with the calls: {slowdown:.2f}x its wall alone "
        f"({read_alone.read_wall / read_bound:.2f}x its lower bound alone)"
    )
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"load average at the end ({os.cpu_count()} CPUs): {load}")
    ok = p99_ratio <= P99_TARGET and slowdown <= READ_SLOWDOWN_TARGET
    print(
        f"targets: with lanes, p99 within {P99_TARGET:g}x of a call's lower bound "
        f"({p99_ratio:.1f}x), read slowed by less than {READ_SLOWDOWN_TARGET:g}x "
        f"({slowdown:.2f}x): {'met' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    started = time.perf_counter()
    ok = report(asyncio.run(bench()))
    print(f"bench finished in {time.perf_counter() - started:.1f}s")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
