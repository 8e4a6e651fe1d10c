"""Bench of the watcher at fleet scale: ``digest --dry-run`` and ``sweep --dry-run`` as a person
runs them, at 1,000 and 3,000 clusters (and 10,000 with ``--sizes 1000,3000,10000``).

Each run is the real console script in a process of its own (``backups-bot digest --dry-run``),
so that its peak RSS and CPU are its own, read from ``wait4``'s resource usage; the simulated
cloud (60 backups a cluster, 2 % stale, 50 ms added to every request, every backup encoded
before serving) runs in another process, as the real cloud is another machine. For each run it
prints

* the cloud requests made (the simulator's request log) against their lower bound: the listing
  pages, one ``listBackups`` per cluster, the retention policies of the clusters with no
  snapshot schedule (one ListByFolder listing of the folder, a page per 1,000 policies), one
  ``listOperations`` per stale cluster, the folder's name (Folder.get, once a process), and the
  empty pages with a token the simulator served;
* the wall time against the time bound ``ceil(bound / in flight) * latency`` (16 requests in
  flight: the background lane's share);
* the process's peak RSS and its CPU time (user + system), and CPU per request;
* the machine's load average, since other work on it slows every figure down.

Run: ``python bench/bench_scale.py [--sizes 1000,3000]``.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_watch import CONCURRENCY, LATENCY, SimProcess

from bot import clock
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.fleet.reader import PAGE_SIZE

BACKUPS = 60
STALE_FRACTION = 0.02
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    verb: str
    clusters: int
    requests: int
    bound: int
    wall: float
    rss_mb: float
    cpu: float
    load: float
    status: int

    @property
    def bound_time(self) -> float:
        return math.ceil(self.bound / CONCURRENCY) * LATENCY


def _run_verb(verb: str, env: dict[str, str]) -> tuple[int, float, float, float]:
    """Run ``backups-bot <verb> --dry-run``; its exit status, wall time, peak RSS (MB), CPU."""
    script = Path(sys.executable).parent / "backups-bot"
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(script), verb, "--dry-run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    rss_mb = usage.ru_maxrss / 1024  # Linux: kilobytes
    return process.returncode, wall, rss_mb, usage.ru_utime + usage.ru_stime


def bench_size(clusters: int, workdir: Path) -> list[Run]:
    now = clock.now()
    sim_config = SimConfig(
        folders=1,
        clusters_per_folder=clusters,
        backups_per_cluster=BACKUPS,
        latency=LATENCY,
        stale_fraction=STALE_FRACTION,
        seed=42,
    )
    sim = SimProcess(sim_config, now)
    runs = []
    try:
        config = workdir / f"bot-{clusters}.yaml"
        config.write_text(
            f"watch: {{folders: [{sim.folder_ids[0]}]}}\n"
            "digests:\n  - channel: C0TEAM\nalerts:\n  - channel: C0ONCALL\n",
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "YC_MDB_ENDPOINT": sim.url,
            "YC_RESOURCE_MANAGER_ENDPOINT": sim.url,
            "YC_OPERATION_ENDPOINT": sim.url,
            "YC_IAM_ENDPOINT": sim.url,
            "YC_IAM_TOKEN": DEFAULT_STATIC_TOKEN,
            "BACKUPS_BOT_CONFIG": str(config),
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / f'state-{clusters}.db'}",
        }
        # Warm-up: the simulator encodes each backup once, on first reading.
        _run_verb("digest", env)
        listing_pages = max(1, math.ceil(clusters / PAGE_SIZE))
        for verb in ("digest", "sweep"):
            sim.clear_requests()
            empty = sim.empty_pages()
            status, wall, rss, cpu = _run_verb(verb, env)
            # Each run is a new process: it reads the watched folder's name once (Folder.get).
            bound = listing_pages + len(sim.folder_ids) + clusters + sim.policy_reads + sim.stale
            bound += sim.empty_pages() - empty
            load = os.getloadavg()[0]
            runs.append(Run(verb, clusters, sim.requests(), bound, wall, rss, cpu, load, status))
    finally:
        sim.stop()
    return runs


def report(runs: list[Run]) -> None:
    print(
        f"scale bench: {BACKUPS} backups a cluster, {LATENCY * 1000:.0f} ms a request, "
        f"{CONCURRENCY} in flight, {os.cpu_count()} CPUs"
    )
    print(
        "| run | clusters | requests / bound | window / bound | peak RSS | CPU | CPU per request "
        "| load (1 min) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        failed = "" if r.status == 0 else f" (exit {r.status})"
        print(
            f"| `{r.verb} --dry-run`{failed} | {r.clusters:,} | {r.requests:,} / {r.bound:,} | "
            f"{r.wall:.1f} / {r.bound_time:.1f} s = {r.wall / r.bound_time:.2f} | "
            f"{r.rss_mb:.0f} MB | {r.cpu:.1f} s | {r.cpu / max(r.requests, 1) * 1000:.2f} ms | "
            f"{r.load:.1f} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,3000", help="cluster counts, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    started = time.perf_counter()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for size in sizes:
            runs += bench_size(size, Path(tmp))
    report(runs)
    print(f"bench finished in {time.perf_counter() - started:.1f}s")
    return 0 if all(r.status == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
