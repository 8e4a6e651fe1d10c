"""``backups-bot serve``: Slack listeners, the scheduler, health and metrics, in one process.

Start-up order matters for a clean first minute: logging first (so nothing leaks unredacted;
the CLI sets it up for every verb), then the validation ``check`` shares (environment and config,
every problem in one line each), the open-file limit raised to its hard limit, then the database
(reached once, then migrations), Slack's auth.test (a bad token stops the process at once with
one line), a first cloud read (readiness), the HTTP server (deadlines and a cap on connections:
bot.ops.http), Socket Mode, and last the scheduler.

A pod may start before its network, its database or Slack can be reached: serve then waits for
the world instead of crash-looping. From the start ``PORT`` serves ``/healthz`` (200) and
``/readyz`` (503, saying what it waits for); the database and Slack are tried again with backoff
(1 s doubling to 30 s), said at the first failure and then once a minute. What is refused rather
than unreachable (a wrong password, a bot token Slack rejects) stops it at once, exit 2. The
cloud does not hold the start up (commands can still say what is wrong, and a replica may be
ready on its twin's sweeps): its first read is retried in the background the same way, and
``/readyz``'s fleet check says why it fails meanwhile.
SIGTERM runs it backwards: /readyz turns 503, Socket Mode closes (no new commands), answers
already acknowledged are delivered, the scheduler lets a running sweep finish or hands its claim
back, the server stops, and every session closes. The whole shutdown fits in Kubernetes' default
30 s grace period.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable
from functools import partial
from typing import Any, TypeVar

from aiohttp import web

from bot.app.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, secret_values, validate_startup
from bot.app.scheduler import WatchScheduler
from bot.app.startup import BAD_TOKEN_CODES, NotYet, Waiting, reach_database, wait_for
from bot.app.wiring import Components, open_components
from bot.clock import now as clock_now
from bot.config import BotConfig
from bot.errors import (
    AuthError,
    BotError,
    CloudRequestError,
    ConfigError,
    RateLimited,
    ServerError,
    Unauthenticated,
)
from bot.ledger.reporter import MonthlyReporter
from bot.ops.health import Check, CheckFailed, Readiness, add_ops_routes, fresh_within
from bot.ops.http import HttpServer, raise_open_file_limit, start_server
from bot.ops.logging import Redactor
from bot.ops.metrics import Metrics
from bot.outbox.change import EVERY_CHANNEL
from bot.settings import Settings, reveal
from bot.slack.app import RoutesHook, start_http, start_socket_mode
from bot.slack.notifier import SlackAPIFailure, SlackNotifier
from handlers import InFlight
from handlers.app import build_bolt_app

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Probes and Slack reach a container from outside, so PORT listens on every interface.
LISTEN_HOST = "0.0.0.0"  # noqa: S104
#: After SIGTERM, how long acknowledged answers and a running sweep or digest may take (both at
#: once); what is still running then is cancelled, and a sweep or digest hands its claim back.
SHUTDOWN_GRACE = 20.0
#: How long answers to commands taken while the scheduler stopped may still take once the server
#: has stopped; with the grace above and the server's own 5 s, inside a 30 s grace period.
FINAL_DRAIN = 3.0
#: Seconds the HTTP server waits for requests still being handled when it stops.
SERVER_SHUTDOWN_TIMEOUT = 5.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the bot: Slack listeners, scheduler, health and metrics",
        description="Run the bot. Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode on "
        "PORT at /slack/events; /healthz, /readyz and /metrics are served on PORT either way.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; 0 after a graceful stop, 2 on a configuration error (a bad
    token included), 1 on any other failure. Every failure is one redacted log line; the CLI
    has set up the logging (bot.app.cli.verb_logging)."""
    del args
    startup = validate_startup()  # the same validation as `backups-bot check`
    if startup.settings is None or startup.config is None or not startup.ok:
        for problem in startup.problems:
            log.error("cannot start: %s", problem.detail)
        return EXIT_USAGE
    try:
        asyncio.run(serve(startup.settings, startup.config))
    except ConfigError as exc:
        log.error("cannot start: %s", exc)
        return EXIT_USAGE
    except BotError as exc:
        log.error("cannot start: %s", exc)
        return EXIT_FAILURE
    except Exception:
        # Through the logger, not Python's default hook: the traceback is then redacted too.
        log.exception("the bot stopped on an unexpected error")
        return EXIT_FAILURE
    return EXIT_OK


