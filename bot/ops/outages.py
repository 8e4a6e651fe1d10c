"""Outages said once: one WARNING line when a dependency stops answering, one when it answers
again, and the failed runs in between counted (in the closing line and in a metric), instead of a
traceback for every sweep or digest that failed meanwhile.

The scheduler's jobs tell it what they saw: :meth:`Outages.failed` with the error or reason, and
:meth:`Outages.answered` when a run got through. Times are the ``now`` the job ran at (the one
clock), written as UTC hours and minutes, which is what a person looking at a dashboard compares.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.errors import BotError, CloudError, StoreError
from bot.i18n.units import say_duration
from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

#: The most characters of the first failure's reason quoted in the opening line.
_MAX_REASON = 200


class Dependency(enum.Enum):
    """What the scheduled runs depend on, as its metric label."""

    DATABASE = "database"
    CLOUD = "cloud"


@dataclass(frozen=True, slots=True)
class _Words:
    down: str
    waiting: str
    back: str


_WORDS = {
    Dependency.DATABASE: _Words(
        down="the database is not answering",
        waiting="sweeps and digests wait",
        back="the database answers again",
    ),
    Dependency.CLOUD: _Words(
        down="the cloud cannot be read",
        waiting="sweeps see nothing and digests wait",
        back="the cloud can be read again",
    ),
}


def dependency_of(exc: BaseException) -> Dependency | None:
    """Which dependency an error of a scheduled run stands for; None for anything else (a bug,
    which deserves its traceback)."""
    if isinstance(exc, StoreError):
        return Dependency.DATABASE
    if isinstance(exc, CloudError):
        return Dependency.CLOUD
    return None


def describe(exc: BaseException) -> str:
    """An error in the words the opening line quotes: our errors' own message, or a library's
    type and first line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, BotError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class _Down:
    since: datetime
    failures: int


class Outages:
    """Each dependency's outage, said when it starts and when it ends."""

    def __init__(self, *, metrics: Metrics | None = None) -> None:
        self._metrics = metrics
        self._down: dict[Dependency, _Down] = {}

    def is_down(self, dependency: Dependency) -> bool:
        """Whether ``dependency`` failed last time a run told."""
        return dependency in self._down

    def failed(self, dependency: Dependency, reason: str, *, now: datetime) -> None:
        """A run failed on ``dependency``: said if it is the first failure, counted if not."""
        if self._metrics is not None:
            self._metrics.count_dependency_failure(dependency.value)
        down = self._down.get(dependency)
        if down is not None:
            down.failures += 1
            return
        self._down[dependency] = _Down(since=now, failures=1)
        if self._metrics is not None:
            self._metrics.set_dependency_down(dependency.value, down=True)
        words = _WORDS[dependency]
        short = reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 1] + "…"
        log.warning("%s since %s; %s (%s)", words.down, _clock_time(now), words.waiting, short)

    def answered(self, dependency: Dependency, *, now: datetime) -> None:
        """A run got through ``dependency``: the end of its outage, if there was one."""
        down = self._down.pop(dependency, None)
        if down is None:
            return
        if self._metrics is not None:
            self._metrics.set_dependency_down(dependency.value, down=False)
        lasted = say_duration(max(now - down.since, timedelta(0)))
        runs = "run" if down.failures == 1 else "runs"
        log.warning(
            "%s; it was away since %s (%s), %d failed %s meanwhile",
            _WORDS[dependency].back,
            _clock_time(down.since),
            lasted,
            down.failures,
            runs,
        )


def _clock_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M UTC")
