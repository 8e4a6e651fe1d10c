"""The rate limits, pure: token buckets per user and per channel, and one backup per cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.commands.ratelimit import (
    BackupStart,
    CommandLimiter,
    SlowDown,
    TokenBuckets,
    recent_backup,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _burst(
    limiter: CommandLimiter, n: int, *, user: str = "U1", channel: str = "C1"
) -> list[SlowDown | None]:
    return [limiter.admit(user, channel, NOW) for _ in range(n)]


def test_a_person_gets_a_burst_of_the_limit_then_is_told_when_to_come_back() -> None:
    limiter = CommandLimiter(user_per_minute=30, channel_per_minute=0)
    verdicts = _burst(limiter, 31)
    assert verdicts[:30] == [None] * 30
    assert verdicts[30] == SlowDown("user", 30, 2)  # one token refills in 60/30 s


def test_the_bucket_refills_at_the_limit_per_minute() -> None:
    limiter = CommandLimiter(user_per_minute=30, channel_per_minute=0)
    _burst(limiter, 30)
    assert limiter.admit("U1", "C1", NOW + timedelta(seconds=1)) == SlowDown("user", 30, 1)
    assert limiter.admit("U1", "C1", NOW + timedelta(seconds=2)) is None
    assert limiter.admit("U1", "C1", NOW + timedelta(seconds=2)) is not None
    # A quiet minute fills the bucket again, and not beyond the limit.
    later = NOW + timedelta(minutes=10)
    assert [limiter.admit("U1", "C1", later) for _ in range(31)].count(None) == 30


def test_a_refused_command_counts_for_nothing() -> None:
    limiter = CommandLimiter(user_per_minute=2, channel_per_minute=0)
    _burst(limiter, 2)
    for _ in range(100):  # hammering while refused does not push the retry further away
        assert limiter.admit("U1", "C1", NOW) == SlowDown("user", 2, 30)
    assert limiter.admit("U1", "C1", NOW + timedelta(seconds=30)) is None


def test_people_have_buckets_of_their_own_and_a_channel_one_for_all() -> None:
    limiter = CommandLimiter(user_per_minute=5, channel_per_minute=8)
    assert _burst(limiter, 5, user="U1") == [None] * 5
    assert _burst(limiter, 3, user="U2") == [None] * 3
    # The channel has had its 8: a third person in it waits; in another channel they do not.
    assert limiter.admit("U3", "C1", NOW) == SlowDown("channel", 8, 8)
    assert limiter.admit("U3", "C2", NOW) is None
    # U1 is over both; the longer wait is the one said.
    assert limiter.admit("U1", "C1", NOW) == SlowDown("user", 5, 12)


def test_a_limit_of_zero_means_no_limit() -> None:
    limiter = CommandLimiter(user_per_minute=0, channel_per_minute=0)
    assert _burst(limiter, 1000) == [None] * 1000
    assert len(limiter.users) == 0


def test_a_clock_stepping_back_refills_nothing() -> None:
    limiter = CommandLimiter(user_per_minute=1, channel_per_minute=0)
    assert limiter.admit("U1", "C1", NOW) is None
    assert limiter.admit("U1", "C1", NOW - timedelta(hours=1)) is not None


def test_buckets_that_are_full_again_are_forgotten() -> None:
    buckets = TokenBuckets(per_minute=10)
    for i in range(5000):
        buckets.take(f"U{i}", NOW)
    assert len(buckets) > 4096
    buckets.take("late", NOW + timedelta(minutes=5))  # everyone else has refilled by now
    assert len(buckets) == 1
    assert buckets.wait("U1", NOW + timedelta(minutes=5)) == 0.0


def _start(cluster: str, minutes_ago: float, op: str = "op1") -> BackupStart:
    return BackupStart(op, cluster, "U1", NOW - timedelta(minutes=minutes_ago))


def test_a_backup_started_within_the_interval_is_the_one_a_new_request_repeats() -> None:
    every = timedelta(minutes=10)
    starts = [_start("c1", 9, "old"), _start("c1", 3, "new"), _start("c2", 1, "other")]
    found = recent_backup(starts, "c1", now=NOW, every=every)
    assert found is not None
    assert found.operation_id == "new"
    assert recent_backup([_start("c1", 10)], "c1", now=NOW, every=every) is None
    assert recent_backup(starts, "c3", now=NOW, every=every) is None
    assert recent_backup(starts, "c1", now=NOW, every=timedelta(0)) is None


def test_a_start_stamped_ahead_of_now_still_counts() -> None:
    ahead = BackupStart("op", "c1", "U1", NOW + timedelta(seconds=30))
    assert recent_backup([ahead], "c1", now=NOW, every=timedelta(minutes=10)) == ahead


def test_a_bucket_with_a_token_left_says_no_wait() -> None:
    buckets = TokenBuckets(per_minute=2)
    buckets.take("U1", NOW)
    buckets.take("U1", NOW)
    assert buckets.wait("U1", NOW) == 30.0
    assert buckets.wait("U1", NOW + timedelta(seconds=15)) == 15.0  # half a token
    assert buckets.wait("U1", NOW + timedelta(seconds=30)) == 0.0  # one token
    assert buckets.wait("U1", NOW + timedelta(seconds=45)) == 0.0  # one and a half


def test_buckets_are_swept_only_once_there_are_more_than_4096() -> None:
    buckets = TokenBuckets(per_minute=10)
    for i in range(4095):
        buckets.take(f"U{i}", NOW)
    later = NOW + timedelta(minutes=5)  # everyone has refilled by now
    buckets.take("late", later)
    assert len(buckets) == 4096  # full, but not yet too many
    buckets.take("later", later)
    assert len(buckets) == 2  # the 4097th swept the full ones away
    assert buckets.wait("late", later) == 0.0


def test_a_command_without_a_user_or_a_channel_is_limited_by_the_other_only() -> None:
    limiter = CommandLimiter(user_per_minute=1, channel_per_minute=1)
    # Even a bucket under the empty key, taken directly, is nobody's.
    limiter.users.take("", NOW)
    limiter.channels.take("", NOW)
    assert limiter.admit("", "C1", NOW) is None
    assert limiter.admit("", "C1", NOW) == SlowDown("channel", 1, 60)
    assert limiter.admit("U1", "", NOW) is None
    assert limiter.admit("U1", "", NOW) == SlowDown("user", 1, 60)
    assert limiter.admit("", "", NOW) is None


def test_a_wait_under_a_second_is_told_as_one_second() -> None:
    limiter = CommandLimiter(user_per_minute=0, channel_per_minute=60)
    assert _burst(limiter, 60) == [None] * 60
    half_a_second = NOW + timedelta(milliseconds=500)
    assert limiter.admit("U1", "C1", half_a_second) == SlowDown("channel", 60, 1)
    limiter = CommandLimiter(user_per_minute=60, channel_per_minute=0)
    assert _burst(limiter, 60) == [None] * 60
    assert limiter.admit("U1", "C1", half_a_second) == SlowDown("user", 60, 1)


def test_when_the_user_and_the_channel_wait_as_long_the_user_is_told() -> None:
    limiter = CommandLimiter(user_per_minute=5, channel_per_minute=5)
    assert _burst(limiter, 5) == [None] * 5
    assert limiter.admit("U1", "C1", NOW) == SlowDown("user", 5, 12)


def test_no_interval_means_every_backup_request_starts_one() -> None:
    ahead = BackupStart("op", "c1", "U1", NOW + timedelta(seconds=30))
    now = BackupStart("op", "c1", "U1", NOW)
    assert recent_backup([ahead, now], "c1", now=NOW, every=timedelta(0)) is None
    assert recent_backup([ahead, now], "c1", now=NOW, every=timedelta(seconds=-1)) is None
