"""The ops endpoints, served by a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.ops.health import CheckFailed, Readiness, add_ops_routes, fresh_within
from bot.ops.logging import Redactor
from bot.ops.metrics import Metrics

SECRET = "xoxb-1111111111-2222222222-SeCrEtSeCrEtSeCrEt"

Client = TestClient[web.Request, web.Application]
Serve = Callable[..., Awaitable[Client]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start the ops routes on a real server on 127.0.0.1; returns a client for it."""
    clients: list[Client] = []

    async def start(readiness: Readiness, metrics: Metrics | None = None) -> Client:
        app = web.Application()
        add_ops_routes(app, metrics=metrics or Metrics(), readiness=readiness)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def _ok() -> None:
    return None


async def test_healthz_is_ok_while_the_process_runs(serve: Serve) -> None:
    client = await serve(Readiness())
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}


async def test_readyz_is_200_when_every_check_passes(serve: Serve) -> None:
    readiness = Readiness()
    readiness.add_check("slack", _ok)
    readiness.add_check("database", _ok)
    client = await serve(readiness)
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 200
    assert body["status"] == "ok"
    assert body["checks"]["slack"]["ok"] is True
    assert body["checks"]["database"]["ok"] is True


async def test_readyz_is_503_with_the_failing_checks_reason(serve: Serve) -> None:
    async def database() -> None:
        raise CheckFailed("database: connection refused by 127.0.0.1:5432")

    readiness = Readiness()
    readiness.add_check("slack", _ok)
    readiness.add_check("database", database)
    client = await serve(readiness)
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["slack"]["ok"] is True
    assert body["checks"]["database"] == {
        "ok": False,
        "seconds": body["checks"]["database"]["seconds"],
        "reason": "database: connection refused by 127.0.0.1:5432",
    }


async def test_a_check_that_hangs_fails_after_its_timeout(serve: Serve) -> None:
    async def hangs() -> None:
        await asyncio.sleep(30)

    readiness = Readiness(timeout=0.05)
    readiness.add_check("cloud", hangs)
    client = await serve(readiness)
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 503
    assert body["checks"]["cloud"]["reason"] == "no answer within 0.05s"


async def test_a_failure_reason_is_one_line_and_never_shows_a_secret(serve: Serve) -> None:
    registered = "pg-password-0123456789"

    async def leaky() -> None:
        raise ValueError(f"bad auth {SECRET} pw={registered}\nTraceback line two")

    readiness = Readiness(redactor=Redactor([registered]))
    readiness.add_check("slack", leaky)
    client = await serve(readiness)
    resp = await client.get("/readyz")
    text = await resp.text()
    body = await resp.json()
    assert resp.status == 503
    assert SECRET not in text
    assert registered not in text
    assert body["checks"]["slack"]["reason"] == "ValueError: bad auth [REDACTED] pw=[REDACTED]"


async def test_readyz_is_503_while_draining(serve: Serve) -> None:
    readiness = Readiness()
    readiness.add_check("slack", _ok)
    client = await serve(readiness)
    assert (await client.get("/readyz")).status == 200
    readiness.set_draining()
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert (await resp.json())["status"] == "draining"
    assert (await client.get("/healthz")).status == 200


async def test_metrics_serves_the_prometheus_text_format(serve: Serve) -> None:
    metrics = Metrics()
    metrics.observe_cloud_request("Cluster.listBackups", "200", 0.2)
    client = await serve(Readiness(), metrics)
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await resp.text()
    assert 'backups_bot_cloud_requests_total{method="Cluster.listBackups",status="200"} 1.0' in text


async def test_fresh_within_passes_while_recent_and_says_how_old_when_not() -> None:
    now = [1_000.0]
    last: list[float | None] = [None]
    check = fresh_within(lambda: last[0], 600, what="cloud read", clock=lambda: now[0])
    with pytest.raises(CheckFailed, match="no successful cloud read yet"):
        await check()
    last[0] = 900.0
    await check()
    now[0] = 2_000.0
    with pytest.raises(CheckFailed, match=r"last successful cloud read 1100s ago \(allowed 600s\)"):
        await check()
