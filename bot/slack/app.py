"""The Bolt app and its two connection modes.

HTTP mode serves ``POST /slack/events`` on PORT with aiohttp; Bolt's own RequestVerification
middleware checks every request's v0 signature and refuses one older than five minutes, before
any listener runs. Socket Mode (chosen when SLACK_APP_TOKEN is set) opens a WebSocket with
``apps.connections.open`` and needs no public endpoint and no signing secret.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

import handlers.actions
import handlers.commands
from bot.config import BotConfig
from bot.dispatch import Dispatcher
from bot.errors import ConfigError
from bot.settings import Settings, reveal
from bot.slack.notifier import SlackNotifier
from handlers import InFlight

if TYPE_CHECKING:
    from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
#: Seconds between Socket Mode pings; a connection silent for four of these is reopened.
SOCKET_PING_INTERVAL = 10.0

RoutesHook = Callable[[web.Application], None]


def build_bolt_app(
    settings: Settings,
    *,
    dispatcher: Dispatcher,
    notifier: SlackNotifier,
    config: BotConfig,
    metrics: Metrics | None = None,
    in_flight: InFlight | None = None,
) -> AsyncApp:
    """The Bolt app with the ``/backups`` command and the bot's buttons registered.

    Posts go through ``notifier``'s client. Pass ``in_flight`` to be able to wait for answers
    still being worked on after their acknowledgement (graceful shutdown, tests).
    """
    del config, metrics  # the dispatcher and notifier carry what the listeners need
    token = reveal(settings.slack_bot_token)
    if not token:
        raise ConfigError("SLACK_BOT_TOKEN is not set; the bot needs its xoxb- token")
    secret = reveal(settings.slack_signing_secret)
    if not secret and not settings.socket_mode:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set; HTTP mode needs it (or set SLACK_APP_TOKEN "
            "for Socket Mode)"
        )
    app = AsyncApp(
        token=token,
        signing_secret=secret,
        client=notifier.client,
        # The listeners acknowledge and return at once, leaving the work to a task of their own
        # (handlers.answer), so Bolt can send the acknowledgement when the listener returns.
        # With False, Bolt would instead poll every 10 ms for the acknowledgement.
        process_before_response=True,
        request_verification_enabled=True,
        logger=_bolt_logger(),
    )
    tracker = in_flight if in_flight is not None else InFlight()
    handlers.commands.register(app, dispatcher=dispatcher, notifier=notifier, in_flight=tracker)
    handlers.actions.register(app, dispatcher=dispatcher, notifier=notifier, in_flight=tracker)
    return app


class _NotAboutOurClient(logging.Filter):
    """Bolt warns at every start that the token is unused because a client is given; giving the
    client is deliberate (one notifier, one retrying client), so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _NotAboutOurClient) for f in logger.filters):
        logger.addFilter(_NotAboutOurClient())
    return logger


# --- HTTP mode ------------------------------------------------------------------------------------


def build_web_app(app: AsyncApp, extra_routes_hook: RoutesHook | None = None) -> web.Application:
    """An aiohttp application serving Slack at ``/slack/events``; the hook may add routes
    (``/healthz``, ``/readyz``, ``/metrics``) to the same application."""

    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, slack_events)
    if extra_routes_hook is not None:
        extra_routes_hook(web_app)
    return web_app


@dataclass
class HttpServer:
    """A running HTTP server: its application, base URL, and how to stop it."""

    web_app: web.Application
    runner: web.AppRunner
    url: str

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_http(
    app: AsyncApp,
    *,
    host: str,
    port: int,
    extra_routes_hook: RoutesHook | None = None,
) -> HttpServer:
    """Start serving ``app`` over HTTP (port 0: any free port)."""
    web_app = build_web_app(app, extra_routes_hook)
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound: Any = runner.addresses[0]
    url = f"http://{bound[0]}:{bound[1]}"
    log.info("serving Slack events at %s%s", url, EVENTS_PATH)
    return HttpServer(web_app, runner, url)


async def run_http(
    app: AsyncApp,
    settings: Settings,
    extra_routes_hook: RoutesHook | None = None,
    *,
    host: str = "0.0.0.0",  # noqa: S104 - a container's port must be reachable from outside
) -> None:
    """Serve Slack (and the hook's routes) on PORT until cancelled."""
    server = await start_http(
        app, host=host, port=settings.port, extra_routes_hook=extra_routes_hook
    )
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


# --- Socket Mode ----------------------------------------------------------------------------------


async def start_socket_mode(app: AsyncApp, settings: Settings) -> AsyncSocketModeHandler:
    """Open the Socket Mode connection; close it with ``await handler.close_async()``."""
    app_token = reveal(settings.slack_app_token)
    if not app_token:
        raise ConfigError("SLACK_APP_TOKEN is not set; Socket Mode needs the xapp- token")
    handler = AsyncSocketModeHandler(
        app,
        app_token=app_token,
        logger=logging.getLogger("bot.slack.socket_mode"),
        ping_interval=SOCKET_PING_INTERVAL,
    )
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info("connected to Slack in Socket Mode")
    return handler


async def run_socket_mode(app: AsyncApp, settings: Settings) -> None:
    """Hold a Socket Mode connection (reconnecting as needed) until cancelled."""
    handler = await start_socket_mode(app, settings)
    try:
        await asyncio.Event().wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
