"""The guarded HTTP server, on loopback with raw sockets: a sender that is slow with its headers
is cut off at the deadline, an idle keep-alive connection is not, a connection over the cap
closes the oldest idle one (or is closed itself when every other one is being answered), and
what aiohttp and asyncio would log as tracebacks is a counted one-liner."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from bot.ops.http import (
    MAX_INBOUND,
    MIN_INBOUND,
    RESERVED_FILES,
    CountedLog,
    HttpServer,
    ServerLimits,
    inbound_connection_cap,
    start_server,
)
from bot.ops.metrics import Metrics
from tests.waiting import wait_until

#: Short deadlines, so that the tests wait fractions of a second.
FAST = ServerLimits(header_timeout=0.3, body_timeout=0.3, keepalive_timeout=30.0)
GET = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.ops.http"]


@asynccontextmanager
async def serving(
    limits: ServerLimits = FAST,
    *,
    metrics: Metrics | None = None,
    extra: Callable[[web.Application], None] | None = None,
) -> AsyncIterator[HttpServer]:
    app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    if extra is not None:
        extra(app)
    server = await start_server(app, host="127.0.0.1", port=0, limits=limits, metrics=metrics)
    try:
        yield server
    finally:
        await server.stop()


def _port(server: HttpServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


async def _connect(server: HttpServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", _port(server))


async def _closed(reader: asyncio.StreamReader) -> bool:
    """Whether the server closed the connection (read until EOF, up to a deadline)."""
    try:
        while await asyncio.wait_for(reader.read(4096), 10):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


async def _get(server: HttpServer, request: bytes = GET) -> bytes:
    reader, writer = await _connect(server)
    writer.write(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    try:
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_headers_dribbled_past_the_deadline_are_cut_off_while_others_are_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    metrics = Metrics()
    async with serving(metrics=metrics) as server:
        # The deadline runs from each connection's accept: timed from before the connects, so
        # a slow machine's connects count on both sides (timed after them, they did not).
        started = time.monotonic()
        slow = [await _connect(server) for _ in range(3)]
        for _, writer in slow:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nX-Slow: ")
        assert (await _get(server)).startswith(b"HTTP/1.1 200")
        for reader, writer in slow:
            writer.write(b"a")  # still sending, a byte at a time
            assert await _closed(reader)
            writer.close()
        took = time.monotonic() - started
    assert took >= FAST.header_timeout
    assert _lines(caplog) == [
        "closed an inbound connection: its headers were not all in within the deadline (0.3 s)"
    ]
    rendered = metrics.render()[0].decode()
    assert 'backups_bot_http_refusals_total{reason="slow_headers"} 3.0' in rendered


async def test_a_connection_that_sends_nothing_is_closed_at_the_header_deadline() -> None:
    async with serving() as server:
        reader, writer = await _connect(server)
        assert await _closed(reader)
        writer.close()


async def test_an_idle_keep_alive_connection_outlives_the_header_deadline() -> None:
    async with serving() as server:
        reader, writer = await _connect(server)
        for _ in range(2):
            writer.write(GET)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 200")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            # Idle between requests for longer than the header deadline: a load balancer's
            # pooled connection, not a slow sender.
            await asyncio.sleep(FAST.header_timeout * 2)
        writer.close()


async def test_a_connection_over_the_cap_closes_the_oldest_idle_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    limits = ServerLimits(header_timeout=30.0, max_connections=4)
    async with serving(limits) as server:
        idle = [await _connect(server) for _ in range(4)]
        for _, writer in idle:
            writer.write(b"GET /healthz HTTP/1.1\r\n")  # and nothing more
        assert server.guard is not None
        await wait_until(lambda: len(server.guard) == 4, what="four connections held")
        # A fifth: the probe gets in, and the oldest stranger goes.
        assert (await _get(server)).startswith(b"HTTP/1.1 200")
        assert await _closed(idle[0][0])
        assert len(server.guard) <= 4
        for _, writer in idle:
            writer.close()
    assert _lines(caplog) == [
        "closed an inbound connection: too many connections were open (at most 4)"
    ]


async def test_when_every_connection_is_being_answered_a_new_one_is_closed_at_once() -> None:
    release = asyncio.Event()
    entered = 0

    def busy_route(app: web.Application) -> None:
        async def busy(_request: web.Request) -> web.Response:
            nonlocal entered
            entered += 1
            await release.wait()
            return web.json_response({"status": "done"})

        app.router.add_get("/busy", busy)

    limits = ServerLimits(header_timeout=30.0, max_connections=2)
    async with serving(limits, extra=busy_route) as server:
        answering = [
            asyncio.create_task(_get(server, b"GET /busy HTTP/1.1\r\nHost: bot\r\n\r\n"))
            for _ in range(2)
        ]
        await wait_until(lambda: entered == 2, what="two requests being answered")
        reader, writer = await _connect(server)
        assert await _closed(reader)  # nobody to make room: refused
        writer.close()
        release.set()
        for task in answering:
            assert (await task).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(200)) + b"\r\n",
        b"NOT-HTTP AT ALL\r\n\r\n",
        b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n",
    ],
    ids=["too many headers", "not HTTP", "a huge request line"],
)
async def test_malformed_requests_are_counted_one_liners_not_tracebacks(
    caplog: pytest.LogCaptureFixture, request_bytes: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    metrics = Metrics()
    async with serving(metrics=metrics) as server:
        for _ in range(20):
            answer = await _get(server, request_bytes)
            assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request"), answer[:40]
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]
    lines = _lines(caplog)
    assert len(lines) == 1, lines
    assert lines[0].startswith("closed an inbound connection: it was not a well-formed HTTP")
    rendered = metrics.render()[0].decode()
    assert 'backups_bot_http_refusals_total{reason="bad_request"} 20.0' in rendered


async def test_a_bug_in_a_handler_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    def broken_route(app: web.Application) -> None:
        async def broken(_request: web.Request) -> web.Response:
            raise ValueError("a bug")

        app.router.add_get("/broken", broken)

    caplog.set_level(logging.INFO)
    async with serving(extra=broken_route) as server:
        answer = await _get(server, b"GET /broken HTTP/1.1\r\nHost: bot\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500")
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.name.startswith("aiohttp.server")
    assert "ValueError: a bug" in (
        record.exc_text
        or logging.Formatter().formatException(
            record.exc_info  # type: ignore[arg-type]
        )
    )


async def test_a_failed_accept_is_a_counted_one_liner(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    metrics = Metrics()
    loop = asyncio.get_running_loop()
    async with serving(metrics=metrics):
        for _ in range(50):
            loop.call_exception_handler(
                {
                    "message": "socket.accept() out of system resource",
                    "exception": OSError(24, "Too many open files"),
                }
            )
    assert _lines(caplog) == [
        "closed an inbound connection: the process ran out of open files accepting it (OSError)"
    ]
    assert not [r for r in caplog.records if r.exc_info]
    rendered = metrics.render()[0].decode()
    assert 'backups_bot_http_refusals_total{reason="no_files"} 50.0' in rendered


async def test_the_loops_other_reports_still_go_where_they_went(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    loop = asyncio.get_running_loop()
    before = loop.get_exception_handler()
    async with serving():
        loop.call_exception_handler({"message": "something else entirely"})
    assert loop.get_exception_handler() is before
    assert any("something else entirely" in r.getMessage() for r in caplog.records)


def test_a_flood_of_one_reason_is_a_line_a_minute_with_the_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    now = [0.0]
    counted: list[str] = []
    counts = CountedLog(
        logging.getLogger("bot.ops.http"), clock=lambda: now[0], count=counted.append
    )
    for _ in range(1000):
        counts.note("slow", "closed: %s", "slow")
    now[0] += 59.9
    counts.note("slow", "closed: %s", "slow")
    now[0] += 0.2
    counts.note("slow", "closed: %s", "slow")
    assert _lines(caplog) == [
        "closed: slow",
        "closed: slow; 1000 more refused for this since the last line",
    ]
    assert len(counted) == 1002


@pytest.mark.parametrize(
    ("open_files", "cap"),
    [(None, MAX_INBOUND), (1024, 1024 - RESERVED_FILES), (1 << 20, MAX_INBOUND), (64, MIN_INBOUND)],
)
def test_the_cap_leaves_room_for_the_bots_own_connections(open_files: int | None, cap: int) -> None:
    assert inbound_connection_cap(open_files) == cap


@pytest.mark.parametrize(("soft", "hard"), [(1024, 4096), (1024, 1024)])
def test_the_open_file_limit_is_raised_to_the_hard_limit(soft: int, hard: int) -> None:
    code = (
        "import resource; from bot.ops.http import raise_open_file_limit; "
        "print(raise_open_file_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    )

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    out = subprocess.run(
        [sys.executable, "-c", code], preexec_fn=limit, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [f"({soft},", f"{hard})", str(hard)]
