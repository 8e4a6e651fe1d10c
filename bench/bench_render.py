"""Bench of the renderers over a big fleet: how many Slack messages the digest and the paged views
take, how full each is, and how long rendering takes.

The fleet is the simulated cloud's (``generate_fleet``: realistic names, schedules and ages),
classified as the watcher does, with no I/O. For the digest (top post + thread) and for every
page of ``status`` and ``clusters`` it reports

* the messages, against their lower bound: the block text they carry divided by the 10,000
  characters one message may hold, rounded up (for the digest: its thread's text, plus the one
  top post, which holds a screenful on purpose);
* the fullest message's block text, against the budget (it must never be over);
* the wall time of rendering everything.

Run: ``python bench/bench_render.py [--clusters N]`` (``--check`` exits 1 if a message is over
budget or the messages exceed twice their lower bound).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bot.cloud.models import Backup, Cluster
from bot.config import Freshness
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.encoding import encode_backup, encode_cluster
from bot.demo.simcloud.fleet import generate_fleet
from bot.digest.messages import render_digest, render_status
from bot.digest.model import DigestInput, build_digest
from bot.freshness.policy import classify, max_age_for
from bot.queries.messages import ClusterRow, render_clusters
from bot.slack.blocks import SLACK
from bot.slack.budget import MAX_BLOCK_TEXT, block_text_length, violations

#: A message as Slack gets it (``text`` and ``blocks``).
Payload = dict[str, Any]

NOW = datetime(2026, 11, 23, 21, 20, tzinfo=UTC)
CONSOLE = "https://console.yandex.cloud"


def fleet(clusters: int) -> list[DigestInput]:
    folders = max(1, clusters // 100)
    config = SimConfig(
        folders=folders, clusters_per_folder=clusters // folders, backups_per_cluster=3, seed=5
    )
    sim = generate_fleet(config, NOW)
    freshness = Freshness()
    items = []
    for sim_cluster in sim.clusters.values():
        cluster = Cluster.model_validate(encode_cluster(sim_cluster))
        backups = [Backup.model_validate(encode_backup(b)) for b in sim.backups[cluster.id]]
        report = classify(cluster, backups, max_age=max_age_for(cluster, freshness), now=NOW)
        items.append(DigestInput(cluster, report, backups))
    return items


def pages(first: Payload, render: object) -> list[Payload]:
    """``first`` and every page after it, following the Next page buttons."""
    out = [first]
    while True:
        blocks = out[-1]["blocks"]
        buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
        if not buttons:
            return out
        assert callable(render)
        out.append(render(json.loads(buttons[0]["value"])["o"]))


def report(name: str, messages: list[Payload], rows_text: int, extra: int, wall: float) -> bool:
    bound = math.ceil(rows_text / MAX_BLOCK_TEXT) + extra
    fullest = max(block_text_length(m["blocks"]) for m in messages)
    over = [v for m in messages for v in violations(m)]
    print(
        f"{name:<10} {len(messages):>5} messages (lower bound {bound:>4}, "
        f"{len(messages) / bound:.2f}x)  fullest {fullest:>6} of {MAX_BLOCK_TEXT} chars  "
        f"rendered in {wall * 1000:7.1f} ms  over budget: {len(over)}"
    )
    return not over and len(messages) <= 2 * bound


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    items = fleet(args.clusters)
    print(f"{len(items)} clusters")
    ok = True

    started = time.perf_counter()
    digest = build_digest(items, {}, now=NOW, group_by=["folder"])
    rendered = render_digest(
        digest,
        title="Backups digest · Tue 24 Nov 2026",
        console_url=CONSOLE,
        limits=SLACK.limits,
    )
    posted = [SLACK.render(card) for card in rendered.messages()]
    wall = time.perf_counter() - started
    thread_rows = sum(block_text_length(m["blocks"][1:]) for m in posted[1:])
    ok &= report("digest", posted, thread_rows, 1, wall)

    started = time.perf_counter()
    status = build_digest(items, {}, now=NOW)

    def status_page(offset: int) -> Payload:
        card = render_status(
            status,
            title="Backups status",
            console_url=CONSOLE,
            limits=SLACK.limits,
            offset=offset,
        )
        return SLACK.render(card)

    shown = pages(status_page(0), status_page)
    wall = time.perf_counter() - started
    ok &= report("status", shown, sum(block_text_length(m["blocks"]) for m in shown), 0, wall)

    rows = [ClusterRow(i.cluster, i.report) for i in items]
    started = time.perf_counter()

    def clusters_page(offset: int) -> Payload:
        card = render_clusters(
            "the watched folders", rows, now=NOW, offset=offset, limits=SLACK.limits
        )
        return SLACK.render(card)

    shown = pages(clusters_page(0), clusters_page)
    wall = time.perf_counter() - started
    ok &= report("clusters", shown, sum(block_text_length(m["blocks"]) for m in shown), 0, wall)
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
