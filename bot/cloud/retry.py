"""When to retry a cloud request, and how long to wait first. Pure: no I/O, no clock reads."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

#: Statuses worth another try: throttling and the server's own transient failures.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


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
