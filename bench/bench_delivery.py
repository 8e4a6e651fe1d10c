"""Bench of delivery at fleet scale: the 1,000-cluster digest and a 300-cluster storm, delivered to
a fake Slack that keeps Slack's pace and refuses what Slack refuses, under both pace models.

The fake Slack (in this process, on loopback) refuses a message whose blocks hold more than
12,000 characters of text (msg_blocks_too_long) and keeps chat.postMessage to one of two pace
models per channel, answering 429 with Retry-After beyond it:

* ``bucket``: a token bucket, one post a second with a burst of 3 (Slack's published limit);
* ``strict``: at most three posts in any three seconds (what a real workspace was seen to keep,
  stricter about bursts: a fourth post a second after a burst of three is refused).

The bot runs with its production pace (one post a second per channel), which learns from a 429
(no bursts, posts spaced from Slack's answers, for a while). For each model and run it prints

* the posts: top-level and in threads, and how many mention on-call;
* Slack's refusals: 429s (and of them, those after the first of a run, which a pace that learned
  meets none of), and other refused messages (the target is none of either);
* the window from the first post to the last, against the pacing lower bound
  ``(posts - 1) / 1 per second`` (target: within 1.3x).

The simulated cloud answers at once (the cloud is not what is measured here); 1,000 clusters,
the storm's 300 of them stale at once, grouped as the config's alert route says (one group).

Run: ``python bench/bench_delivery.py`` (``--model bucket|strict`` for one model; ``--check``
exits 1 when a target is missed).
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
from bot.demo.fake_slack import STRICT_LIMITS, STRICT_PACE, FakeSlack, Pace, WindowPace
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
#: Slack's pace models for chat.postMessage, as the fake keeps them: per channel.
MODELS: dict[str, Pace | WindowPace] = {"bucket": Pace(rate=1.0, burst=3), "strict": STRICT_PACE}
#: The pace both models allow in the long run: the pacing bound's rate.
SLACK_RATE = 1.0
TIME_TARGET = 1.3


@dataclass
class Run:
    model: str
    name: str
    top_level: int = 0
    threaded: int = 0
    mentions: int = 0
    throttled: int = 0
    #: 429s after the first: a pace that learned from the first meets none.
    again: int = 0
    refused: int = 0
    wall: float = 0.0

    @property
    def posts(self) -> int:
        return self.top_level + self.threaded

    @property
    def bound(self) -> float:
        return max(self.posts - 1, 0) / SLACK_RATE

    @property
    def ratio(self) -> float:
        return self.wall / self.bound if self.bound else 1.0

    @property
    def met(self) -> bool:
        return self.throttled == 0 and self.refused == 0 and self.ratio <= TIME_TARGET


def _refusals(metrics: Metrics, throttled: int) -> int:
    """Posts Slack refused other than for its pace (sent again as text, given up, in doubt,
    parked, or retried for another reason than a 429), as the executor counted."""
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
    return max(int(total) - throttled, 0)


async def deliver(
    store: Store, slack: FakeSlack, ids: list[str], model: str, name: str, channel: str
) -> Run:
    """Deliver ``ids`` at the production pace and measure what Slack saw."""
    # As `serve` and the verbs make it: one connection pool for every post.
    notifier = SlackNotifier(
        AsyncWebClient(token=slack.bot_token, base_url=slack.api_url), keep_alive=True
    )
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
    refusals = len(slack.throttled) - throttled
    return Run(
        model,
        name,
        top_level=sum(1 for p in posts if p.thread_ts is None),
        threaded=sum(1 for p in posts if p.thread_ts is not None),
        mentions=sum(1 for p in posts if p.mentions),
        throttled=refusals,
        again=max(refusals - 1, 0),
        refused=_refusals(metrics, refusals),
        wall=posts[-1].at - posts[0].at if len(posts) > 1 else 0.0,
    )


async def bench(now: datetime, workdir: Path, model: str) -> list[Run]:
    sim_config = SimConfig(folders=1, clusters_per_folder=CLUSTERS, backups_per_cluster=5, seed=7)
    fleet = generate_fleet(sim_config, now)
    # Every cluster fresh, PRODUCTION, daily: the digest is a fleet's worth of rows; the storm
    # then takes away the newest backups of 300 of them.
    async with (
        SimCloud(sim_config, fleet) as sim,
        FakeSlack(limits=STRICT_LIMITS) as slack,
        await Store.open(f"sqlite+aiosqlite:///{workdir / f'{model}.db'}") as store,
    ):
        slack.pace("chat.postMessage", MODELS[model])
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
            runner = DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="b")
            [queued] = await runner.run_all(now=now, force=True)
            if queued.status != DigestStatus.QUEUED:
                raise SystemExit(f"the digest was not queued: {queued.summary()}")
            digest = await deliver(
                store, slack, [p.id for p in queued.posts], model, "digest", TEAM
            )

            for cluster_id in list(fleet.clusters)[:STORM]:
                fleet.drop_backups_after(cluster_id, now - timedelta(days=2))
            sweeper = Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="b")
            swept = await sweeper.run(now=now)
            if len(swept.posted) != 1:
                raise SystemExit(f"the storm was not one grouped alert: {swept.summary()}")
            storm = await deliver(store, slack, [p.id for p in swept.posts], model, "storm", ONCALL)

            again = await sweeper.run(now=now + timedelta(minutes=15))
            if again.posted:
                raise SystemExit(f"the second sweep of the storm posted again: {again.summary()}")
        finally:
            await cloud.aclose()
    return [digest, storm]


def describe(model: str) -> str:
    pace = MODELS[model]
    if isinstance(pace, WindowPace):
        return f"{model}: at most {pace.calls} posts in any {pace.seconds:g} s per channel"
    return f"{model}: {pace.rate:g} post/s per channel, burst {pace.burst}"


def report(runs: list[Run]) -> bool:
    models = list(dict.fromkeys(r.model for r in runs))
    print(
        f"delivery bench: {CLUSTERS} clusters, a storm of {STORM}; fake Slack refusing blocks "
        "over 12,000 characters, paced as " + "; ".join(describe(m) for m in models) + "; the "
        "bot at its production pace (1 post/s per channel, careful after a 429)"
    )
    print(
        f"{'model':<7} {'run':<7} {'top':>4} {'thread':>7} {'pings':>6} {'429s':>5} "
        f"{'again':>6} {'refused':>8} {'window':>7} {'bound':>7} {'ratio':>6}  target"
    )
    for r in runs:
        print(
            f"{r.model:<7} {r.name:<7} {r.top_level:>4} {r.threaded:>7} {r.mentions:>6} "
            f"{r.throttled:>5} {r.again:>6} {r.refused:>8} {r.wall:>6.1f}s {r.bound:>6.1f}s "
            f"{r.ratio:>5.2f}x  {'met' if r.met else 'MISSED'}"
        )
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"load average at the end ({os.cpu_count()} CPUs): {load}")
    ok = all(r.met for r in runs)
    print(
        f"targets: no 429 and no refusal, window within {TIME_TARGET}x of (posts - 1) at "
        f"{SLACK_RATE:g}/s: {'met' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--model", choices=sorted(MODELS), help="one of Slack's pace models (default: both)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as workdir:
        for model in [args.model] if args.model else list(MODELS):
            runs += asyncio.run(bench(clock.now(), Path(workdir), model))
    ok = report(runs)
    print(f"bench finished in {time.perf_counter() - started:.1f}s")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
