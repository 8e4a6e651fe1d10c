"""The Bolt app and its two connection modes.

HTTP mode serves ``POST /slack/events`` on PORT with aiohttp. Anyone can reach that endpoint,
so :class:`RequestGate` stands in front of Bolt and lets nothing through that Slack did not
sign: it refuses a body over 64 KB (413) from its Content-Length or as it is read, then a
missing or malformed ``X-Slack-Request-Timestamp``, one outside the five-minute window, and a
v0 signature that slack_sdk's :class:`~slack_sdk.signature.SignatureVerifier` does not find to
be the HMAC-SHA256 of the raw bytes (401), all before anything decodes, parses or logs the body.
A body that does not arrive within the server's body deadline is refused (408) and its
connection closed. A signed body that is not a payload of a shape this app takes (an event that
is a list, a command without text...) is refused (400) before Bolt's middlewares trip over it.
A refusal is one short log line that names the reason only, at most one per reason per minute,
the rest counted (``backups_bot_http_refusals_total``): no body, no header value, no URL. The
response URLs of an admitted request are held by the log redactor from then on
(:data:`bot.ops.logging.HELD_SECRETS`). Bolt's own RequestVerification then checks the
signature again. The server under all this (deadlines for headers, a cap on connections) is
:mod:`bot.ops.http`. Socket Mode (chosen when SLACK_APP_TOKEN is set) opens a WebSocket with
``apps.connections.open`` and needs no public endpoint and no signing secret.

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
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.errors import ConfigError
from bot.ops.http import REFUSAL_LOG_INTERVAL, CountedLog, HttpServer, ServerLimits, start_server
from bot.ops.logging import HELD_SECRETS, RESPONSE_URL_LINGER, response_url_forms
from bot.settings import Settings, reveal

if TYPE_CHECKING:
    from bot.ops.metrics import Metrics
    from bot.slack.notifier import SlackNotifier

__all__ = [
    "EVENTS_PATH",
    "MAX_BODY_BYTES",
    "SIGNATURE_WINDOW",
    "HttpServer",
    "Refusal",
    "RefusalLog",
    "RequestGate",
    "RoutesHook",
    "build_web_app",
    "check_headers",
    "new_bolt_app",
    "payload_problem",
    "run_http",
    "run_socket_mode",
    "signature_matches",
    "start_http",
    "start_socket_mode",
]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
#: Seconds between Socket Mode pings; a connection silent for four of these is reopened.
SOCKET_PING_INTERVAL = 10.0

#: Slack's slash commands and button clicks are a few KB; anything larger is not from Slack.
MAX_BODY_BYTES = 64 * 1024
#: Slack's replay window: a request signed more than five minutes ago (or ahead) is refused.
SIGNATURE_WINDOW = 5 * 60

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
    SLOW_BODY = "the body did not arrive within the deadline"
    DISCONNECTED = "the sender went away before the body was complete"
    NOT_UTF8 = "the signed body is not UTF-8"
    UNPARSABLE = "the signed body is not a Slack payload"
    WRONG_SHAPE = "the signed payload is not of a shape this app takes"

    @property
    def status(self) -> int:
        if self is Refusal.TOO_LARGE:
            return 413
        if self is Refusal.SLOW_BODY:
            return 408
        if self in (
            Refusal.NOT_UTF8,
            Refusal.UNPARSABLE,
            Refusal.WRONG_SHAPE,
            Refusal.DISCONNECTED,
        ):
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
    """Whether ``signature`` is v0's HMAC-SHA256 of ``v0:<timestamp>:<body>``, by slack_sdk's
    :class:`SignatureVerifier`, compared in constant time. The window is
    :func:`check_headers`'s to judge."""
    try:
        expected = SignatureVerifier(secret.decode()).generate_signature(
            timestamp=timestamp, body=body
        )
    except UnicodeDecodeError:
        # Slack signs UTF-8 only, and the SDK hashes nothing else; hashed here only to tell a
        # signed body that is not UTF-8 (400) from a forged one (401).
        base = b"v0:" + timestamp.encode("ascii") + b":" + body
        expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return expected is not None and hmac.compare_digest(expected, signature)


