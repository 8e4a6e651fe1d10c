"""What ``serve`` waits for at start, and how: the database and Slack tried again with backoff
until they answer, said at the first failure and then once a minute. ``check`` reads the same
line between "does not answer" (:class:`NotYet`) and "refused" (a ConfigError), so the two tell
an operator the same thing.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import text

from bot.errors import ConfigError
from bot.store.db import (
    POSTGRES_CONNECT_TIMEOUT,
    check_database_url,
    create_engine,
    describe_connect_failure,
)

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Slack's answers to auth.test that mean the bot token itself is wrong.
BAD_TOKEN_CODES = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
#: Waiting for the world at start: the first retry after this many seconds, doubling up to the
#: cap; a line is logged at the first failure and then at most once per SAY_EVERY.
WAIT_FIRST = 1.0
WAIT_CAP = 30.0
SAY_EVERY = 60.0


class NotYet(Exception):
    """What serve waits for did not answer (yet); the message says why, in words safe to log."""


@dataclass
class Waiting:
    """What serve waits for, and when it last said so: the pure half of the waiting loop (plain
    values and a ``now`` in monotonic seconds; no I/O)."""

    what: str = ""
    reason: str = ""
    since: float = 0.0
    said_at: float | None = None

    def failed(self, what: str, reason: str, now: float) -> str | None:
        """Record a failed try; the line to log, or None when one was logged within the last
        SAY_EVERY seconds for the same thing."""
        if what != self.what:
            self.what, self.since, self.said_at = what, now, None
        self.reason = reason
        if self.said_at is not None and now - self.said_at < SAY_EVERY:
            return None
        first = self.said_at is None
        self.said_at = now
        if first:
            return f"waiting for {what}: {reason}; trying again"
        return f"still waiting for {what} after {_took(now - self.since)}: {reason}"

    def reached(self, what: str, now: float) -> str | None:
        """Record success; the line to log when it came after a wait, else None."""
        if self.what != what:
            return None
        waited = now - self.since
        self.what, self.reason, self.said_at = "", "", None
        return f"reached {what} after {_took(waited)}"

    @staticmethod
    def delay(tries: int) -> float:
        """Seconds before the next try, after ``tries`` failed ones (1, 2, 4 ... 30)."""
        return min(WAIT_CAP, WAIT_FIRST * (1 << min(tries, 16)))

    def describe(self) -> str | None:
        """What /readyz says while waiting."""
        return f"waiting for {self.what}: {self.reason}" if self.what else None


def _took(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


async def wait_for(what: str, attempt: Callable[[], Awaitable[_T]], waiting: Waiting) -> _T:
    """Await ``attempt()`` until it does not raise NotYet, with backoff, saying so (at the first
    failure and once a minute). Any other error passes through; so does cancellation."""
    tries = 0
    while True:
        try:
            result = await attempt()
        except NotYet as exc:
            line = waiting.failed(what, str(exc), time.monotonic())
            if line is not None:
                log.warning(line)
            await asyncio.sleep(waiting.delay(tries))
            tries += 1
            continue
        line = waiting.reached(what, time.monotonic())
        if line is not None:
            log.info(line)
        return result


async def reach_database(url: str) -> None:
    """Connect once and ask ``SELECT 1``. NotYet when the database does not answer (yet); a
    ConfigError, said in the same words as ``check``, when the URL is wrong or the database
    refuses the bot (its password, a missing database, a file that is not one)."""
    parsed = check_database_url(url)
    engine = create_engine(parsed)
    try:
        async with asyncio.timeout(POSTGRES_CONNECT_TIMEOUT):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:
        reason = describe_connect_failure(parsed, exc, timeout=POSTGRES_CONNECT_TIMEOUT)
        if _database_refused(exc):
            raise ConfigError(reason) from None
        raise NotYet(reason) from None
    finally:
        await engine.dispose()


#: Driver errors that are the database's answer, not its absence: waiting would not help.
_REFUSALS = frozenset(
    {"InvalidPasswordError", "InvalidAuthorizationSpecificationError", "InvalidCatalogNameError"}
)


def _database_refused(exc: BaseException) -> bool:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 8 and current not in seen:
        seen.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    for cause in seen:
        if {cls.__name__ for cls in type(cause).__mro__} & _REFUSALS:
            return True
        # An SQLite file that cannot be opened or is not a database: no server to wait for.
        if isinstance(cause, sqlite3.Error):
            return True
    return False
