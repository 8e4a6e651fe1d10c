"""How fast the client lists every cluster's backups, against the ideal for its concurrency.

Starts the simulated cloud on loopback (1,000 clusters x 60 backups, 50 ms of latency per
request), lists every cluster's backups through CloudClient with the default concurrency, and
prints the requests made, the wall time, the lower bound ceil(requests / concurrency) x latency
and their ratio (target <= 1.3); then the same listing one request at a time on a 100-cluster
subset, scaled to the whole fleet; then peak memory; then ``/backups list`` of a cluster of 1,000
backups through the dispatcher (time to the answer and requests made, against the bound of its
sequential pages x latency).

The simulator takes the API's freedoms (no order, an empty page with a token now and then, int64
as numbers...), as the real cloud may: the requests counted include its empty pages.

The simulator runs in a child process (``python -m bot.demo.simcloud``) with its responses encoded
before the clock starts, so that its CPU sits on the other core and the numbers are the client's.

Run: .venv/bin/python bench/bench_cloud_list.py [--clusters N] [--backups N] [--latency-ms N]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import socket
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence

from bot import clock
from bot.app.wiring import build_features
from bot.chat.actions import Invocation
from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.config import BotConfig, Watch
from bot.demo.simcloud import DEFAULT_STATIC_TOKEN
from bot.settings import Settings

TARGET_RATIO = 1.3
FOLDERS = 10
INVOKER = Invocation(user_id="U0BENCH", channel_id="C0BENCH")


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def start_sim(
    clusters: int, backups: int, latency_ms: float, folders: int = FOLDERS
) -> tuple[asyncio.subprocess.Process, str, list[str]]:
    """Start the simulator in a child process; return it, its URL and its folder ids."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.demo.simcloud",
        "--port",
        str(port),
        "--folders",
        str(folders),
        "--clusters",
        str(clusters // folders),
        "--backups",
        str(backups),
        "--latency",
        str(latency_ms),
        "--preencode",
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
    if "simulated cloud at" not in first:
        raise RuntimeError(f"the simulator did not start: {first!r}")
    url = first.split()[3]
    ids = []
    for _ in range(folders):
        ids.append((await proc.stdout.readline()).decode().split()[1])
    return proc, url, ids


def make_client(url: str, max_in_flight: int, outcomes: Counter[str]) -> CloudClient:
    """A client of the simulator that counts its HTTP attempts by outcome."""
    return CloudClient(
        mdb_endpoint=url,
        operation_endpoint=url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        max_in_flight=max_in_flight,
        on_request=lambda method, outcome, seconds: outcomes.update([outcome]),
    )


async def list_all(client: CloudClient, cluster_ids: Sequence[str]) -> int:
    """List every backup of every cluster, all clusters at once; return the backups seen."""

    async def one(cluster_id: str) -> int:
        return sum([1 async for _ in client.list_cluster_backups(cluster_id)])

    counts = await asyncio.gather(*(one(c) for c in cluster_ids))
    return sum(counts)


async def run(clusters: int, backups: int, latency_ms: float, subset: int) -> None:
    """The whole benchmark."""
    # A bulk listing is what the scheduled sweep does, in the background lane: its share of the
    # requests in flight (YC_BACKGROUND_IN_FLIGHT) is the concurrency that bounds it.
    concurrency: int = Settings.model_fields["yc_background_in_flight"].default
    latency = latency_ms / 1000
    started = time.perf_counter()
    proc, url, folders = await start_sim(clusters, backups, latency_ms)
    print(
        f"simulator: {clusters} clusters x {backups} backups, {latency_ms:.0f} ms per request, "
        f"child process at {url} (ready in {time.perf_counter() - started:.1f} s)"
    )
    try:
        async with make_client(url, concurrency, Counter()) as client:
            cluster_ids = [c.id for f in folders async for c in client.list_clusters(f)]

        # 1. Everything, with the default concurrency.
        outcomes: Counter[str] = Counter()
        async with make_client(url, concurrency, outcomes) as client:
            await client.get_cluster(cluster_ids[0])  # open the first connection untimed
            outcomes.clear()
            started = time.perf_counter()
            cpu_started = time.process_time()
            seen = await list_all(client, cluster_ids)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            peak = client.limiter.peak_in_flight
        requests = sum(outcomes.values())
        bound = math.ceil(requests / concurrency) * latency
        ratio = wall / bound
        print(f"\nconcurrent listing of {len(cluster_ids)} clusters (max_in_flight={concurrency})")
        print(f"  backups listed         {seen}")
        print(f"  requests made          {requests}  by outcome {dict(outcomes)}")
        print(f"  peak in flight         {peak}")
        print(f"  wall time              {wall:.2f} s  (client CPU {cpu:.2f} s)")
        print(
            f"  lower bound            {bound:.2f} s  "
            f"= ceil({requests} / {concurrency}) x {latency_ms:.0f} ms"
        )
        verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
        print(f"  ratio                  {ratio:.2f}  (target <= {TARGET_RATIO}: {verdict})")
        load = os.getloadavg()[0]
        print(f"  machine load           {load:.1f} on {os.cpu_count()} cores (1-minute average)")

        # 2. One request at a time, on a subset (the whole fleet would take about a minute).
        outcomes_seq: Counter[str] = Counter()
        part = cluster_ids[:subset]
        async with make_client(url, 1, outcomes_seq) as client:
            started = time.perf_counter()
            await list_all(client, part)
            seq_wall = time.perf_counter() - started
        seq_requests = sum(outcomes_seq.values())
        scaled = seq_wall * len(cluster_ids) / len(part)
        print(f"\none request at a time (max_in_flight=1), {len(part)}-cluster subset")
        print(f"  requests made          {seq_requests}")
        print(f"  wall time              {seq_wall:.2f} s")
        print(f"  scaled x{len(cluster_ids) // len(part)} to all      {scaled:.1f} s (estimate)")
        print(f"  concurrency speed-up   x{scaled / wall:.1f}")

        # 3. Memory. Traced in a separate pass: tracing slows Python several times over and
        # would spoil the timing above.
        tracemalloc.start()
        async with make_client(url, concurrency, Counter()) as client:
            await list_all(client, cluster_ids)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        proc.terminate()
        await proc.wait()
    mib = 1024 * 1024 if sys.platform == "darwin" else 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / mib
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / mib
    print("\nmemory")
    print(f"  tracemalloc peak       {traced_peak / 2**20:.1f} MiB during one concurrent listing")
    print(f"  ru_maxrss, client      {own:.1f} MiB (this process)")
    print(f"  ru_maxrss, simulator   {child:.1f} MiB (child process, fleet included)")

    await bench_list_command(latency_ms)


async def bench_list_command(latency_ms: float, backups: int = 1000, runs: int = 10) -> None:
    """``/backups list`` of one cluster of ``backups`` backups, through the dispatcher: every
    page is read and sorted before the first answer, so time it against its pages."""
    latency = latency_ms / 1000
    proc, url, (folder,) = await start_sim(1, backups, latency_ms, folders=1)
    methods: Counter[str] = Counter()
    walls: list[float] = []
    pages: list[int] = []
    total: list[int] = []
    try:
        async with CloudClient(
            mdb_endpoint=url,
            operation_endpoint=url,
            auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
            on_request=lambda method, outcome, seconds: methods.update([method]),
        ) as client:
            (cluster_id,) = [c.id async for c in client.list_clusters(folder)]
            config = BotConfig(watch=Watch(folders=[folder]))
            dispatcher = build_features(client, config).router
            for run in range(runs + 1):
                methods.clear()
                started = time.perf_counter()
                reply = await dispatcher.run(f"list {cluster_id}", INVOKER, now=clock.now())
                wall = time.perf_counter() - started
                assert reply.ok, reply.messages[0].text
                if run == 0:
                    continue  # the first opens the connections and fills the cluster cache
                walls.append(wall)
                total.append(sum(methods.values()))
                pages.append(methods["Cluster.listBackups"])
    finally:
        proc.terminate()
        await proc.wait()
    bound = max(pages) * latency
    walls.sort()
    median = walls[len(walls) // 2]
    print(f"\n/backups list of a {backups}-backup cluster, through the dispatcher ({runs} runs)")
    print(
        f"  requests per answer    {min(total)}-{max(total)} ({min(pages)}-{max(pages)} "
        "Cluster.listBackups pages of 1000, empty ones included; Cluster.get once cached)"
    )
    print(f"  time to the answer     median {median * 1000:.0f} ms, max {walls[-1] * 1000:.0f} ms")
    print(
        f"  lower bound            {bound * 1000:.0f} ms = {max(pages)} sequential page(s) x "
        f"{latency_ms:.0f} ms"
    )
    print(f"  ratio (median)         {median / bound:.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description="Benchmark listing backups through CloudClient.")
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--backups", type=int, default=60)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--subset", type=int, default=100)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    asyncio.run(run(args.clusters, args.backups, args.latency_ms, args.subset))
    print(f"\ntotal script time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