class CloudHealth:
    """When the cloud last answered a request successfully, fed by the client's observer."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self.last_ok: float | None = None

    def observe(self, method: str, status: str, seconds: float) -> None:
        self._metrics.observe_cloud_request(method, status, seconds)
        if status.startswith("2"):
            self.last_ok = time.time()


class _Stopped(Exception):
    """SIGTERM arrived while the bot was still starting."""


async def serve(
    settings: Settings, config: BotConfig, *, stop: asyncio.Event | None = None
) -> None:
    """Run until SIGTERM/SIGINT (or until ``stop`` is set, for tests)."""
    _require_slack_settings(settings)
    _raise_open_file_limit()
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, _on_signal, sig, stop)
    metrics = Metrics()
    waiting = Waiting()
    # Health and readiness from the first moment: a probe sees the process alive, and not
    # ready, with what it waits for.
    early = await _start_ops_only(settings.port, _waiting_routes(metrics, waiting), metrics)
    try:
        # The database first: a wrong DATABASE_URL is one line naming the host.
        await _unless_stopped(
            stop, wait_for("the database", partial(reach_database, settings.database_url), waiting)
        )
        await _serve(settings, config, stop, metrics=metrics, waiting=waiting, early=early)
    except _Stopped:
        log.info("asked to stop while starting")
    finally:
        await early.stop()  # a no-op when _serve has stopped it already
        for sig in signals:
            loop.remove_signal_handler(sig)
    log.info("stopped")


def _waiting_routes(metrics: Metrics, waiting: Waiting) -> RoutesHook:
    """/healthz, /metrics, and a /readyz that says what start-up waits for."""
    readiness = Readiness()

    async def startup() -> None:
        raise CheckFailed(waiting.describe() or "starting")

    readiness.add_check("startup", startup)

    def hook(web_app: web.Application) -> None:
        add_ops_routes(web_app, metrics=metrics, readiness=readiness)

    return hook


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    if not stop.is_set():
        log.info("received %s; shutting down", sig.name)
    stop.set()


def _require_slack_settings(settings: Settings) -> None:
    """Refuse at once what build_bolt_app would refuse only after the database and the cloud."""
    if not reveal(settings.slack_bot_token):
        raise ConfigError("SLACK_BOT_TOKEN is not set; the bot needs its xoxb- token")
    if not settings.socket_mode and not reveal(settings.slack_signing_secret):
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set; HTTP mode needs it (or set SLACK_APP_TOKEN "
            "for Socket Mode)"
        )


async def _serve(
    settings: Settings,
    config: BotConfig,
    stop: asyncio.Event,
    *,
    metrics: Metrics,
    waiting: Waiting,
    early: HttpServer,
) -> None:
    cloud_health = CloudHealth(metrics)
    readiness = Readiness(redactor=Redactor(secret_values(settings)))
    async with open_components(
        settings, config, role="serve", metrics=metrics, on_request=cloud_health.observe
    ) as parts:
        assert parts.notifier is not None  # open_components builds one unless slack=False
        await _unless_stopped(
            stop, wait_for("Slack", partial(_authenticate, parts.notifier), waiting)
        )
        # One read before serving, so that readiness holds from the first request when the
        # cloud answers; when it does not, the tries go on beside the serving bot.
        cloud_waiting = Waiting()
        retrying: asyncio.Task[None] | None = None
        try:
            await _unless_stopped(stop, _first_cloud_read(parts))
        except NotYet as exc:
            line = cloud_waiting.failed("the cloud", str(exc), time.monotonic())
            if line is not None:
                log.warning(line)
            retrying = asyncio.create_task(
                wait_for("the cloud", partial(_first_cloud_read, parts), cloud_waiting)
            )
        try:
            await _run(settings, config, stop, parts, readiness, cloud_health, cloud_waiting, early)
        finally:
            if retrying is not None:
                retrying.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retrying


async def _run(
    settings: Settings,
    config: BotConfig,
    stop: asyncio.Event,
    parts: Components,
    readiness: Readiness,
    cloud_health: CloudHealth,
    cloud_waiting: Waiting,
    early: HttpServer,
) -> None:
    """Serve, from the Slack listeners to the scheduler, until ``stop``; then shut down."""
    assert parts.notifier is not None
    metrics = parts.metrics
    in_flight = InFlight()
    app = build_bolt_app(
        settings,
        router=parts.router,
        notifier=parts.notifier,
        in_flight=in_flight,
        home=parts.home,
    )
    readiness.add_check("database", parts.store.ping)
    allowed = 3 * config.sweep.every.total_seconds() + 60
    readiness.add_check("fleet", _fleet_check(parts, cloud_health, allowed, cloud_waiting))
    readiness.add_check("delivery", _delivery_check(parts))
    scheduler = WatchScheduler(
        sweeper=parts.sweeper,
        digests=parts.digests,
        config=config,
        store=parts.store,
        owner=parts.owner,
        shutdown_timeout=SHUTDOWN_GRACE,
        metrics=metrics,
        reports=MonthlyReporter(
            parts.store,
            config,
            owner=parts.owner,
            queued=parts.executor.wake if parts.executor is not None else None,
        ),
        after_sweep=parts.drills.after_sweep,
    )

    def ops_routes(web_app: web.Application) -> None:
        add_ops_routes(web_app, metrics=metrics, readiness=readiness)

    socket: Any = None
    server: HttpServer | None = None
    try:
        # The waiting server hands PORT over to the real one (a moment with no listener).
        await early.stop()
        if settings.socket_mode:
            server = await _start_ops_only(settings.port, ops_routes, metrics)
            socket = await _unless_stopped(stop, start_socket_mode(app, settings))
            readiness.add_check("slack", _socket_check(socket))
        else:
            server = await start_http(
                app,
                host=LISTEN_HOST,
                port=settings.port,
                signing_secret=reveal(settings.slack_signing_secret),
                extra_routes_hook=ops_routes,
                metrics=metrics,
            )
        await parts.backups.resume(clock_now())
        if parts.executor is not None:
            await parts.executor.start()
        await scheduler.start()
        log.info(
            "serving in %s; next runs: %s",
            "Socket Mode" if socket is not None else "HTTP mode",
            {job: when.isoformat() for job, when in scheduler.next_runs().items()},
        )
        await stop.wait()
    finally:
        await _shut_down(readiness, socket, in_flight, scheduler, server, parts)


async def _shut_down(
    readiness: Readiness,
    socket: Any,
    in_flight: InFlight,
    scheduler: WatchScheduler,
    server: HttpServer | None,
    parts: Components,
) -> None:
    """Stop taking work, let what runs finish (within the grace), stop serving."""
    log.info("shutting down: draining answers and scheduled runs")
    readiness.set_draining()
    if socket is not None:
        # No new commands from here on; listeners already running keep going.
        with contextlib.suppress(Exception):
            await socket.close_async()
    # In-flight answers and a running sweep are independent: wait for both at once.
    drained, _ = await asyncio.gather(
        in_flight.drain(SHUTDOWN_GRACE), scheduler.shutdown(wait=True)
    )
    if not drained:
        log.warning("%d answer(s) were still running after %.0fs", len(in_flight), SHUTDOWN_GRACE)

    async def stop_serving() -> None:
        if server is None:
            return
        # In HTTP mode commands were still taken until now (the load balancer may not have seen
        # /readyz turn 503 yet); the few taken meanwhile get a short last chance to answer.
        await server.stop()
        if not await in_flight.drain(FINAL_DRAIN):
            log.warning("%d answer(s) were cut short at shutdown", len(in_flight))

    async def stop_delivering() -> None:
        # What the last sweep queued goes out if it can within the drain; a post cut short
        # stays in doubt in the outbox: whoever delivers next looks for it before posting again.
        if parts.executor is not None:
            await parts.executor.flush(FINAL_DRAIN)
            await parts.executor.aclose(timeout=FINAL_DRAIN)

    await asyncio.gather(stop_serving(), stop_delivering())


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[_T]) -> _T:
    """Await ``work``, unless ``stop`` is set first: then cancel it and raise _Stopped."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        raise _Stopped
    return task.result()


