"""``backups-bot report [--month YYYY-MM] [--csv]``: the freshness ledger of a month (default:
this month to date), as text (as the demo console shows ``/backups slo``) or as CSV, one row per
cluster. It reads the store only (``DATABASE_URL``, the same as ``serve``'s), never the cloud.

Exit status: 0 done, 2 a usage or configuration error (a month that is not YYYY-MM).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.app.cli import EXIT_OK, EXIT_USAGE, load_bot_config, load_settings
from bot.clock import now as clock_now
from bot.config import BotConfig
from bot.demo.console import render_console
from bot.ledger.messages import report_csv
from bot.ledger.policy import month_of, month_period
from bot.ledger.service import LedgerService
from bot.settings import Settings
from bot.slack.blocks import SLACK
from bot.store import Store


def register(subparsers: Any) -> None:
    """Add the ``report`` verb."""
    parser = subparsers.add_parser(
        "report",
        help="the freshness ledger of a month, as text or CSV",
        description=(
            "The share of a month each watched cluster was within its maximum age, its breaches, "
            "worst gap and error budget, from what the bot's sweeps kept (no cloud request)."
        ),
    )
    parser.add_argument("--month", metavar="YYYY-MM", help="the month (default: this month)")
    parser.add_argument("--csv", action="store_true", help="one CSV row per cluster")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The ``report`` verb's handler."""
    month: str | None = args.month
    if month is not None:
        try:
            month_period(month)
        except ValueError as exc:
            print(f"backups-bot: --month: {exc}", file=sys.stderr)
            return EXIT_USAGE
    settings = load_settings()
    config = load_bot_config(settings)
    sys.stdout.write(asyncio.run(_report(settings, config, month, as_csv=args.csv)))
    return EXIT_OK


async def _report(settings: Settings, config: BotConfig, month: str | None, *, as_csv: bool) -> str:
    now = clock_now()
    month = month or month_of(now)
    async with await Store.open(settings.database_url) as store:
        service = LedgerService(store, config)
        if as_csv:
            fleet, histories, _scope = await service.fleet(None, month, now=now)
            drills = await service.drills(histories, fleet)
            return report_csv(fleet, month=month, drills=drills)
        card = await service.slo(None, month, now=now)
    return render_console(SLACK.render(card)) + "\n"
