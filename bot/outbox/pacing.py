"""Keeping to Slack's pace: about one post a second per channel, updates within their tier.

Slack lets an app post about one message per second per channel, with short bursts; more draws
429s with ``Retry-After``. ``chat.update`` is a Tier 3 method (50+ calls a minute per workspace).
The executor asks a :class:`Pacer` before every call and tells it about every 429, so a storm or
a long digest goes out at the pace Slack takes instead of being refused half-way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast the executor sends. The defaults keep under Slack's published limits."""

    #: Posts per second per channel, and how many may go at once after a quiet spell.
    posts_per_second: float = 1.0
    post_burst: int = 1
    #: Updates per second in all (Tier 3: 50 a minute), and their burst.
    updates_per_second: float = 0.8
    update_burst: int = 5

    def __post_init__(self) -> None:
        if self.posts_per_second <= 0 or self.updates_per_second <= 0:
            raise ValueError("a pace must be positive")
        if self.post_burst < 1 or self.update_burst < 1:
            raise ValueError("a burst must be at least 1")


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; and a pause Slack asked for."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)
    _paused_until: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._stamp = self.clock()

    def wait_time(self) -> float:
        """Seconds until a token is free (0: now)."""
        now = self.clock()
        self._refill(now)
        pause = max(self._paused_until - now, 0.0)
        lack = max(1.0 - self._tokens, 0.0) / self.rate
        return max(pause, lack)

    def take(self) -> None:
        """Spend a token (call after :meth:`wait_time` says 0)."""
        self._refill(self.clock())
        self._tokens -= 1.0

    def pause(self, seconds: float) -> None:
        """Slack said to wait ``seconds`` (429): nothing goes before then, and no burst after."""
        now = self.clock()
        self._paused_until = max(self._paused_until, now + seconds)
        self._tokens = min(self._tokens, 0.0)

    def _refill(self, now: float) -> None:
        elapsed = max(now - self._stamp, 0.0)
        self._stamp = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)


class Pacer:
    """One bucket per channel for posts, one for all updates."""

    def __init__(self, pace: Pace, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.pace = pace
        self._clock = clock
        self._posts: dict[str, TokenBucket] = {}
        self._updates = TokenBucket(pace.updates_per_second, pace.update_burst, clock)

    def _bucket(self, channel: str, update: bool) -> TokenBucket:
        if update:
            return self._updates
        bucket = self._posts.get(channel)
        if bucket is None:
            bucket = TokenBucket(self.pace.posts_per_second, self.pace.post_burst, self._clock)
            self._posts[channel] = bucket
        return bucket

    async def wait(self, channel: str, *, update: bool = False) -> None:
        """Wait for a turn to post to ``channel`` (or to update any message), and take it."""
        bucket = self._bucket(channel, update)
        delay = bucket.wait_time()
        while delay > 0:
            # A sleep of exactly the time a token takes to come back (a pause may grow meanwhile).
            await asyncio.sleep(delay)
            delay = bucket.wait_time()
        bucket.take()

    def throttled(self, channel: str, seconds: float, *, update: bool = False) -> None:
        """Slack answered 429 with ``Retry-After: seconds``."""
        self._bucket(channel, update).pause(seconds)
