"""``backups-bot sweep [--dry-run] [--json]``: the staleness check, once, now.

It runs with the same state as the scheduled sweep (the store at DATABASE_URL): an open incident
gets no second alert. Without ``--dry-run`` it queues alerts, updates and resolved notices in the
outbox, delivers them (waiting up to ``--wait`` seconds, and not at all for posts that cannot go
before then: a channel Slack refuses, a Retry-After past it; what is not out stays queued for
``serve`` to deliver) and prints one line per post; with it nothing is claimed, queued or saved,
and the messages are printed as the demo console renders them, or as Slack payloads with
``--json``.

Like every sweep of ``serve``, it then runs the restore drills' reaper (when ``drills:`` is
configured): leftover drill clusters past their time limit are deleted and reported once; with
``--dry-run`` it only says which it would delete. It starts no drill (``backups-bot drill``
does).

Exit status: 0 done, 1 the cloud could not be read or a post is not (yet) in Slack, 2 a usage
or configuration error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.alerts.sweep import SweepResult
from bot.app.cli import EXIT_FAILURE, EXIT_OK, load_bot_config, load_settings, run_main
from bot.app.wiring import open_components
from bot.clock import now as clock_now
from bot.config import BotConfig
from bot.demo.console import render_console
from bot.drills.service import DrillService
from bot.outbox.change import QueuedPost
from bot.outbox.executor import DrainResult
from bot.outbox.posts import OutboundPost
from bot.settings import Settings

log = logging.getLogger(__name__)

#: Seconds the verbs wait for what they queued to be in Slack, by default.
DELIVERY_WAIT = 120.0


def register(subparsers: Any) -> None:
    """Add the ``sweep`` verb."""
    parser = subparsers.add_parser(
        "sweep",
        help="run the staleness check once; post alerts, or print them",
        description=(
            "Check every watched cluster's newest backup now, with the same state as the "
            "scheduled sweep, and post alerts, updates and resolved notices (or print them "
            "with --dry-run)."
        ),
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the messages instead of posting them"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_wait_argument(parser)
    parser.set_defaults(handler=run)


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    """``--wait SECONDS``: how long to wait for what was queued to be in Slack."""
    parser.add_argument(
        "--wait",
        type=float,
        default=DELIVERY_WAIT,
        metavar="SECONDS",
        help="how long to wait for the queued posts to be in Slack (default %(default)g); "
        "posts that cannot go before then (a channel Slack refuses) are not waited for; what "
        "is not out stays queued for `backups-bot serve`",
    )


def run(args: argparse.Namespace) -> int:
    """The ``sweep`` verb's handler."""
    settings = load_settings()
    config = load_bot_config(settings)
    result, drained, reaped = run_main(
        _sweep(settings, config, dry_run=args.dry_run, wait=max(args.wait, 0.0))
    )
    _print(result, drained, reaped, as_json=args.json)
    delivered = drained is None or drained.ok
    return EXIT_OK if result.ok and delivered else EXIT_FAILURE


@dataclass
class Reaped:
    """What the drills' reaper did after the sweep: the leftover drill clusters it deleted (or,
    in a dry run, would delete) and the posts that report them."""

    clusters: list[str] = field(default_factory=list)
    posts: list[OutboundPost] = field(default_factory=list)


async def _sweep(
    settings: Settings, config: BotConfig, *, dry_run: bool, wait: float
) -> tuple[SweepResult, DrainResult | None, Reaped]:
    async with open_components(settings, config, role="sweep-cli", slack=not dry_run) as parts:
        now = clock_now()
        result = await parts.sweeper.run(now=now, dry_run=dry_run, manual=True)
        reaped = await _reap(parts.drills, now=now, dry_run=dry_run)
        drained = None
        posts = [*result.posts, *reaped.posts]
        if not dry_run and posts and parts.executor is not None:
            drained = await parts.executor.deliver([p.id for p in posts], timeout=wait)
        return result, drained, reaped


async def _reap(drills: DrillService, *, now: datetime, dry_run: bool) -> Reaped:
    """The reaper's pass of every sweep (serve's run it after theirs, with the drills' other
    duties); a failure is logged and does not fail the sweep, as in ``serve``."""
    reaped = Reaped()
    if not drills.enabled:
        return reaped
    try:
        reaped.clusters = await drills.reaper.reap(now=now, dry_run=dry_run, reported=reaped.posts)
    except Exception:
        log.exception("the restore drills' reaper failed after the sweep")
    return reaped


def outcome_line(post: QueuedPost) -> str:
    """What became of one queued post, for a person."""
    if post.state == "sent":
        return f"{post.describe()}: in Slack (ts {post.ts})"
    if post.state == "superseded":
        return f"{post.describe()}: replaced by a newer update"
    if post.state == "failed":
        return f"{post.describe()}: FAILED ({post.error})"
    why = f" (last answer: {post.error})" if post.error else ""
    return f"{post.describe()}: still queued{why}; `backups-bot serve` delivers it"


def _print(
    result: SweepResult, drained: DrainResult | None, reaped: Reaped, *, as_json: bool
) -> None:
    if as_json:
        print(json.dumps(_json(result, drained, reaped), indent=2, ensure_ascii=False))
        return
    stream = sys.stdout if result.ok else sys.stderr
    if result.dry_run:
        print(f"# {result.summary()}")
        for error in result.fleet_errors:
            print(f"# warning: {error}")
        for cluster_id in reaped.clusters:
            print(f"# would delete leftover drill cluster {cluster_id}")
        for post in result.posts:
            print(f"# {post.describe()}")
            print(render_console(post.payload))
            print()
        return
    for cluster_id in reaped.clusters:
        print(f"deleted leftover drill cluster {cluster_id}")
    if drained is not None:
        for queued in drained.posts:
            ok = queued.state in ("sent", "superseded")
            print(outcome_line(queued), file=sys.stdout if ok else sys.stderr)
    for error in result.fleet_errors:
        print(f"warning: {error}", file=sys.stderr)
    print(result.summary(), file=stream)


def _json(result: SweepResult, drained: DrainResult | None, reaped: Reaped) -> dict[str, Any]:
    delivered = {p.id: p for p in drained.posts} if drained is not None else {}
    return {
        "slot": result.slot,
        "now": result.now.isoformat(),
        "dry_run": result.dry_run,
        "skipped": result.skipped,
        "ok": result.ok,
        "clusters": result.clusters,
        "blind": result.blind,
        "consecutive_failures": result.consecutive_failures,
        "errors": list(result.fleet_errors),
        "unconfirmed": list(result.unconfirmed),
        "doubted": list(result.doubted),
        "posts": [
            post_json(post, delivered.get(post.id)) for post in [*result.posts, *reaped.posts]
        ],
        "reaped": list(reaped.clusters),
    }


def post_json(post: OutboundPost, queued: QueuedPost | None) -> dict[str, Any]:
    """A planned or queued post, and what became of it, as JSON."""
    return {
        "id": post.id,
        "kind": post.kind.value,
        "method": post.method.value,
        "subject": post.subject,
        "parent_id": post.parent_id,
        "state": queued.state if queued is not None else None,
        "ts": queued.ts if queued is not None else None,
        "error": queued.error if queued is not None else None,
        "payload": {
            "channel": post.channel,
            **({"thread_ts": post.parent_ts} if post.parent_ts else {}),
            **post.payload,
        },
    }
