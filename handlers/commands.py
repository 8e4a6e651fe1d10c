"""The ``/backups`` slash command listener."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import clock
from bot.chat.actions import Invocation
from bot.commands.router import Reply, Router
from bot.slack.notifier import SlackNotifier
from handlers import InFlight, answer

log = logging.getLogger(__name__)

COMMAND = "/backups"


def register(
    app: AsyncApp, *, router: Router, notifier: SlackNotifier, in_flight: InFlight
) -> None:
    """Listen for ``/backups``: acknowledge at once, answer through the response URL."""

    async def on_backups(ack: AsyncAck, command: dict[str, Any]) -> None:
        # An empty acknowledgement: Slack shows nothing, and the answer follows in a moment.
        await ack()
        text = str(command.get("text") or "")
        user_id = str(command.get("user_id") or "")
        channel_id = str(command.get("channel_id") or "")

        async def run(inv: Invocation) -> Reply:
            # Logged from the answer's task: under its request id, and off the path of the ack.
            log.info("/backups from %s in %s: %.200s", user_id, channel_id, text)
            return await router.run(text, inv, now=clock.now())

        answer(
            notifier,
            router,
            in_flight,
            run,
            user_id=user_id,
            channel_id=channel_id,
            response_url=command.get("response_url"),
        )

    app.command(COMMAND)(on_backups)
