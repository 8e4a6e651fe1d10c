"""The bot's HTTP server, hardened against whoever can reach it: Slack's events, the probes and
the metrics scrape share one port that anyone may connect to.

aiohttp alone lets a sender hold a connection as long as it wishes (headers dribbled a byte at a
time, a chunked body never finished) and accepts connections until the process runs out of file
descriptors, when every accept fails with a traceback. Here:

* **deadlines**: a request's headers must all be in within :attr:`ServerLimits.header_timeout` of
  the connection opening (or of the next request's first byte); its body is the request gate's
  to read within :attr:`ServerLimits.body_timeout` (``bot.slack.app``). An idle keep-alive
  connection may wait longer (a load balancer's pool), but is the first to go under pressure;
* **a cap on connections**: at most :func:`inbound_connection_cap` connections at once, well under
  the open-file limit, so the cloud, the database and Slack always get theirs. A connection over
  the cap closes the oldest one that is not being answered (still sending, or idle), so a probe
  or a signed command gets in however many strangers hold the door;
* **the open-file limit raised** to its hard limit at start (:func:`raise_open_file_limit`);
* **counted one-liners**: every refusal and disconnect is one log line per reason per minute,
  the rest counted in the next line and in ``backups_bot_http_refusals_total``; aiohttp's own
  "Error handling request" tracebacks (a request aborted by its sender, too many headers) and
  asyncio's "socket.accept() out of system resource" become such lines too. An error that is not
  the sender's doing (a bug in a handler) keeps its traceback.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

#: One line per reason in this many seconds; the refusals in between are counted.
REFUSAL_LOG_INTERVAL = 60.0

#: Connections asyncio accepts in one go before any of them is looked at (and, evicting others,
#: may hold a moment over the cap). Small, so that a burst of strangers costs little at once.
ACCEPT_BATCH = 32
#: Inbound connections are capped at the open-file limit minus this many, kept for what the bot
#: opens itself: the cloud's pool (at most 100, 64 in flight), Slack's (100), the database, its
#: log and data files and pipes (a few dozen), and twice an accept batch over the cap.
RESERVED_FILES = 320
#: However high the open-file limit, no more inbound connections than this: Slack sends a few
#: requests a second at most, the probes and the scrape one each; the rest are strangers.
MAX_INBOUND = 1024
#: However low the open-file limit, this many (a process with fewer files is misconfigured).
MIN_INBOUND = 16
#: Connections the kernel queues while the bot accepts others: a burst of strangers reconnecting
#: at once waits here instead of overflowing the queue, so a probe's connection is not dropped
#: (and retried by its kernel a second later). Capped by the system's somaxconn.
LISTEN_BACKLOG = 2048


class Refused(enum.Enum):
    """Why a connection or a request was refused or cut off, in words safe to log."""

    SLOW_HEADERS = "its headers were not all in within the deadline"
    TOO_MANY_CONNECTIONS = "too many connections were open"
    BAD_REQUEST = "it was not a well-formed HTTP request"
    DISCONNECTED = "its sender went away before the request was complete"
    NO_FILES = "the process ran out of open files accepting it"

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class ServerLimits:
    """How long a sender may take and how many connections may be open."""

    #: Seconds for a request's headers, from the connection (or the request's first byte).
    header_timeout: float = 5.0
    #: Seconds for a request's body once its headers are in (the request gate enforces it).
    body_timeout: float = 5.0
    #: Seconds an idle keep-alive connection may wait for its next request.
    keepalive_timeout: float = 75.0
    #: Seconds aiohttp reads and drops the rest of a body nobody read before closing.
    lingering_time: float = 2.0
    #: Inbound connections at once; None: :func:`inbound_connection_cap` of the open-file limit.
    max_connections: int | None = None


@dataclass
class CountedLog:
    """One log line per reason per ``interval``; the rest counted, in the next line of the reason
    and (every one) by ``count``."""

    logger: logging.Logger
    interval: float = REFUSAL_LOG_INTERVAL
    clock: Callable[[], float] = time.monotonic
    count: Callable[[str], None] | None = None
    _last: dict[str, float] = field(default_factory=dict)
    _unlogged: dict[str, int] = field(default_factory=dict)

    def note(self, reason: str, message: str, *args: object) -> None:
        """Count ``reason``; log ``message % args`` unless the reason was logged lately."""
        if self.count is not None:
            self.count(reason)
        now = self.clock()
        last = self._last.get(reason)
        if last is not None and now - last < self.interval:
            self._unlogged[reason] = self._unlogged.get(reason, 0) + 1
            return
        self._last[reason] = now
        more = self._unlogged.pop(reason, 0)
        since = f"; {more} more refused for this since the last line" if more else ""
        self.logger.info(message + "%s", *args, since)


# --- the open-file limit ----------------------------------------------------------------------


def open_file_limit() -> int | None:
    """The soft limit on open files, or None where there is none to read."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Linux or macOS
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def raise_open_file_limit() -> tuple[int, int] | None:
    """Raise the soft limit on open files to the hard limit (a container often starts at 1,024
    soft with far more allowed); the limits before and after, or None where there are none."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Linux or macOS
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20  # macOS refuses infinity for this limit; a million is plenty
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft, soft
        return soft, hard
    return soft, soft


def inbound_connection_cap(open_files: int | None) -> int:
    """How many inbound connections may be open at once with ``open_files`` file descriptors."""
    if open_files is None:
        return MAX_INBOUND
    return max(MIN_INBOUND, min(MAX_INBOUND, open_files - RESERVED_FILES))


# --- the guard --------------------------------------------------------------------------------


class ConnectionGuard:
    """Counts the open connections of one server, closes the oldest idle one when there are
    too many, and says every refusal as a counted one-liner."""

    def __init__(
        self, limits: ServerLimits, *, metrics: Metrics | None = None, cap: int | None = None
    ) -> None:
        self.limits = limits
        self.cap = cap if cap is not None else inbound_connection_cap(open_file_limit())
        self._metrics = metrics
        self._open: dict[GuardedHandler, None] = {}
        self._log = CountedLog(log, count=self._count)

    def __len__(self) -> int:
        return len(self._open)

    def _count(self, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.count_http_refusal(reason)

    def _gauge(self) -> None:
        if self._metrics is not None:
            self._metrics.http_connections_open.set(len(self._open))

    def refused(self, why: Refused, detail: str = "") -> None:
        """Say (or count) one refusal."""
        extra = f" ({detail})" if detail else ""
        self._log.note(why.label, "closed an inbound connection: %s%s", why.value, extra)

    def opened(self, handler: GuardedHandler) -> bool:
        """Take a new connection in; False when it must be closed at once (every other one is
        being answered)."""
        self._open[handler] = None
        if len(self._open) > self.cap:
            victim = next((h for h in self._open if h is not handler and h.evictable), None)
            self.refused(Refused.TOO_MANY_CONNECTIONS, f"at most {self.cap}")
            if victim is None:
                del self._open[handler]
                self._gauge()
                return False
            self._open.pop(victim, None)
            victim.force_close()
        self._gauge()
        return True

    def closed(self, handler: GuardedHandler) -> None:
        """A connection is gone."""
        self._open.pop(handler, None)
        self._gauge()


class GuardedHandler(RequestHandler):
    """aiohttp's connection protocol with a deadline for headers and a place in the guard."""

    __slots__ = ("_deadline", "_guard")

    def __init__(self, manager: web.Server, *, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._deadline: asyncio.TimerHandle | None = None

    @property
    def evictable(self) -> bool:
        """Not being answered: waiting for (or reading) a request, or idle between requests."""
        if not self._request_in_progress:
            return True
        request = self._current_request
        return request is not None and not request.content.is_eof()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self._guard.opened(self):
            self.force_close()
            return
        self._start_deadline()

    def data_received(self, data: bytes) -> None:
        requests = self._request_count
        super().data_received(data)
        if self._request_count > requests:
            self._stop_deadline()  # a request's headers are in
        elif data and self._deadline is None and not self._request_in_progress:
            self._start_deadline()  # the first bytes of a next request

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_deadline()
        self._guard.closed(self)
        super().connection_lost(exc)

    def _start_deadline(self) -> None:
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self._guard.limits.header_timeout, self._headers_late)

    def _stop_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_late(self) -> None:
        self._deadline = None
        if self._request_in_progress or self._messages or self.transport is None:
            return  # a request is being read or answered: the body has a deadline of its own
        self._guard.refused(Refused.SLOW_HEADERS, f"{self._guard.limits.header_timeout:g} s")
        self.force_close()


