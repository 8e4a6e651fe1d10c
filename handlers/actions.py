"""Button listeners: one per button the bot makes (the router's declared actions)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import clock
from bot.chat.actions import Invocation
from bot.commands.router import Reply, Router
from bot.slack.notifier import SlackNotifier
from handlers import InFlight, Respond, answer

log = logging.getLogger(__name__)


def register(
    app: AsyncApp,
    *,
    router: Router,
    notifier: SlackNotifier,
    in_flight: InFlight,
    on_home: Respond | None = None,
) -> None:
    """Listen for each of the bot's buttons: acknowledge at once, then answer the click.

    A click from a view (the Home tab) has no channel and no response URL: it is checked
    against the access rules as from no channel, and answered through ``on_home`` (the tab,
    published anew), or without it in the app's direct message with the person.
    """

    async def on_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        container = body.get("container") or {}
        channel_id = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        action_id = str(action.get("action_id") or "")
        value = str(action.get("value") or "")
        from_view = container.get("type") == "view" or isinstance(body.get("view"), dict)

        async def run(inv: Invocation) -> Reply:
            # Logged from the answer's task: under its request id, and off the path of the ack.
            log.info("button %s from %s in %s", action_id, user_id, channel_id)
            return await router.run_action(action_id, value, inv, now=clock.now())

        answer(
            notifier,
            router,
            in_flight,
            run,
            user_id=user_id,
            channel_id=channel_id,
            response_url=body.get("response_url"),
            message_ts=str(message_ts) if message_ts else None,
            respond=on_home if from_view else None,
        )

    for action_id in router.action_ids:
        app.action(action_id)(on_action)
