"""Limits on what one person or one channel can make the bot do. Pure: plain values and a ``now``.

Commands that reach the cloud take a token from the asker's bucket and from the channel's; an
empty bucket answers "slow down, try again in N s" instead of queueing the command (a queue
would only move the load later and make the answer arrive after the person gave up). A bucket
holds ``per_minute`` tokens and refills at ``per_minute`` a minute, so a burst of that many is
fine and a steady rate above it is not. Buckets that are full again are forgotten, so memory
follows the people active in the last minute, not everyone ever seen.

A backup of a cluster is started at most once per ``backup_every``, whoever asks:
:func:`recent_backup` finds the start that a new request would repeat.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Buckets kept before full ones are swept away.
_SWEEP_AT = 4096


@dataclass
class _Bucket:
    tokens: float
    at: datetime


class TokenBuckets:
    """One token bucket per key (a user id, a channel id)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, _Bucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def wait(self, key: str, now: datetime) -> float:
        """Seconds until ``key`` may go again (0.0: now), without taking a token."""
        if self.per_minute <= 0:
            return 0.0
        tokens = self._tokens(key, now)
        if tokens >= 1.0:
            return 0.0
        return (1.0 - tokens) * 60.0 / self.per_minute

    def take(self, key: str, now: datetime) -> None:
        """Take one token from ``key``'s bucket (call after :meth:`wait` said 0)."""
        if self.per_minute <= 0:
            return
        self._buckets[key] = _Bucket(self._tokens(key, now) - 1.0, now)
        if len(self._buckets) > _SWEEP_AT:
            self._forget_full(now)

    def _tokens(self, key: str, now: datetime) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(self.per_minute)
        elapsed = max(
            (now - bucket.at).total_seconds(), 0.0
        )  # a clock stepping back refills nothing
        return min(float(self.per_minute), bucket.tokens + elapsed * self.per_minute / 60.0)

    def _forget_full(self, now: datetime) -> None:
        full = [k for k in self._buckets if self._tokens(k, now) >= self.per_minute]
        for key in full:
            del self._buckets[key]


@dataclass(frozen=True)
class SlowDown:
    """A command refused for going too fast: who hit the limit, and when to try again."""

    scope: str  # "user" or "channel"
    limit: int  # per minute
    retry_after: int  # whole seconds, at least 1


class CommandLimiter:
    """Per-user and per-channel limits for commands that reach the cloud."""

    def __init__(self, *, user_per_minute: int, channel_per_minute: int) -> None:
        self.users = TokenBuckets(user_per_minute)
        self.channels = TokenBuckets(channel_per_minute)

    def admit(self, user: str, channel: str, now: datetime) -> SlowDown | None:
        """Count one command of ``user`` in ``channel`` at ``now``; a :class:`SlowDown` (and
        nothing counted) when either is over its limit."""
        user_wait = self.users.wait(user, now) if user else 0.0
        channel_wait = self.channels.wait(channel, now) if channel else 0.0
        if user_wait > 0 or channel_wait > 0:
            scope, limit, wait = (
                ("user", self.users.per_minute, user_wait)
                if user_wait >= channel_wait
                else ("channel", self.channels.per_minute, channel_wait)
            )
            return SlowDown(scope, limit, max(1, math.ceil(wait)))
        if user:
            self.users.take(user, now)
        if channel:
            self.channels.take(channel, now)
        return None


@dataclass(frozen=True)
class BackupStart:
    """A backup started on request: its operation, who asked, and when."""

    operation_id: str
    cluster_id: str
    requested_by: str
    requested_at: datetime


def recent_backup(
    starts: Iterable[BackupStart], cluster_id: str, *, now: datetime, every: timedelta
) -> BackupStart | None:
    """The newest start of a backup of ``cluster_id`` within ``every`` before ``now``, which a
    new request would repeat; None when a backup may start."""
    if every <= timedelta(0):
        return None
    # A start stamped after ``now`` (another replica's clock runs ahead) is recent too.
    recent = [s for s in starts if s.cluster_id == cluster_id and now - s.requested_at < every]
    return max(recent, key=lambda s: s.requested_at, default=None)
