"""A loopback server that answers whatever body a test gives it and records every request, for
checking the client against the official protos rather than against our own simulator."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.cloud.retry import RetryPolicy


@dataclass(frozen=True)
class Seen:
    """One request as it arrived: method, decoded path, query, body bytes, and the headers the
    cloud's troubleshooting guide asks for (``x-client-request-id``)."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    client_request_id: str | None = None


@dataclass
class Wire:
    """Serves ``body`` (JSON text) for every request; records them in ``seen``."""

    url: str = ""
    body: str = "{}"
    seen: list[Seen] = field(default_factory=list)


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    state = Wire()

    async def answer(request: web.Request) -> web.Response:
        state.seen.append(
            Seen(
                request.method,
                request.path,
                dict(request.query),
                await request.read(),
                request.headers.get("x-client-request-id"),
            )
        )
        return web.Response(text=state.body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(wire: Wire) -> AsyncIterator[CloudClient]:
    async with CloudClient(
        mdb_endpoint=wire.url,
        operation_endpoint=wire.url,
        auth=StaticTokenProvider("t1.conformance"),
        retry=RetryPolicy(attempts=1),
        timeout=5.0,
        rng=random.Random(1),
    ) as cloud:
        yield cloud
