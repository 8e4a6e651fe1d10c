"""Waiting in tests without betting on the machine's speed.

A test that waits for something to happen polls for it with a generous deadline (CI runs on two
loaded cores) and fails with what it waited for; it never counts loop turns, which stretch with
load.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import random
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


#: Ports handed out by :func:`free_port`: below the kernel's ephemeral range (32768 and up on
#: Linux), so no connection's own port takes one between the test's check and the server's bind,
#: and a range of its own for each pytest-xdist worker, so that two workers never pick the same.
_PORTS_FROM = 20000
_PORTS_PER_WORKER = 1000
_WORKER_RANGES = (32768 - _PORTS_FROM) // _PORTS_PER_WORKER  # 12; more workers share them
#: Where in its range this process starts: another process of the same worker number (a second
#: pytest run beside this one) starts elsewhere.
_next_port = itertools.count(random.randrange(_PORTS_PER_WORKER))


def free_port() -> int:
    """A loopback TCP port nobody listens on right now, for a server a test starts later."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) % _WORKER_RANGES if worker.isdigit() else 0
    base = _PORTS_FROM + _PORTS_PER_WORKER * index
    for _ in range(_PORTS_PER_WORKER):
        port = base + next(_next_port) % _PORTS_PER_WORKER
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (by another program, or a server still running)
        return port
    raise AssertionError(f"no free loopback port in {base}..{base + _PORTS_PER_WORKER - 1}")