async def _authenticate(notifier: SlackNotifier) -> None:
    """auth.test: a token Slack refuses is a configuration error, said in one line; no answer
    (or a failing Slack) is NotYet, to be tried again."""
    try:
        who = await notifier.auth_test()
    except SlackAPIFailure as exc:
        code = exc.code
        if code == "timeout" or code.startswith(("unreachable", "http_5")):
            raise NotYet(f"Slack at {notifier.client.base_url} did not answer ({code})") from None
        if code == "ratelimited":
            raise NotYet("Slack asks to slow down (ratelimited)") from None
        if code in BAD_TOKEN_CODES:
            raise ConfigError(
                f"Slack refused SLACK_BOT_TOKEN ({code}); check the bot token"
            ) from None
        raise ConfigError(f"Slack refused auth.test ({code}); check SLACK_BOT_TOKEN") from None
    log.info("authenticated to Slack as @%s in %s", who.get("user", "?"), who.get("team", "?"))


async def _first_cloud_read(parts: Components) -> None:
    """Touch the cloud once so readiness reflects it from the start. No answer (or a failing
    cloud) is NotYet, tried again in the background; any other failure is only logged: the bot
    still answers what it can, and the sweep's self-alert covers a lasting problem."""
    folders = parts.config.watch.folders or parts.config.access.folders
    try:
        if folders:
            await parts.cloud.list_clusters_page(folders[0], page_size=1)
        elif parts.config.watch.clusters:
            await parts.cloud.get_cluster(parts.config.watch.clusters[0])
    except (CloudRequestError, ServerError, RateLimited) as exc:
        raise NotYet(f"first cloud read failed: {exc}") from None
    except AuthError as exc:
        if exc.unreachable:
            raise NotYet(f"first cloud read failed: {exc}") from None
        log.error("first cloud read failed: %s", exc)
    except Unauthenticated as exc:
        log.error("first cloud read failed: the cloud refused the IAM token (%s)", exc)
    except BotError as exc:
        log.warning("first cloud read failed: %s", exc)


