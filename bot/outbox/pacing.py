"""Keeping to the chat's pace: about one post a second per channel, updates within their tier.

Slack lets an app post about one message per second per channel, with short bursts; more draws
429s with ``Retry-After``. ``chat.update`` is a Tier 3 method (50+ calls a minute per workspace).
The executor asks a :class:`Pacer` before every call, tells it when the answer came, and tells it
about every 429, so a storm or a long digest goes out at the pace Slack takes instead of being
refused half-way.

The pace learns: Slack counts bursts more strictly than a token bucket does (three posts in any
three seconds, say), and a 429 says so. After one, the channel is *careful* for a while
(:data:`CAREFUL_SPELL` after the pause Slack asked for): no bursts, one call at a time, each
:attr:`TokenBucket.spacing` after Slack's answer to the one before (``Retry-After`` or a second,
whichever is longer, at most :data:`CAREFUL_SPACING_MAX`). Spacing from the answer,
not from the request, keeps calls that far apart as Slack receives them, whatever the network's
jitter. Then it bursts again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: How long a channel stays careful after the pause of its last 429 has ended.
CAREFUL_SPELL = 60.0
#: The shortest spacing of careful calls: Slack's one post a second per channel.
CAREFUL_SPACING_MIN = 1.0
#: The longest spacing of careful calls: a longer ``Retry-After`` is honoured in full as the
#: pause, but does not make every call of the next minute wait that long.
CAREFUL_SPACING_MAX = 3.0


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
    """``rate`` tokens a second, at most ``burst`` saved up; a pause Slack asked for, and the
    careful spell that follows it."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)
    _paused_until: float = field(init=False, default=0.0)
    _careful_until: float = field(init=False, default=0.0)
    #: Seconds between careful calls, from the answer to one to the next.
    spacing: float = field(init=False, default=0.0)
    _next: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._stamp = self.clock()

    def careful(self) -> bool:
        """Whether calls go one at a time, spaced, after a 429."""
        return self.clock() < self._careful_until

    def wait_time(self) -> float:
        """Seconds until a token is free (0: now)."""
        now = self.clock()
        self._refill(now)
        pause = max(self._paused_until - now, 0.0)
        lack = max(1.0 - self._tokens, 0.0) / self.rate
        wait = max(pause, lack)
        if now < self._careful_until:
            wait = max(wait, self._next - now)
        return wait

    def take(self) -> None:
        """Spend a token (call after :meth:`wait_time` says 0)."""
        now = self.clock()
        self._refill(now)
        self._tokens -= 1.0
        if now < self._careful_until:
            # No second call until this one is answered and a spacing has passed (see answered).
            self._next = max(self._next, now + self.spacing)

    def answered(self) -> None:
        """The chat answered the call that took the last token: while careful, the next call
        waits a full spacing from now."""
        now = self.clock()
        if now < self._careful_until:
            self._next = max(self._next, now + self.spacing)

    def pause(self, seconds: float, retry_after: float | None = None) -> None:
        """Slack refused a call for its pace (429, ``Retry-After: retry_after``) and the caller
        waits ``seconds``: nothing goes before then, no burst after, and the bucket is careful
        for :data:`CAREFUL_SPELL` from then on, its calls spaced by ``retry_after`` (``seconds``
        if not given) or a second (the pace's interval if longer), whichever is longer."""
        now = self.clock()
        was_careful = now < self._careful_until
        self._paused_until = max(self._paused_until, now + seconds)
        self._tokens = min(self._tokens, 0.0)
        self._careful_until = max(self._careful_until, self._paused_until + CAREFUL_SPELL)
        asked = seconds if retry_after is None else retry_after
        learned = min(max(asked, CAREFUL_SPACING_MIN, 1.0 / self.rate), CAREFUL_SPACING_MAX)
        # Within a spell the spacing only grows; a new spell learns afresh.
        self.spacing = max(self.spacing, learned) if was_careful else learned

    def _refill(self, now: float) -> None:
        elapsed = max(now - self._stamp, 0.0)
        self._stamp = now
        # While careful, nothing is saved up for a burst: the spell ends with at most one token.
        cap = 1.0 if now < self._careful_until else float(self.burst)
        self._tokens = min(cap, self._tokens + elapsed * self.rate)


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

    def answered(self, channel: str, *, update: bool = False) -> None:
        """The chat answered the call just made to ``channel`` (or the update), however."""
        self._bucket(channel, update).answered()

    def throttled(
        self,
        channel: str,
        seconds: float,
        *,
        retry_after: float | None = None,
        update: bool = False,
    ) -> None:
        """Slack answered 429 (with ``Retry-After: retry_after``, if it said) and ``channel``
        (or updates) waits ``seconds``; see :meth:`TokenBucket.pause`."""
        self._bucket(channel, update).pause(seconds, retry_after)

    def careful(self, channel: str, *, update: bool = False) -> bool:
        """Whether ``channel`` (or updates) goes one call at a time after a 429."""
        return self._bucket(channel, update).careful()
