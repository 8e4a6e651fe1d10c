"""The ops endpoints, mounted on the same aiohttp app as Slack's ``/slack/events``.

- ``/healthz``: 200 while the process can answer at all (liveness: restart me if not).
- ``/readyz``: 200 when every named check passes, else 503 with each failure's one-line reason
  (readiness: send me traffic). 503 as soon as shutdown begins, so traffic drains first.
- ``/metrics``: the Prometheus text format.

A check is an async callable that returns when things are fine and raises when they are not; the
exception's message (its first line, scrubbed of secrets and token shapes) is the reason shown.
A check that passes may return a string: a detail shown beside it (a channel that refuses the
bot is worth knowing, but not a reason to take the replica out of service).
Each check has a short timeout, so one hung dependency makes the probe fail, not hang.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.errors import BotError
from bot.ops.logging import Redactor
from bot.ops.metrics import Metrics

Check = Callable[[], Awaitable[object]]

#: A probe's whole budget is usually 1-5 s (kubelet's timeoutSeconds); each check gets less.
DEFAULT_CHECK_TIMEOUT = 2.0
_MAX_REASON = 200


class CheckFailed(BotError):
    """Raised by a check to say why it is not ready, in words safe to show."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    reason: str | None = None
    seconds: float = 0.0
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "seconds": round(self.seconds, 3)}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.detail is not None:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    status: str  # "ok", "unavailable" or "draining"
    checks: tuple[CheckResult, ...]

    @property
    def ready(self) -> bool:
        return self.status == "ok"

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "checks": {c.name: c.as_json() for c in self.checks}}


class Readiness:
    """Named readiness checks, and the draining flag set when graceful shutdown starts."""

    def __init__(
        self, *, timeout: float = DEFAULT_CHECK_TIMEOUT, redactor: Redactor | None = None
    ) -> None:
        self._timeout = timeout
        self._redactor = redactor if redactor is not None else Redactor()
        self._checks: dict[str, tuple[Check, float]] = {}
        self._draining = False

    def add_check(self, name: str, check: Check, *, timeout: float | None = None) -> None:
        """Register (or replace) the check called ``name``."""
        self._checks[name] = (check, timeout if timeout is not None else self._timeout)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._checks)

    @property
    def draining(self) -> bool:
        return self._draining

    def set_draining(self) -> None:
        """From now on /readyz answers 503: the process is shutting down."""
        self._draining = True

    async def evaluate(self) -> ReadinessReport:
        """Run every check at once, each within its timeout."""
        if self._draining:
            return ReadinessReport("draining", ())
        results = await asyncio.gather(
            *(self._run(name, check, timeout) for name, (check, timeout) in self._checks.items())
        )
        status = "ok" if all(r.ok for r in results) else "unavailable"
        return ReadinessReport(status, tuple(results))

    async def _run(self, name: str, check: Check, allowed: float) -> CheckResult:
        started = time.monotonic()
        try:
            async with asyncio.timeout(allowed):
                outcome = await check()
        except TimeoutError:
            reason = f"no answer within {allowed:g}s"
        except Exception as exc:
            reason = self._reason(exc)
        else:
            detail = (
                self._redactor.redact(outcome)[:_MAX_REASON] if isinstance(outcome, str) else None
            )
            return CheckResult(name, True, None, time.monotonic() - started, detail)
        return CheckResult(name, False, reason, time.monotonic() - started)

    def _reason(self, exc: Exception) -> str:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else ""
        if not isinstance(exc, BotError):
            # A library's message: name its type, since the text alone is often cryptic.
            first = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        first = self._redactor.redact(first)
        return first if len(first) <= _MAX_REASON else first[: _MAX_REASON - 1] + "…"


def fresh_within(
    last_success: Callable[[], float | None],
    max_age: float,
    *,
    what: str,
    clock: Callable[[], float] = time.time,
) -> Check:
    """A check that passes while ``last_success()`` (Unix seconds) is at most ``max_age`` ago."""

    async def check() -> None:
        last = last_success()
        if last is None:
            raise CheckFailed(f"no successful {what} yet")
        age = clock() - last
        if age > max_age:
            raise CheckFailed(f"last successful {what} {age:.0f}s ago (allowed {max_age:.0f}s)")

    return check


def add_ops_routes(app: web.Application, *, metrics: Metrics, readiness: Readiness) -> None:
    """Add ``GET /healthz``, ``/readyz`` and ``/metrics`` to ``app``."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        report = await readiness.evaluate()
        return web.json_response(
            report.as_json(),
            status=200 if report.ready else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def metrics_handler(_request: web.Request) -> web.Response:
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
