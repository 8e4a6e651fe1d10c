"""The Home tab: published when a person opens it, and again after each click from it.

``app_home_opened`` is acknowledged at once (Bolt acknowledges events itself); the tab is
rendered from the store (never the cloud) and published with views.publish in a task of its
own, in the person's language. A button on the tab is one of the alerts' own buttons and is
answered by the same handlers; having no channel and no response URL, its answer is shown at
the top of the tab, published anew.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import clock
from bot.chat.actions import Invocation
from bot.commands.router import Reply, Router
from bot.errors import SlackError
from bot.home.messages import click_notice, is_short
from bot.home.service import HomeService
from bot.i18n.catalog import use_locale
from bot.ops.logging import bind_request_id
from bot.slack.notifier import SlackNotifier
from bot.slack.views import home_view
from handlers import InFlight, Respond, deliver

log = logging.getLogger(__name__)

EVENT = "app_home_opened"


async def publish_home(
    notifier: SlackNotifier,
    router: Router,
    home: HomeService,
    user_id: str,
    *,
    notice: str | None = None,
) -> None:
    """Render ``user_id``'s tab from the store in their language and publish it; a refusal
    from Slack is logged (the tab keeps what it showed)."""
    said = await notifier.user_locale(user_id)
    inv = Invocation(user_id, "", locale=said)
    with use_locale(router.locale_for(inv)):
        card = await home.render(user_id, now=clock.now(), notice=notice)
        view = home_view(card)
    try:
        await notifier.publish_home(user_id, view)
    except SlackError as exc:
        log.warning("Slack refused the Home tab of %s: %s", user_id, exc)


def answer_on_home(notifier: SlackNotifier, router: Router, home: HomeService) -> Respond:
    """Where a click from the Home tab is answered: at the top of the tab, published anew
    (which also shows what the click changed)."""

    async def respond(reply: Reply, inv: Invocation) -> None:
        # A list or a table (with its Next page) is sent in the app's direct message, where its
        # buttons work as anywhere; the tab says the answer's first words and where it is.
        sent = not all(is_short(card) for card in reply.messages)
        if sent:
            await deliver(notifier, None, reply, channel_id="", user_id=inv.user_id)
        notice = click_notice(reply.messages, sent=sent)
        await publish_home(notifier, router, home, inv.user_id, notice=notice or None)

    return respond


def register(
    app: AsyncApp,
    *,
    router: Router,
    notifier: SlackNotifier,
    in_flight: InFlight,
    home: HomeService,
) -> None:
    """Publish the Home tab each time a person opens it."""

    async def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab
        user_id = str(event.get("user") or "")
        if not user_id:
            return

        async def work() -> None:
            with bind_request_id():
                await publish_home(notifier, router, home, user_id)

        in_flight.start(work(), name=f"home {user_id}")

    app.event(EVENT)(on_home_opened)
