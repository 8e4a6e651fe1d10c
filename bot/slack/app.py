"""The Bolt app and its two connection modes.

HTTP mode serves ``POST /slack/events`` on PORT with aiohttp. Anyone can reach that endpoint,
so :class:`RequestGate` stands in front of Bolt and lets nothing through that Slack did not
sign: it refuses a body over 64 KB (413) from its Content-Length or as it is read, then a
missing or malformed ``X-Slack-Request-Timestamp``, one outside the five-minute window, and a
v0 signature that is not the HMAC-SHA256 of the raw bytes (401, compared in constant time),
all before anything decodes, parses or logs the body. A refusal is one short log line that
names the reason only: no body, no header value, no URL. Bolt's own RequestVerification then
checks the signature again. Socket Mode (chosen when SLACK_APP_TOKEN is set) opens a WebSocket
with ``apps.connections.open`` and needs no public endpoint and no signing secret.

Listeners are registered by ``handlers`` (``handlers.app.build_bolt_app``): this module builds
the bare app and serves it, and imports nothing from handlers.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.errors import ConfigError
from bot.settings import Settings, reveal

if TYPE_CHECKING:
    from bot.slack.notifier import SlackNotifier

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
#: Seconds between Socket Mode pings; a connection silent for four of these is reopened.
SOCKET_PING_INTERVAL = 10.0

#: Slack's slash commands and button clicks are a few KB; anything larger is not from Slack.
MAX_BODY_BYTES = 64 * 1024
#: Slack's replay window: a request signed more than five minutes ago (or ahead) is refused.
SIGNATURE_WINDOW = 5 * 60
#: A refusal of each reason is logged at most once in this many seconds; the lines between are
#: counted, and the next line says how many (a flood of forged requests is not a flood of logs).
REFUSAL_LOG_INTERVAL = 10.0

RoutesHook = Callable[[web.Application], None]

_SIGNATURE_HEX = frozenset("0123456789abcdef")


class Refusal(enum.Enum):
    """Why a request to /slack/events was refused, in words safe to log."""

    TOO_LARGE = "the body is over 64 KB"
    NO_TIMESTAMP = "no X-Slack-Request-Timestamp"
    BAD_TIMESTAMP = "the timestamp is not a number of seconds"
    STALE = "the timestamp is outside the five-minute window"
    BAD_SIGNATURE_FORM = "the signature is missing or not a v0 signature"
    WRONG_SIGNATURE = "the signature does not match the body"
    NOT_UTF8 = "the signed body is not UTF-8"
    UNPARSABLE = "the signed body is not a Slack payload"

    @property
    def status(self) -> int:
        if self is Refusal.TOO_LARGE:
            return 413
        if self in (Refusal.NOT_UTF8, Refusal.UNPARSABLE):
            return 400
        return 401


def check_headers(timestamp: str | None, signature: str | None, *, now: float) -> Refusal | None:
    """The header half of Slack's check, before the body is read: the timestamp is ASCII digits
    within the window, the signature has the v0 form. None when both pass."""
    if timestamp is None:
        return Refusal.NO_TIMESTAMP
    if not (0 < len(timestamp) <= 12 and timestamp.isascii() and timestamp.isdigit()):
        return Refusal.BAD_TIMESTAMP
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW:
        return Refusal.STALE
    if (
        signature is None
        or len(signature) != 67
        or not signature.startswith("v0=")
        or not _SIGNATURE_HEX.issuperset(signature[3:])
    ):
        return Refusal.BAD_SIGNATURE_FORM
    return None


def signature_matches(secret: bytes, timestamp: str, signature: str, body: bytes) -> bool:
    """Whether ``signature`` is v0's HMAC-SHA256 of ``v0:<timestamp>:<body>``, in constant time."""
    expected = hmac.new(secret, b"v0:" + timestamp.encode("ascii") + b":" + body, hashlib.sha256)
    return hmac.compare_digest("v0=" + expected.hexdigest(), signature)


@dataclass
class RefusalLog:
    """One log line per reason per interval; the refusals in between are counted."""

    interval: float = REFUSAL_LOG_INTERVAL
    clock: Callable[[], float] = time.monotonic
    _last: dict[Refusal, float] = field(default_factory=dict)
    _unlogged: dict[Refusal, int] = field(default_factory=dict)

    def refused(self, reason: Refusal) -> None:
        now = self.clock()
        last = self._last.get(reason)
        if last is not None and now - last < self.interval:
            self._unlogged[reason] = self._unlogged.get(reason, 0) + 1
            return
        self._last[reason] = now
        more = self._unlogged.pop(reason, 0)
        since = f"; {more} more refused for this since the last line" if more else ""
        log.info(
            "refused a request to the Slack endpoint: %s (%d)%s", reason.value, reason.status, since
        )


