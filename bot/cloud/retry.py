"""When to retry a cloud request, how long to wait first, and the one loop that does it.

The decisions (:class:`RetryPolicy`, :func:`parse_retry_after`, :func:`may_retry`) are pure.
:meth:`RetryPolicy.run` is the cloud adapter's only retry loop: the API client and the IAM token
providers both send through it. It waits through an injected ``sleep`` and reads the time through
an injected ``now``, so its tests neither wait nor need a server.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from bot import clock
from bot.cloud.session import TRANSIENT_ERRORS, HttpReply, failure_reason

logger = logging.getLogger(__name__)

#: Statuses worth another try: throttling and the server's own transient failures.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Methods that change nothing, so a lost answer may be asked again.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring Retry-After up to a cap.

    ``attempts`` counts every try, the first included. Delays are in seconds; tests pass tiny
    ones so that a retry costs milliseconds.
    """

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    #: The longest Retry-After the client will sleep; a server asking for more gets this much.
    retry_after_cap: float = 30.0
    retry_statuses: frozenset[int] = field(default=RETRYABLE_STATUSES)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")

    def should_retry_status(self, status: int, attempt: int) -> bool:
        """Whether an answer with ``status`` to try number ``attempt`` (0-based) is retried."""
        return status in self.retry_statuses and self.has_attempts_left(attempt)

    def has_attempts_left(self, attempt: int) -> bool:
        """Whether another try may follow try number ``attempt`` (0-based)."""
        return attempt + 1 < self.attempts

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**attempt)]."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return rng.uniform(0.0, ceiling)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before the try after ``attempt``: the server's wish, else backoff."""
        if retry_after is not None:
            return min(max(0.0, retry_after), self.retry_after_cap)
        return self.backoff(attempt, rng)

    def once(self) -> RetryPolicy:
        """This policy with a single try: for a call that must not be repeated."""
        return replace(self, attempts=1)

    async def run(
        self,
        send: Callable[[], Awaitable[HttpReply]],
        *,
        what: str,
        rng: random.Random,
        now: Callable[[], datetime] = clock.now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> HttpReply:
        """Try ``send`` until its answer is final or the tries run out; return the last answer.

        An answer whose status is in ``retry_statuses`` is tried again after its Retry-After
        (capped) or else the backoff; a try that got no answer (a timeout, a network error) after
        the backoff, and when it was the last try its error is raised as it came. Any other error
        is raised at once. Each retry is logged once, naming ``what``.
        """
        attempt = 0
        while True:
            try:
                reply = await send()
            except TRANSIENT_ERRORS as exc:
                if not self.has_attempts_left(attempt):
                    raise
                wait, reason = None, failure_reason(exc)
            else:
                if not self.should_retry_status(reply.status, attempt):
                    return reply
                wait, reason = parse_retry_after(reply.retry_after, now()), f"HTTP {reply.status}"
            delay = self.delay(attempt, wait, rng)
            logger.info(
                "%s failed (%s); retrying in %.2f s (attempt %d of %d)",
                what,
                reason,
                delay,
                attempt + 2,
                self.attempts,
            )
            await sleep(delay)
            attempt += 1


def may_retry(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a request may be sent again when its answer is lost.

    A call that changes nothing may; one that creates or changes something (``:backup``, a
    restore, a delete) only with an ``Idempotency-Key``, or a lost answer and a retry make two.
    """
    if method.upper() in SAFE_METHODS:
        return True
    return any(name.lower() == "idempotency-key" and value for name, value in headers.items())


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), else None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # NaN and infinities are not delta-seconds; a negative value means "now".
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
