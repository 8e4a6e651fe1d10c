"""``backups-bot sweep [--dry-run] [--json]``: the staleness check, once, now.

It runs with the same state as the scheduled sweep (the store at DATABASE_URL): an open incident
gets no second alert, and a slot another replica has already swept is not swept again. Without
``--dry-run`` it posts alerts, updates and resolved notices and prints one line per action; with
it nothing is claimed, posted or saved, and the messages are printed as the demo console renders
them, or as Slack payloads with ``--json``.

Exit status: 0 done (also when another replica had the slot), 1 the cloud could not be read or
a Slack call failed, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bot.cli import EXIT_FAILURE, EXIT_OK, load_bot_config, load_settings
from bot.clock import now as clock_now
from bot.config import BotConfig
from bot.render.console import render_console
from bot.settings import Settings
from bot.watch.sweep import SweepResult
from bot.wiring import open_components


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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The ``sweep`` verb's handler."""
    settings = load_settings()
    config = load_bot_config(settings)
    result = asyncio.run(_sweep(settings, config, dry_run=args.dry_run))
    _print(result, as_json=args.json)
    return EXIT_OK if result.ok else EXIT_FAILURE


async def _sweep(settings: Settings, config: BotConfig, *, dry_run: bool) -> SweepResult:
    async with open_components(settings, config, role="sweep-cli", slack=not dry_run) as parts:
        return await parts.sweeper.run(now=clock_now(), dry_run=dry_run, manual=True)


def _print(result: SweepResult, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_json(result), indent=2, ensure_ascii=False))
        return
    stream = sys.stdout if result.ok else sys.stderr
    if result.dry_run:
        print(f"# {result.summary()}")
        for error in result.fleet_errors:
            print(f"# warning: {error}")
        for action in result.actions:
            print(f"# {action.describe()}")
            print(render_console(action.message.payload()))
            print()
        return
    for action in result.actions:
        print(action.describe(), file=sys.stderr if action.error else sys.stdout)
    for error in result.fleet_errors:
        print(f"warning: {error}", file=sys.stderr)
    print(result.summary(), file=stream)


def _json(result: SweepResult) -> dict[str, Any]:
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
        "actions": [
            {
                "kind": action.kind.value,
                "cluster_id": action.cluster_id,
                "route_key": action.route_key,
                "reason": action.reason,
                "ts": action.ts,
                "error": action.error,
                "payload": {
                    "channel": action.channel,
                    **({"ts": action.ts} if action.kind.value == "update_alert" else {}),
                    **({"thread_ts": action.thread_ts} if action.thread_ts else {}),
                    **action.message.payload(),
                },
            }
            for action in result.actions
        ],
    }