class RequestGate:
    """Verify first: what reaches Bolt was signed by Slack, recently, and is small."""

    def __init__(
        self,
        signing_secret: str,
        *,
        max_body: int = MAX_BODY_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET is not set; HTTP mode needs it")
        self._secret = signing_secret.encode()
        self._max_body = max_body
        self._clock = clock
        self._log = RefusalLog()

    def __repr__(self) -> str:
        return f"RequestGate(max_body={self._max_body})"

    async def admit(self, request: web.Request) -> AsyncBoltRequest | Refusal:
        """The request as Bolt takes it, or why it is refused. Reads no more than ``max_body``
        and one more chunk; decodes and parses only a body whose signature matched."""
        admitted = await self._verify(request)
        if isinstance(admitted, Refusal):
            self._log.refused(admitted)
        return admitted

    async def _verify(self, request: web.Request) -> AsyncBoltRequest | Refusal:
        length = request.content_length
        if length is not None and length > self._max_body:
            return Refusal.TOO_LARGE
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        refusal = check_headers(timestamp, signature, now=self._clock())
        if refusal is not None or timestamp is None or signature is None:
            return refusal or Refusal.BAD_SIGNATURE_FORM
        body = await self._read(request)
        if body is None:
            return Refusal.TOO_LARGE
        if not signature_matches(self._secret, timestamp, signature, body):
            return Refusal.WRONG_SIGNATURE
        return self._to_bolt(request, body)

    async def _read(self, request: web.Request) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > self._max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _to_bolt(self, request: web.Request, body: bytes) -> AsyncBoltRequest | Refusal:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Refusal.NOT_UTF8
        try:
            bolt_request = AsyncBoltRequest(
                body=text, query=request.query_string, headers=dict(request.headers)
            )
            if not isinstance(bolt_request.body, dict):
                raise TypeError("not an object")
        except Exception:  # Bolt's parser on a signed but odd body: JSON that is not an object...
            return Refusal.UNPARSABLE
        return bolt_request


# --- the app --------------------------------------------------------------------------------------


def new_bolt_app(settings: Settings, *, notifier: SlackNotifier) -> AsyncApp:
    """The Bolt app, without listeners (``handlers.app`` registers them); posts go through
    ``notifier``'s client."""
    token = reveal(settings.slack_bot_token)
    if not token:
        raise ConfigError("SLACK_BOT_TOKEN is not set; the bot needs its xoxb- token")
    secret = reveal(settings.slack_signing_secret)
    if not secret and not settings.socket_mode:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set; HTTP mode needs it (or set SLACK_APP_TOKEN "
            "for Socket Mode)"
        )
    quiet_bolt_loggers()
    return AsyncApp(
        token=token,
        signing_secret=secret,
        client=notifier.client,
        # The listeners acknowledge and return at once, leaving the work to a task of their own
        # (handlers.answer), so Bolt can send the acknowledgement when the listener returns.
        # With False, Bolt would instead poll every 10 ms for the acknowledgement.
        process_before_response=True,
        # Kept behind our own RequestGate: two checks, in case one of them is ever wrong.
        request_verification_enabled=True,
        logger=_bolt_logger(),
    )


class _NotAboutOurClient(logging.Filter):
    """Bolt warns at every start that the token is unused because a client is given; giving the
    client is deliberate (one notifier, one retrying client), so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class _NoRequestDetails(logging.Filter):
    """Bolt's signature check logs the refused request's signature, timestamp and whole body at
    INFO (a response URL and the verification token among them). Our gate refuses those first;
    should Bolt's check ever refuse one, it is said without the details."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid request signature detected"):
            record.msg = "Bolt's own check refused a request's signature"
            record.args = None
        return True


#: Bolt's loggers of its signature check (they are named after the middleware's class).
_BOLT_VERIFICATION_LOGGERS = (
    "slack_bolt.AsyncRequestVerification",
    "slack_bolt.RequestVerification",
)


def quiet_bolt_loggers() -> None:
    """Keep request details out of Bolt's log lines (idempotent)."""
    for name in _BOLT_VERIFICATION_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoRequestDetails) for f in logger.filters):
            logger.addFilter(_NoRequestDetails())


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _NotAboutOurClient) for f in logger.filters):
        logger.addFilter(_NotAboutOurClient())
    if not any(isinstance(f, _NoRequestDetails) for f in logger.filters):
        logger.addFilter(_NoRequestDetails())
    return logger


# --- HTTP mode ------------------------------------------------------------------------------------


def build_web_app(
    app: AsyncApp, *, signing_secret: str, extra_routes_hook: RoutesHook | None = None
) -> web.Application:
    """An aiohttp application serving Slack at ``/slack/events`` behind a :class:`RequestGate`;
    the hook may add routes (``/healthz``, ``/readyz``, ``/metrics``) to the same application."""
    gate = RequestGate(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        admitted = await gate.admit(request)
        if isinstance(admitted, Refusal):
            return _refusal_response(admitted)
        try:
            bolt_response = await app.async_dispatch(admitted)
            return await to_aiohttp_response(bolt_response)
        except Exception:
            log.exception("Bolt failed on a signed request")
            return web.json_response({"error": "internal error"}, status=500)

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, slack_events)
    if extra_routes_hook is not None:
        extra_routes_hook(web_app)
    return web_app


def _refusal_response(refusal: Refusal) -> web.Response:
    body = "request body too large" if refusal is Refusal.TOO_LARGE else "invalid request"
    return web.json_response({"error": body}, status=refusal.status)


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
    signing_secret: str,
    extra_routes_hook: RoutesHook | None = None,
) -> HttpServer:
    """Start serving ``app`` over HTTP (port 0: any free port)."""
    web_app = build_web_app(app, signing_secret=signing_secret, extra_routes_hook=extra_routes_hook)
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound: Any = runner.addresses[0]
    url = f"http://{bound[0]}:{bound[1]}"
    log.info("serving Slack events on port %d at %s", bound[1], EVENTS_PATH)
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
        app,
        host=host,
        port=settings.port,
        signing_secret=reveal(settings.slack_signing_secret),
        extra_routes_hook=extra_routes_hook,
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