class RefusalLog:
    """One log line per reason per interval; the refusals in between are counted (in the next
    line, and each in ``backups_bot_http_refusals_total`` through ``count``)."""

    def __init__(
        self,
        interval: float = REFUSAL_LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        count: Callable[[str], None] | None = None,
    ) -> None:
        self._log = CountedLog(log, interval=interval, clock=clock, count=count)

    def refused(self, reason: Refusal, detail: str = "") -> None:
        """Say (or count) one refusal; ``detail`` is a few words of ours, never the body's."""
        words = f"{reason.value}: {detail}" if detail else reason.value
        self._log.note(
            reason.name.lower(),
            "refused a request to the Slack endpoint: %s (%d)",
            words,
            reason.status,
        )


# --- what a signed body must look like --------------------------------------------------------

#: Keys that, where Slack sends them, are objects (Bolt's middlewares call ``.get`` on them).
_OBJECTS = ("user", "channel", "container", "message", "view", "enterprise", "team", "event")
#: Of those, the ones Slack may also send as null.
_NULLABLE = frozenset({"team", "enterprise", "channel", "message", "container"})
#: A slash command's form fields this app reads, or Bolt does.
_COMMAND_FIELDS = ("command", "text", "user_id", "channel_id", "team_id")


def payload_problem(body: Mapping[str, Any]) -> str | None:
    """What makes a parsed, signed body one this app cannot take, in a few words of ours (no
    values from the body); None when it is a command, an interactive payload or an event of the
    shape Slack documents. Bolt's middlewares assume that shape and fail with a 500 otherwise."""
    if "ssl_check" in body:
        return None
    if "command" in body:
        missing = [name for name in _COMMAND_FIELDS if not isinstance(body.get(name), str)]
        return f"a command without {', '.join(missing)}" if missing else None
    kind = body.get("type")
    if not isinstance(kind, str):
        return "neither a command nor a payload with a type"
    for key in _OBJECTS:
        if key not in body:
            continue
        value = body[key]
        if value is None and key in _NULLABLE:
            continue
        if not isinstance(value, dict):
            return f"{key} is not an object"
        if key != "event" and "id" in value and not isinstance(value["id"], str):
            return f"{key}.id is not a string"
    if kind in ("block_actions", "view_submission", "view_closed") and not isinstance(
        body.get("user"), dict
    ):
        return f"a {kind} payload without its user"
    if "actions" in body or kind == "block_actions":
        actions = body.get("actions")
        if (
            not isinstance(actions, list)
            or (kind == "block_actions" and not actions)
            or not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        ):
            return "actions is not a list of actions with their ids"
    if "view" in body and isinstance(body["view"], dict):
        view = body["view"]
        if not isinstance(view.get("type"), str) or not isinstance(view.get("id", ""), str):
            return "view has no type"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event callback without an event object"
    if kind == "url_verification" and not isinstance(body.get("challenge"), str):
        return "a URL verification without its challenge"
    if "authorizations" in body:
        authorizations = body["authorizations"]
        if not isinstance(authorizations, list) or not all(
            isinstance(a, dict) for a in authorizations
        ):
            return "authorizations is not a list of objects"
    for key in ("response_url", "trigger_id", "api_app_id", "team_id"):
        if key in body and not isinstance(body[key], str):
            return f"{key} is not a string"
    return None


def response_urls(body: Mapping[str, Any]) -> list[str]:
    """The response URLs a payload carries (a command's or a button's; a modal's several)."""
    found = [body["response_url"]] if isinstance(body.get("response_url"), str) else []
    many = body.get("response_urls")
    if isinstance(many, list):
        found += [
            item["response_url"]
            for item in many
            if isinstance(item, dict) and isinstance(item.get("response_url"), str)
        ]
    return found


# --- the gate ---------------------------------------------------------------------------------


