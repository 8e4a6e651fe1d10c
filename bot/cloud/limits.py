"""Process-wide limits on cloud requests: how many in flight, and optionally how many per second.

:class:`TokenBucket` is pure (it is handed the monotonic time); :class:`RequestLimiter` is the
small async wrapper that sleeps and hands out slots.

Requests wait for a slot in one of two lanes (:class:`Lane`). A freed slot goes to the oldest
waiter of the interactive lane, and to the background lane only when no interactive request
waits, so a person's ``/backups list`` does not queue behind the thousand reads of a scheduled
sweep. The lane is carried in a context variable: code that starts background work enters
:func:`background_lane` once, and every request made under it (in tasks created there too, as
tasks copy the context) waits in that lane. Everything else is interactive by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar


class Lane(enum.StrEnum):
    """Where a request waits for a slot; lanes are served in the order they are declared."""

    #: A person waits for the answer: slash commands, buttons, ``exec``, ``check``.
    INTERACTIVE = "interactive"
    #: Nobody watches it happen: the fleet reads of the sweep and the digests (``Sweeper.run``
    #: and ``DigestRunner`` enter it), whether the scheduler or a verb runs them.
    BACKGROUND = "background"


_lane: ContextVar[Lane] = ContextVar("cloud_request_lane", default=Lane.INTERACTIVE)


def current_lane() -> Lane:
    """The lane requests made here wait in."""
    return _lane.get()


@contextmanager
def request_lane(lane: Lane) -> Iterator[Lane]:
    """Make requests in ``lane`` for the duration of the block (and in tasks created in it)."""
    token = _lane.set(lane)
    try:
        yield lane
    finally:
        _lane.reset(token)


def background_lane() -> contextlib.AbstractContextManager[Lane]:
    """Make requests in the background lane for the duration of the block."""
    return request_lane(Lane.BACKGROUND)


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
    """Bounds requests in flight and, when ``requests_per_second`` > 0, their rate.

    One per process: the client owns one and every request passes through :meth:`slot`. At most
    ``max_in_flight`` requests hold a slot, whatever their lanes, and of them at most
    ``background_in_flight`` in the background lane: a sweep stays as gentle with the cloud as
    that share says, and the rest of the slots are always there for people. Waiters are served
    by lane (see :class:`Lane`), and first come, first served within a lane.
    """

    def __init__(
        self,
        max_in_flight: int = 16,
        requests_per_second: float = 0.0,
        *,
        background_in_flight: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if background_in_flight is not None and background_in_flight < 1:
            raise ValueError("background_in_flight must be at least 1")
        if requests_per_second < 0:
            raise ValueError("requests_per_second must not be negative")
        self.max_in_flight = max_in_flight
        #: The background lane's share; never more than the whole.
        self.background_in_flight = min(background_in_flight or max_in_flight, max_in_flight)
        self.requests_per_second = requests_per_second
        self._monotonic = monotonic
        # Slots nobody holds or has been handed, and how many of the held ones are background.
        self._free = max_in_flight
        self._background_held = 0
        self._waiters: dict[Lane, deque[asyncio.Future[None]]] = {lane: deque() for lane in Lane}
        self._bucket = (
            TokenBucket(requests_per_second, now=monotonic()) if requests_per_second > 0 else None
        )
        self.in_flight = 0
        #: The most requests ever in flight at once; the benchmark and tests read it.
        self.peak_in_flight = 0

    def waiting(self, lane: Lane | None = None) -> int:
        """How many requests wait for a slot, in ``lane`` or in all lanes."""
        lanes = [lane] if lane is not None else list(Lane)
        return sum(not w.done() for name in lanes for w in self._waiters[name])

    @asynccontextmanager
    async def slot(self, lane: Lane | None = None) -> AsyncIterator[None]:
        """Wait for a free slot in ``lane`` (by default the current one, see
        :func:`current_lane`), then for the rate limit; hold the slot for the block."""
        lane = lane if lane is not None else current_lane()
        await self._acquire(lane)
        try:
            # The rate is waited for while holding the slot, so that only slot holders queue in
            # the bucket: a person waits for at most ``max_in_flight`` tokens, never behind the
            # tokens of a whole sweep (the bucket itself knows nothing of lanes).
            if self._bucket is not None:
                wait = self._bucket.reserve(self._monotonic())
                if wait > 0:
                    await asyncio.sleep(wait)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1
        finally:
            self._release(lane)

    def _may_take(self, lane: Lane) -> bool:
        """Whether a slot may go to ``lane`` now, the waiters queued before it aside."""
        if self._free == 0:
            return False
        return lane is not Lane.BACKGROUND or self._background_held < self.background_in_flight

    def _take(self, lane: Lane) -> None:
        self._free -= 1
        if lane is Lane.BACKGROUND:
            self._background_held += 1

    async def _acquire(self, lane: Lane) -> None:
        queue = self._waiters[lane]
        if not queue and self._may_take(lane):
            self._take(lane)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await waiter  # the slot is taken for us (see _hand_out) before this returns
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # The slot was handed over, but the task was cancelled before it could run:
                # pass the slot on, or it is lost for good.
                self._release(lane)
            else:
                # Still queued (a releaser may have skipped it already, being cancelled).
                with contextlib.suppress(ValueError):
                    queue.remove(waiter)
            raise

    def _release(self, lane: Lane) -> None:
        self._free += 1
        if lane is Lane.BACKGROUND:
            self._background_held -= 1
        self._hand_out()

    def _hand_out(self) -> None:
        """Give free slots to the first live waiters, lane by lane, as far as the background
        share allows."""
        for lane, queue in self._waiters.items():
            while queue and self._may_take(lane):
                waiter = queue.popleft()
                # A cancelled waiter stays queued until its task runs again: skip it.
                if not waiter.done():
                    self._take(lane)
                    waiter.set_result(None)
