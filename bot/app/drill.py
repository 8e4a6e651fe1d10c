"""``backups-bot drill <cluster> [--dry-run]``: one restore drill, now, to its end.

It restores the cluster's backup (as its ``drills:`` route says) into a throwaway cluster, waits
until it runs with every host alive, deletes it and confirms it gone, then posts the result in
the route's channel and prints it. ``--dry-run`` prints what it would create and what that may
cost, and creates nothing.

Exit status: 0 the drill passed (or the dry run was planned), 1 it failed (or could not run), 2 a
usage or configuration error (no route matches the cluster: drills are off unless configured).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.app.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, load_bot_config, load_settings
from bot.app.sweep import DELIVERY_WAIT, outcome_line
from bot.app.wiring import open_components
from bot.clock import now as clock_now
from bot.config import BotConfig
from bot.drills.messages import cost_line, render_dry_run
from bot.drills.model import DrillOutcome
from bot.drills.service import NoDrillRoute
from bot.i18n.units import human_duration
from bot.outbox.posts import PostKind
from bot.settings import Settings


def register(subparsers: Any) -> None:
    """Add the ``drill`` verb."""
    parser = subparsers.add_parser(
        "drill",
        help="run one restore drill now (restore, checks, delete, post); or plan it",
        description=(
            "Restore a backup of the cluster into a throwaway cluster as its drills: route "
            "says, check it comes up healthy, delete it, and post the result. Exit 0 only when "
            "the drill passed."
        ),
    )
    parser.add_argument("cluster", help="the cluster's id or name")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be created and what it may cost; create nothing",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The ``drill`` verb's handler."""
    settings = load_settings()
    config = load_bot_config(settings)
    if not config.drills:
        print("backups-bot: no drills: in the config; restore drills are off unless configured")
        return EXIT_USAGE
    try:
        return asyncio.run(_drill(settings, config, args.cluster, dry_run=args.dry_run))
    except NoDrillRoute as exc:
        print(f"backups-bot: {exc}")
        return EXIT_USAGE


async def _drill(settings: Settings, config: BotConfig, ref: str, *, dry_run: bool) -> int:
    async with open_components(settings, config, role="drill-cli", slack=not dry_run) as parts:
        now = clock_now()
        if dry_run:
            plan = await parts.drills.plan(ref, now=now)
            if plan.request is None:
                print(f"{plan.cluster.name or plan.cluster.id}: no backup to restore")
                print(f"  cost: {cost_line(plan.cost).replace('`', '')}")
                return EXIT_FAILURE
            print(render_dry_run(plan.request, plan.cost, cluster_label=plan.cluster.name))
            return EXIT_OK
        cluster = await parts.drills.finder.find(ref)
        record = await parts.drills.run_now(cluster, requested_by="", now=now)
        if record is None:
            print("another replica runs this drill")
            return EXIT_FAILURE
        if parts.executor is not None:
            mine = [
                p.id
                for p in await parts.store.outbox.list_posts(states=("pending", "sending"))
                if p.kind == PostKind.DRILL and record.id in p.subject
            ]
            drained = await parts.executor.deliver(mine, timeout=DELIVERY_WAIT)
            for post in drained.posts:
                print(outcome_line(post))
        passed = record.outcome == DrillOutcome.PASSED
        print(
            f"drill {record.id} of {record.cluster_name or record.cluster_id}: "
            f"{record.outcome.value if record.outcome else 'unknown'}"
            + (
                f" (restored in {human_duration(record.restore_time)}, healthy in "
                f"{human_duration(record.healthy_time)})"
                if passed
                else f" at {record.failed_step}: {record.error}"
            )
        )
        gone = (
            "deleted"
            if record.deleted_at is not None
            else "NOT confirmed deleted (the reaper deletes it at the next sweep)"
        )
        print(f"drill cluster {record.drill_cluster_id or '-'}: {gone}")
        return EXIT_OK if passed else EXIT_FAILURE
