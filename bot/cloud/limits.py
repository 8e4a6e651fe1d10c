"""Process-wide limits on cloud requests: how many in flight, and optionally how many per second.

:class:`TokenBucket` is pure (it is handed the monotonic time); :class:`RequestLimiter` is the
small async wrapper that sleeps and holds a semaphore.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class TokenBucket:
    """A token bucket of ``rate`` tokens per second holding at most ``burst`` tokens.

    :meth:`reserve` always succeeds and tells how long the caller must wait before using its
    token. Reservations may drive the level below zero, which queues callers fairly in arrival
    order without a timer per caller.
    """

    def __init__(self, rate: float, *, burst: float | None = None, now: float) -> None:
        if rate <= 0:
            raise ValueError("a token bucket needs a positive rate")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._level = self.burst
        self._updated = now

    def reserve(self, now: float) -> float:
        """Take one token; return the seconds to wait before it may be used (0 if at once)."""
        elapsed = max(0.0, now - self._updated)
        self._level = min(self.burst, self._level + elapsed * self.rate)
        self._updated = max(now, self._updated)
        self._level -= 1.0
        if self._level >= 0:
            return 0.0
        return -self._level / self.rate


class RequestLimiter:
    """Bounds requests in flight (a semaphore) and, when ``requests_per_second`` > 0, their rate.

    One per process: the client owns one and every request passes through :meth:`slot`.
    """

    def __init__(
        self,
        max_in_flight: int = 16,
        requests_per_second: float = 0.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if requests_per_second < 0:
            raise ValueError("requests_per_second must not be negative")
        self.max_in_flight = max_in_flight
        self.requests_per_second = requests_per_second
        self._monotonic = monotonic
        self._semaphore = asyncio.Semaphore(max_in_flight)
        self._bucket = (
            TokenBucket(requests_per_second, now=monotonic()) if requests_per_second > 0 else None
        )
        self.in_flight = 0
        #: The most requests ever in flight at once; the benchmark and tests read it.
        self.peak_in_flight = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for the rate limit, then for a free slot; hold the slot for the block."""
        if self._bucket is not None:
            wait = self._bucket.reserve(self._monotonic())
            if wait > 0:
                await asyncio.sleep(wait)
        async with self._semaphore:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1
