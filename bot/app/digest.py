"""``backups-bot digest [--channel C] [--dry-run] [--json]``: the digest, now.

Without ``--dry-run`` it queues every route's digest (of channel C only, with ``--channel``)
right away, even if today's scheduled digest already went out: it runs under a key of its own, so
the scheduled digest is neither blocked nor repeated by it. It then delivers them (waiting up to
``--wait`` seconds, and not at all for posts that cannot go before then, such as those of a
channel Slack refuses; the rest stays queued for ``serve``). Figures for tomorrow's deltas are saved
as after a scheduled digest. With ``--dry-run`` nothing is claimed, posted or saved; the messages
are printed as the demo console renders them, or as Slack payloads with ``--json``.

Exit status: 0 done, 1 a digest could not be built or is not (yet) in Slack, 2 a usage or
configuration error (such as a channel no digest route posts to).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.app.cli import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    load_bot_config,
    load_settings,
    run_main,
)
from bot.app.sweep import add_wait_argument, outcome_line, post_json
from bot.app.wiring import open_components
from bot.clock import now as clock_now
from bot.config import BotConfig
from bot.demo.console import render_console
from bot.digest.runner import DigestResult, DigestStatus, routes_for
from bot.outbox.executor import DrainResult
from bot.settings import Settings
from bot.slack.blocks import SLACK


def register(subparsers: Any) -> None:
    """Add the ``digest`` verb."""
    parser = subparsers.add_parser(
        "digest",
        help="build the digest now; post it, or print it",
        description=(
            "Build every digest route's digest now and post it (even if today's scheduled one "
            "was posted), or print it with --dry-run."
        ),
    )
    parser.add_argument("--channel", metavar="C", help="only the digest routes of channel C")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the messages instead of posting them"
    )
    parser.add_argument("--json", action="store_true", help="print Slack payloads as JSON")
    add_wait_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The ``digest`` verb's handler."""
    settings = load_settings()
    config = load_bot_config(settings)
    channel: str | None = args.channel
    problem = _route_problem(config, channel)
    if problem is not None:
        print(f"backups-bot: {problem}", file=sys.stderr)
        return EXIT_USAGE
    results, drained = run_main(
        _digest(settings, config, channel, dry_run=args.dry_run, wait=max(args.wait, 0.0))
    )
    _print(results, drained, as_json=args.json)
    delivered = drained is None or drained.ok
    return EXIT_OK if all(r.ok for r in results) and delivered else EXIT_FAILURE


def _route_problem(config: BotConfig, channel: str | None) -> str | None:
    if not config.digests:
        return "no digest is configured (add a route under `digests:` in the config file)"
    if routes_for(config, channel):
        return None
    known = ", ".join(sorted({r.channel for r in config.digests}))
    return f"no digest route posts to channel {channel}; the configured channels: {known}"


async def _digest(
    settings: Settings, config: BotConfig, channel: str | None, *, dry_run: bool, wait: float
) -> tuple[list[DigestResult], DrainResult | None]:
    async with open_components(settings, config, role="digest-cli", slack=not dry_run) as parts:
        # Read the clock once: every route's digest is "as of" the same moment.
        results = await parts.digests.run_all(
            now=clock_now(), channel=channel, dry_run=dry_run, force=not dry_run
        )
        ids = [post.id for result in results for post in result.posts]
        drained = None
        if ids and parts.executor is not None:
            drained = await parts.executor.deliver(ids, timeout=wait)
        return results, drained


def _print(results: list[DigestResult], drained: DrainResult | None, *, as_json: bool) -> None:
    delivered = {p.id: p for p in drained.posts} if drained is not None else {}
    if as_json:
        print(json.dumps([_json(r, delivered) for r in results], indent=2, ensure_ascii=False))
        return
    for result in results:
        if result.status == DigestStatus.DRY_RUN:
            print(f"# {result.summary()}")
            for error in result.errors:
                print(f"# warning: {error}")
            for message in result.messages:
                print(render_console(SLACK.render(message)))
                print()
            if result.table is not None:
                table = result.table
                print(f"[file {table.filename}: {table.title}, {len(table.content):,} bytes]")
                print(table.comment)
                print()
        else:
            stream = sys.stdout if result.ok else sys.stderr
            for post in result.posts:
                queued = delivered.get(post.id)
                if queued is not None:
                    ok = queued.state in ("sent", "superseded")
                    print(outcome_line(queued), file=sys.stdout if ok else sys.stderr)
            print(result.summary(), file=stream)


def _json(result: DigestResult, delivered: dict[str, Any]) -> dict[str, Any]:
    return {
        "channel": result.route.channel,
        "route_key": result.route_key,
        "status": result.status.value,
        "detail": result.detail,
        "errors": list(result.errors),
        "posts": [post_json(post, delivered.get(post.id)) for post in result.posts],
        "messages": [
            {"channel": result.route.channel, **SLACK.render(message)}
            for message in result.messages
        ],
        "file": (
            {
                "filename": result.table.filename,
                "title": result.table.title,
                "comment": result.table.comment,
                "bytes": len(result.table.content),
            }
            if result.table is not None
            else None
        ),
    }
