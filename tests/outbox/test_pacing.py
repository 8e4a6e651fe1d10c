"""The pace that learns: a token bucket that bursts until Slack answers 429, then goes one call at
a time, spaced from Slack's answers, for a while, and then bursts again.

The buckets are pure (a clock a test moves by hand); no sleeping.
"""

from __future__ import annotations

import pytest

from bot.outbox.pacing import (
    CAREFUL_SPACING_MAX,
    CAREFUL_SPACING_MIN,
    CAREFUL_SPELL,
    Pace,
    Pacer,
    TokenBucket,
)


class Clock:
    """Monotonic seconds a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def burst(bucket: TokenBucket) -> int:
    """How many calls go at once, now."""
    taken = 0
    while bucket.wait_time() == 0 and taken < 100:
        bucket.take()
        taken += 1
    return taken


def test_a_bucket_bursts_its_size_then_gives_one_token_per_interval() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=3, clock=clock)
    assert burst(bucket) == 3
    assert bucket.wait_time() == pytest.approx(1.0)
    clock.now += 1.0
    assert burst(bucket) == 1
    assert not bucket.careful()


def test_a_429_pauses_for_as_long_as_asked_and_then_spaces_calls_from_each_answer() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=3, clock=clock)
    burst(bucket)
    bucket.pause(2.0, retry_after=2.0)

    assert bucket.careful()
    assert bucket.wait_time() == pytest.approx(2.0)
    clock.now += 2.0
    assert burst(bucket) == 1  # no burst after a refusal, however many tokens came back
    clock.now += 0.4  # Slack takes 0.4 s to answer
    bucket.answered()
    # The next call waits a full Retry-After from the answer, not from the request.
    assert bucket.wait_time() == pytest.approx(2.0)
    clock.now += 2.0
    assert burst(bucket) == 1


def test_a_long_quiet_spell_within_the_careful_while_saves_up_no_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=3, clock=clock)
    bucket.pause(1.0)
    clock.now += CAREFUL_SPELL / 2
    assert bucket.careful()
    assert burst(bucket) == 1


def test_the_careful_while_ends_and_the_bucket_bursts_again() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=3, clock=clock)
    bucket.pause(2.0, retry_after=2.0)
    clock.now += 2.0 + CAREFUL_SPELL - 0.01
    assert bucket.careful()
    clock.now += 0.02
    assert not bucket.careful()
    clock.now += 3.0  # tokens come back at the pace's rate, up to the burst
    assert burst(bucket) == 3


def test_another_429_while_careful_makes_the_while_longer_and_the_spacing_no_shorter() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=3, clock=clock)
    bucket.pause(2.0, retry_after=2.0)
    clock.now += 30.0
    bucket.pause(1.0, retry_after=1.0)
    assert bucket.spacing == 2.0
    clock.now += 1.0 + CAREFUL_SPELL - 0.01
    assert bucket.careful()  # counted from the end of the last pause


@pytest.mark.parametrize(
    ("retry_after", "spacing"),
    [
        (0.0, CAREFUL_SPACING_MIN),  # a second at least: Slack's pace per channel
        (1.0, 1.0),
        (2.0, 2.0),  # Retry-After when it is longer
        (30.0, CAREFUL_SPACING_MAX),  # a long Retry-After is the pause, not the spacing
    ],
)
def test_careful_calls_are_spaced_by_retry_after_or_a_second_whichever_is_longer(
    retry_after: float, spacing: float
) -> None:
    clock = Clock()
    bucket = TokenBucket(rate=200.0, burst=50, clock=clock)
    bucket.pause(retry_after, retry_after=retry_after)
    assert bucket.spacing == spacing
    # The pause itself, in full (and a token, which a 429 takes away, comes back first).
    assert bucket.wait_time() == pytest.approx(max(retry_after, 1 / 200))


def test_without_a_retry_after_the_pause_is_the_spacing_learned() -> None:
    bucket = TokenBucket(rate=1.0, burst=3, clock=Clock())
    bucket.pause(2.5)
    assert bucket.spacing == 2.5


def test_the_figures_of_the_careful_while_are_the_documented_ones() -> None:
    assert CAREFUL_SPELL == 60.0
    assert CAREFUL_SPACING_MIN == 1.0
    assert CAREFUL_SPACING_MAX == 3.0


def test_the_pacer_learns_per_channel_and_for_updates_apart() -> None:
    clock = Clock()
    pacer = Pacer(Pace(posts_per_second=1.0, post_burst=3), clock=clock)
    pacer.throttled("C1", 1.0, retry_after=1.0)
    assert pacer.careful("C1")
    assert not pacer.careful("C2")
    assert not pacer.careful("C1", update=True)
    pacer.throttled("C1", 1.0, retry_after=1.0, update=True)
    assert pacer.careful("C3", update=True)  # one bucket for every update
