"""Bench of delivery at fleet scale: the 1,000-cluster digest and a 300-cluster storm, delivered to
a fake Slack that keeps Slack's pace and refuses what Slack refuses.

The fake Slack (in this process, on loopback) allows about one chat.postMessage a second per
channel with a burst of 3, answering 429 with Retry-After beyond that, and refuses a message
whose blocks hold more than 12,000 characters of text (msg_blocks_too_long). The bot runs with
its production pace (one post a second per channel). For each run it prints

* the posts: top-level and in threads, and how many mention on-call;
* Slack's refusals: 429s and refused messages (the target is none);
* the wall time from the first post to the last, against the pacing lower bound
  ``(posts - 1) / 1 per second`` (target: within 1.3x).

The simulated cloud answers at once (the cloud is not what is measured here); 1,000 clusters,
the storm's 300 of them stale at once, grouped as the config's alert route says (one group).

Run: ``python bench/bench_delivery.py`` (``--check`` exits 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from bot import clock
from bot.alerts.sweep import Sweeper
from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.fake_slack import STRICT_LIMITS, FakeSlack, Pace
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import generate_fleet
from bot.demo.simcloud.server import SimCloud
from bot.digest.runner import DigestRunner, DigestStatus
from bot.ops.metrics import Metrics
from bot.outbox.executor import DeliveryExecutor
from bot.slack.notifier import SlackNotifier
from bot.store import Store

CLUSTERS = 1_000
STORM = 300
ONCALL = "C0ONCALL"
TEAM = "C0TEAM"
ONCALL_GROUP = "S0ONCALL"
CONSOLE_URL = "https://console.example.test"
#: Slack's pace for chat.postMessage, as the fake keeps it: per channel.
SLACK_PACE = Pace(rate=1.0, burst=3)
TIME_TARGET = 1.3


@dataclass
class Run:
    name: str
    top_level: int = 0
    threaded: int = 0
    mentions: int = 0
    throttled: int = 0
    refused: int = 0
    wall: float = 0.0

    @property
    def posts(self) -> int:
        return self.top_level + self.threaded

    @property
    def bound(self) -> float:
        return max(self.posts - 1, 0) / SLACK_PACE.rate

    @property
    def ratio(self) -> float:
        return self.wall / self.bound if self.bound else 1.0

    @property
    def met(self) -> bool:
        return self.throttled == 0 and self.refused == 0 and self.ratio <= TIME_TARGET


def _refusals(metrics: Metrics) -> int:
    """Posts Slack refused (sent again as text, given up, or retried), as the executor counted."""
    total = 0.0
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == "backups_bot_deliveries_total" and sample.labels["outcome"] in (
                "text_only",
                "failed",
                "retried",
                "in_doubt",
                "parked",
            ):
                total += sample.value
    return int(total)


async def deliver(store: Store, slack: FakeSlack, ids: list[str], name: str, channel: str) -> Run:
    """Deliver ``ids`` at the production pace and measure what Slack saw."""
    notifier = SlackNotifier(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))
    metrics = Metrics()
    executor = DeliveryExecutor(store, notifier, owner="bench", metrics=metrics)
    before = len(slack.posts(channel))
    throttled = len(slack.throttled)
    try:
        result = await executor.deliver(ids, timeout=900)
    finally:
        await executor.aclose()
        await notifier.aclose()
    if not result.ok:
        raise SystemExit(f"{name}: not everything was delivered: {result.posts}")
    posts = slack.posts(channel)[before:]
    return Run(
        name,
        top_level=sum(1 for p in posts if p.thread_ts is None),
        threaded=sum(1 for p in posts if p.thread_ts is not None),
        mentions=sum(1 for p in posts if p.mentions),
        throttled=len(slack.throttled) - throttled,
        refused=_refusals(metrics),
        wall=posts[-1].at - posts[0].at if len(posts) > 1 else 0.0,
    )


async def bench(now: datetime, workdir: Path) -> list[Run]:
    sim_config = SimConfig(folders=1, clusters_per_folder=CLUSTERS, backups_per_cluster=5, seed=7)
    fleet = generate_fleet(sim_config, now)
    # Every cluster fresh, PRODUCTION, daily: the digest is a fleet's worth of rows; the storm
    # then takes away the newest backups of 300 of them.
    async with (
        SimCloud(sim_config, fleet) as sim,
        FakeSlack(limits=STRICT_LIMITS) as slack,
        await Store.open(f"sqlite+aiosqlite:///{workdir / 'state.db'}") as store,
    ):
        slack.pace("chat.postMessage", SLACK_PACE)
        for cluster in fleet.clusters.values():
            cluster.environment = "PRODUCTION"
            sim.add_backup(cluster.id, created_at=now - timedelta(hours=1))
        config = BotConfig.model_validate(
            {
                "watch": {"folders": fleet.folder_ids()},
                "freshness": {"overrides": [{"match": {}, "max_age": "26h"}]},
                "alerts": [{"channel": ONCALL, "mention": [ONCALL_GROUP], "group_after": 5}],
                "digests": [{"channel": TEAM}],
            }
        )
        cloud = CloudClient(
            mdb_endpoint=sim.url,
            operation_endpoint=sim.url,
            auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        )
        try:
            runner = DigestRunner(cloud, store, None, config, console_url=CONSOLE_URL, owner="b")
            [queued] = await runner.run_all(now=now, force=True)
            if queued.status != DigestStatus.QUEUED:
                raise SystemExit(f"the digest was not queued: {queued.summary()}")
            digest = await deliver(store, slack, [p.id for p in queued.posts], "digest", TEAM)

            for cluster_id in list(fleet.clusters)[:STORM]:
                fleet.drop_backups_after(cluster_id, now - timedelta(days=2))
            sweeper = Sweeper(cloud, store, None, config, console_url=CONSOLE_URL, owner="b")
            swept = await sweeper.run(now=now)
            if len(swept.posted) != 1:
                raise SystemExit(f"the storm was not one grouped alert: {swept.summary()}")
            storm = await deliver(store, slack, [p.id for p in swept.posts], "storm", ONCALL)

            again = await sweeper.run(now=now + timedelta(minutes=15))
            if again.posted:
                raise SystemExit(f"the second sweep of the storm posted again: {again.summary()}")
        finally:
            await cloud.aclose()
    return [digest, storm]


def report(runs: list[Run]) -> bool:
    print(
        f"delivery bench: {CLUSTERS} clusters, a storm of {STORM}; fake Slack at "
        f"{SLACK_PACE.rate:g} post/s per channel (burst {SLACK_PACE.burst}), refusing blocks "
        "over 12,000 characters; the bot at its production pace"
    )
    print(
        f"{'run':<7} {'top':>4} {'thread':>7} {'pings':>6} {'429s':>5} {'refused':>8} "
        f"{'wall':>7} {'bound':>7} {'ratio':>6}  target"
    )
    for r in runs:
        print(
            f"{r.name:<7} {r.top_level:>4} {r.threaded:>7} {r.mentions:>6} {r.throttled:>5} "
            f"{r.refused:>8} {r.wall:>6.1f}s {r.bound:>6.1f}s {r.ratio:>5.2f}x  "
            f"{'met' if r.met else 'MISSED'}"
        )
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"load average at the end ({os.cpu_count()} CPUs): {load}")
    ok = all(r.met for r in runs)
    print(
        f"targets: no 429 and no refusal, wall within {TIME_TARGET}x of (posts - 1) at "
        f"{SLACK_PACE.rate:g}/s: {'met' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as workdir:
        runs = asyncio.run(bench(clock.now(), Path(workdir)))
    ok = report(runs)
    print(f"bench finished in {time.perf_counter() - started:.1f}s")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
