"""Waiting in tests without betting on the machine's speed.

A test that waits for something to happen polls for it with a generous deadline (CI runs on two
loaded cores) and fails with what it waited for; it never counts loop turns, which stretch with
load.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import time
from collections.abc import Awaitable, Callable

#: The default deadline: far above what any wait takes on an idle machine.
PATIENCE = 15.0


async def wait_until(
    condition: Callable[[], object] | Callable[[], Awaitable[object]],
    *,
    timeout: float = PATIENCE,  # noqa: ASYNC109
    what: str,
    interval: float = 0.01,
) -> float:
    """Poll ``condition`` (a plain or an async callable) until it returns something true; how
    long that took. Fails the test with ``what`` after ``timeout`` seconds."""
    started = time.monotonic()
    while True:
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