class _ToGuard(logging.Handler):
    """What aiohttp's request handler logs: the sender's faults (a malformed request, an aborted
    one) become counted one-liners; anything else is passed on, traceback and all."""

    def __init__(self, guard: ConnectionGuard) -> None:
        super().__init__(logging.DEBUG)
        self._guard = guard

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            self._guard.refused(Refused.BAD_REQUEST, type(exc).__name__)
        elif isinstance(exc, ConnectionError | asyncio.CancelledError) or _closed_under(exc):
            self._guard.refused(Refused.DISCONNECTED, type(exc).__name__)
        elif record.levelno > logging.DEBUG:
            logging.getLogger("aiohttp.server").handle(record)


def _closed_under(exc: BaseException | None) -> bool:
    """aiohttp's error for a read from a connection closed meanwhile (one closed for being idle
    while aiohttp still read the rest of a body nobody wanted)."""
    return isinstance(exc, RuntimeError) and str(exc) == "Connection closed."


def _server_logger(guard: ConnectionGuard) -> logging.Logger:
    """A logger of its own for aiohttp's request handlers (outside the logger tree, so nothing
    reaches the root handler unless :class:`_ToGuard` passes it on)."""
    logger = logging.Logger("aiohttp.server.guarded", logging.DEBUG)
    logger.addHandler(_ToGuard(guard))
    logger.propagate = False
    return logger


