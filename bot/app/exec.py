"""``backups-bot exec [--json] -- <words>``: one ``/backups`` command, answered on the terminal.

It goes through the same router as Slack, as the user ``cli`` in the channel ``cli`` (so
access rules apply to it like to anyone; list ``cli`` in a rule's users to let it through). The
reply is printed as the demo console renders Slack messages, or as the Slack payloads with
``--json``. Exit status: 0 an answer, 2 a usage error, 1 any other failure (the cloud could not
be read, access denied...).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from bot.app.cli import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    load_bot_config,
    load_settings,
    run_main,
)
from bot.app.wiring import open_components
from bot.chat.actions import Invocation
from bot.clock import now as clock_now
from bot.commands.router import Reply
from bot.config import BotConfig
from bot.demo.console import render_console, render_ephemeral
from bot.settings import Settings, reveal
from bot.slack.blocks import SLACK

CLI_USER = "cli"
CLI_CHANNEL = "cli"


def register(subparsers: Any) -> None:
    """Add the ``exec`` verb."""
    parser = subparsers.add_parser(
        "exec",
        help="run one /backups command and print the reply",
        description=(
            "Run one /backups command through the bot's router and print its reply, "
            "e.g. `backups-bot exec -- list logs-prod --limit 5`."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the Slack payloads as JSON")
    parser.add_argument(
        "words", nargs=argparse.REMAINDER, metavar="-- <words>", help="the command's words"
    )
    parser.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    """The ``exec`` verb: 0 an answer, 2 a usage error, 1 another failure."""
    words: list[str] = list(args.words)
    if words and words[0] == "--":
        words = words[1:]
    settings = load_settings()
    config = load_bot_config(settings)
    reply = run_main(run_once(words, settings, config))
    try:
        print(format_reply(reply, as_json=bool(args.json)), flush=True)
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep the interpreter's exit quiet
    if reply.ok:
        return EXIT_OK
    return EXIT_USAGE if reply.usage_error else EXIT_FAILURE


async def run_once(words: Sequence[str], settings: Settings, config: BotConfig) -> Reply:
    """Run the command made of ``words`` once, as the CLI user, with the same components (and
    the same database state) as ``serve``. Slack is used only when a bot token is set, for the
    alert messages that ``snooze`` and ``unsnooze`` update in place."""
    text = shlex.join(words)
    slack = bool(reveal(settings.slack_bot_token))
    async with open_components(settings, config, role="exec", slack=slack) as parts:
        inv = Invocation(user_id=CLI_USER, channel_id=CLI_CHANNEL)
        return await parts.router.run(text, inv, now=clock_now())


def format_reply(reply: Reply, *, as_json: bool) -> str:
    """The reply as text for a terminal, or as Slack payloads (one JSON document)."""
    if as_json:
        payloads = [
            {**SLACK.render(m), "response_type": "ephemeral" if reply.ephemeral else "in_channel"}
            for m in reply.messages
        ]
        return json.dumps(
            payloads if len(payloads) != 1 else payloads[0], indent=2, ensure_ascii=False
        )
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    color = sys.stdout.isatty()
    render = render_ephemeral if reply.ephemeral else render_console
    return "\n\n".join(render(SLACK.render(m), width=width, color=color) for m in reply.messages)