class RequestGate:
    """Verify first: what reaches Bolt was signed by Slack, recently, is small, arrived in time
    and has the shape of a Slack payload."""

    def __init__(
        self,
        signing_secret: str,
        *,
        max_body: int = MAX_BODY_BYTES,
        body_timeout: float = ServerLimits.body_timeout,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        if not signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET is not set; HTTP mode needs it")
        self._secret = signing_secret.encode()
        self._max_body = max_body
        self._body_timeout = body_timeout
        self._clock = clock
        self._log = RefusalLog(count=metrics.count_http_refusal if metrics is not None else None)

    def __repr__(self) -> str:
        return f"RequestGate(max_body={self._max_body})"

    async def admit(self, request: web.Request) -> AsyncBoltRequest | Refusal:
        """The request as Bolt takes it, or why it is refused. Reads no more than ``max_body``
        and one more chunk; decodes and parses only a body whose signature matched."""
        admitted = await self._verify(request)
        if isinstance(admitted, tuple):
            refusal, detail = admitted
            self._log.refused(refusal, detail)
            return refusal
        return admitted

    async def _verify(self, request: web.Request) -> AsyncBoltRequest | tuple[Refusal, str]:
        length = request.content_length
        if length is not None and length > self._max_body:
            return Refusal.TOO_LARGE, ""
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        refusal = check_headers(timestamp, signature, now=self._clock())
        if refusal is not None or timestamp is None or signature is None:
            return refusal or Refusal.BAD_SIGNATURE_FORM, ""
        body = await self._read(request)
        if isinstance(body, Refusal):
            return body, ""
        if not signature_matches(self._secret, timestamp, signature, body):
            return Refusal.WRONG_SIGNATURE, ""
        return self._to_bolt(request, body)

    async def _read(self, request: web.Request) -> bytes | Refusal:
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self._body_timeout):
                async for chunk in request.content.iter_any():
                    size += len(chunk)
                    if size > self._max_body:
                        return Refusal.TOO_LARGE
                    chunks.append(chunk)
        except TimeoutError:
            return Refusal.SLOW_BODY
        except (OSError, aiohttp.ClientError, web.HTTPException, RuntimeError):
            # Reset, cut short, or closed under the read (aiohttp raises RuntimeError then).
            return Refusal.DISCONNECTED
        return b"".join(chunks)

    def _to_bolt(self, request: web.Request, body: bytes) -> AsyncBoltRequest | tuple[Refusal, str]:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Refusal.NOT_UTF8, ""
        try:
            bolt_request = AsyncBoltRequest(
                body=text, query=request.query_string, headers=dict(request.headers)
            )
            if not isinstance(bolt_request.body, dict):
                raise TypeError("not an object")
        except Exception:  # Bolt's parser on a signed but odd body: JSON that is not an object...
            return Refusal.UNPARSABLE, ""
        problem = payload_problem(bolt_request.body)
        if problem is not None:
            return Refusal.WRONG_SHAPE, problem
        # From here on the request's response URLs may reach Bolt's and slack_sdk's log lines
        # (at DEBUG, a proxy's URL has no shape to recognise): scrub them by value.
        urls = response_urls(bolt_request.body)
        if urls:
            HELD_SECRETS.hold(
                [form for url in urls for form in response_url_forms(url)],
                seconds=RESPONSE_URL_LINGER,
            )
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
    app: AsyncApp,
    *,
    signing_secret: str,
    extra_routes_hook: RoutesHook | None = None,
    body_timeout: float = ServerLimits.body_timeout,
    metrics: Metrics | None = None,
) -> web.Application:
    """An aiohttp application serving Slack at ``/slack/events`` behind a :class:`RequestGate`;
    the hook may add routes (``/healthz``, ``/readyz``, ``/metrics``) to the same application."""
    gate = RequestGate(signing_secret, body_timeout=body_timeout, metrics=metrics)

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
    response = web.json_response({"error": body}, status=refusal.status)
    if refusal in (Refusal.SLOW_BODY, Refusal.DISCONNECTED, Refusal.TOO_LARGE):
        # Whatever the sender still has to say is not read: the connection goes.
        response.force_close()
    return response


async def start_http(
    app: AsyncApp,
    *,
    host: str,
    port: int,
    signing_secret: str,
    extra_routes_hook: RoutesHook | None = None,
    limits: ServerLimits | None = None,
    metrics: Metrics | None = None,
) -> HttpServer:
    """Start serving ``app`` over HTTP (port 0: any free port), on the guarded server of
    :mod:`bot.ops.http`."""
    limits = limits if limits is not None else ServerLimits()
    web_app = build_web_app(
        app,
        signing_secret=signing_secret,
        extra_routes_hook=extra_routes_hook,
        body_timeout=limits.body_timeout,
        metrics=metrics,
    )
    server = await start_server(web_app, host=host, port=port, limits=limits, metrics=metrics)
    port_bound = int(server.url.rsplit(":", 1)[1])
    log.info("serving Slack events on port %d at %s", port_bound, EVENTS_PATH)
    return server


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