def _fleet_check(
    parts: Components, cloud_health: CloudHealth, allowed: float, cloud_waiting: Waiting
) -> Check:
    """Ready while the fleet was read recently by any replica (the store knows the last good
    sweep), or this process read the cloud recently: a replica that lost every sweep slot to its
    twin is as ready as the twin. Not ready yet, it says why the cloud is not being read."""

    async def check() -> None:
        last = await parts.store.facts.get_marker("last_sweep_ok")
        stamps = [t for t in (cloud_health.last_ok, last.timestamp() if last else None) if t]
        try:
            await fresh_within(
                lambda: max(stamps) if stamps else None, allowed, what="fleet read"
            )()
        except CheckFailed as exc:
            waiting = cloud_waiting.describe()
            raise CheckFailed(f"{exc}; {waiting}" if waiting else str(exc)) from None

    return check


def _delivery_check(parts: Components) -> Check:
    """Not ready while Slack refuses the bot token (nothing can be posted); channels that refuse
    the bot are named in the detail."""

    async def check() -> str | None:
        problems = await parts.store.outbox.channel_problems()
        token = [p for p in problems if p.channel == EVERY_CHANNEL]
        if token:
            raise CheckFailed(f"Slack refuses the bot token ({token[0].code}); posts are waiting")
        if not problems:
            return None
        return "Slack refuses posts to " + ", ".join(f"{p.channel} ({p.code})" for p in problems)

    return check


def _socket_check(handler: Any) -> Check:
    async def check() -> None:
        if not await handler.client.is_connected():
            raise CheckFailed("the Socket Mode connection is down")

    return check


async def _start_ops_only(port: int, hook: RoutesHook, metrics: Metrics) -> HttpServer:
    """In Socket Mode nothing listens for Slack (and while serve waits for the world nothing
    does yet); PORT still serves health and metrics, on the same guarded server as HTTP mode."""
    web_app = web.Application()
    hook(web_app)
    server = await start_server(
        web_app,
        host=LISTEN_HOST,
        port=port,
        metrics=metrics,
        shutdown_timeout=SERVER_SHUTDOWN_TIMEOUT,
    )
    log.info("serving /healthz, /readyz and /metrics on port %d", port)
    return server


def _raise_open_file_limit() -> None:
    """A container often starts with 1,024 open files allowed and far more permitted: take
    them, so that strangers' connections (capped below the limit) never starve the bot's own."""
    limits = raise_open_file_limit()
    if limits is not None and limits[1] > limits[0]:
        log.info("raised the open-file limit from %d to %d", *limits)
