"""Button listeners: Next page, the backup confirmation, and the alert's buttons."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import clock
from bot.commands.router import ACTION_IDS, Dispatcher, Invocation, Reply
from bot.slack.notifier import SlackNotifier
from handlers import InFlight, answer

log = logging.getLogger(__name__)

#: Matches exactly the action ids the dispatcher answers.
ACTION_PATTERN = re.compile("^(?:" + "|".join(re.escape(a) for a in ACTION_IDS) + ")$")


def register(
    app: AsyncApp, *, dispatcher: Dispatcher, notifier: SlackNotifier, in_flight: InFlight
) -> None:
    """Listen for the bot's buttons: acknowledge at once, then answer the click."""

    async def on_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        container = body.get("container") or {}
        channel_id = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        action_id = str(action.get("action_id") or "")
        value = str(action.get("value") or "")

        async def run(inv: Invocation) -> Reply:
            # Logged from the answer's task: under its request id, and off the path of the ack.
            log.info("button %s from %s in %s", action_id, user_id, channel_id)
            return await dispatcher.run_action(action_id, value, inv, now=clock.now())

        answer(
            notifier,
            dispatcher,
            in_flight,
            run,
            user_id=user_id,
            channel_id=channel_id,
            response_url=body.get("response_url"),
            message_ts=str(message_ts) if message_ts else None,
        )

    app.action(ACTION_PATTERN)(on_action)