class GuardedServer(web.Server):
    """aiohttp's server, making :class:`GuardedHandler` connections."""

    def __init__(self, *args: Any, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard

    def __call__(self) -> RequestHandler:
        return GuardedHandler(self, guard=self.guard, loop=self._loop, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose server is a :class:`GuardedServer`."""

    def __init__(self, app: web.Application, *, guard: ConnectionGuard, **kwargs: Any) -> None:
        limits = guard.limits
        super().__init__(
            app,
            keepalive_timeout=limits.keepalive_timeout,
            lingering_time=limits.lingering_time,
            logger=_server_logger(guard),
            **kwargs,
        )
        self.guard = guard

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        return GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=asyncio.get_running_loop(),
            guard=self.guard,
            **plain._kwargs,
        )


# --- running one --------------------------------------------------------------------------------


@dataclass
class HttpServer:
    """A running HTTP server: its application, base URL, guard, and how to stop it."""

    web_app: web.Application
    runner: web.AppRunner
    url: str
    guard: ConnectionGuard | None = None
    _restore: Callable[[], None] | None = None

    async def stop(self) -> None:
        try:
            await self.runner.cleanup()
        finally:
            if self._restore is not None:
                self._restore()
                self._restore = None


async def start_server(
    web_app: web.Application,
    *,
    host: str,
    port: int,
    limits: ServerLimits | None = None,
    metrics: Metrics | None = None,
    shutdown_timeout: float = 5.0,
) -> HttpServer:
    """Serve ``web_app`` on ``host:port`` (port 0: any free port) behind a connection guard."""
    limits = limits if limits is not None else ServerLimits()
    guard = ConnectionGuard(limits, metrics=metrics, cap=limits.max_connections)
    runner = GuardedRunner(web_app, guard=guard, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    try:
        site = web.SockSite(runner, sock, backlog=ACCEPT_BATCH)
        await site.start()
        # asyncio listens with the batch it accepts at once; the kernel may queue more.
        sock.listen(LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        await runner.cleanup()
        raise
    restore = _quiet_accept_failures(asyncio.get_running_loop(), guard)
    bound: Any = sock.getsockname()
    return HttpServer(web_app, runner, f"http://{bound[0]}:{bound[1]}", guard, restore)


def _quiet_accept_failures(
    loop: asyncio.AbstractEventLoop, guard: ConnectionGuard
) -> Callable[[], None]:
    """Make asyncio's "socket.accept() out of system resource" (one traceback per failed accept)
    a counted one-liner; what else the loop reports goes where it went. Returns the undo."""
    before = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            exc = context.get("exception")
            guard.refused(Refused.NO_FILES, type(exc).__name__ if exc is not None else "")
        elif before is not None:
            before(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)

    def restore() -> None:
        if loop.get_exception_handler() is handler:
            loop.set_exception_handler(before)

    return restore
