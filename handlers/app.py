"""The Bolt app with the bot's listeners: handlers own their registration.

``bot.slack.app`` builds the bare app and serves it (HTTP behind the request gate, or Socket
Mode) and knows nothing of the listeners; this module adds them. The layers point one way:
handlers import bot, never the other way round (``tests/test_layers.py`` holds it).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

import handlers.actions
import handlers.commands
import handlers.home
from bot.commands.router import Router
from bot.home.service import HomeService
from bot.settings import Settings
from bot.slack.app import new_bolt_app
from bot.slack.notifier import SlackNotifier
from handlers import InFlight


def register_listeners(
    app: AsyncApp,
    *,
    router: Router,
    notifier: SlackNotifier,
    in_flight: InFlight,
    home: HomeService | None = None,
) -> None:
    """Listen for ``/backups`` and for the bot's buttons on ``app``; with ``home``, for the Home
    tab being opened (and clicks from it answered on it)."""
    handlers.commands.register(app, router=router, notifier=notifier, in_flight=in_flight)
    on_home = None
    if home is not None:
        handlers.home.register(
            app, router=router, notifier=notifier, in_flight=in_flight, home=home
        )
        on_home = handlers.home.answer_on_home(notifier, router, home)
    handlers.actions.register(
        app, router=router, notifier=notifier, in_flight=in_flight, on_home=on_home
    )


def build_bolt_app(
    settings: Settings,
    *,
    router: Router,
    notifier: SlackNotifier,
    in_flight: InFlight | None = None,
    home: HomeService | None = None,
) -> AsyncApp:
    """The Bolt app with the ``/backups`` command and the bot's buttons registered, and the
    Home tab when ``home`` is given (a process with the store).

    Posts go through ``notifier``'s client. Pass ``in_flight`` to be able to wait for answers
    still being worked on after their acknowledgement (graceful shutdown, tests).
    """
    app = new_bolt_app(settings, notifier=notifier)
    tracker = in_flight if in_flight is not None else InFlight()
    register_listeners(app, router=router, notifier=notifier, in_flight=tracker, home=home)
    return app
