"""The token bucket (pure) and the limiter that bounds requests in flight."""

from __future__ import annotations

import asyncio

import pytest

from bot.cloud import RequestLimiter, TokenBucket


def test_a_bucket_lets_a_burst_through_then_spaces_requests() -> None:
    bucket = TokenBucket(2.0, burst=2.0, now=100.0)
    assert bucket.reserve(100.0) == 0.0
    assert bucket.reserve(100.0) == 0.0
    assert bucket.reserve(100.0) == pytest.approx(0.5)
    # Reservations queue: the next caller waits behind the one before it.
    assert bucket.reserve(100.0) == pytest.approx(1.0)


def test_a_bucket_refills_with_time_up_to_its_burst() -> None:
    bucket = TokenBucket(1.0, burst=3.0, now=0.0)
    for _ in range(3):
        bucket.reserve(0.0)
    assert bucket.reserve(1.0) == 0.0
    # A long pause refills to the burst, not beyond it.
    assert [bucket.reserve(100.0) for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(1.0)]


def test_a_bucket_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(0.0, now=0.0)


async def test_the_limiter_never_lets_more_than_its_cap_in_flight() -> None:
    limiter = RequestLimiter(max_in_flight=3)

    async def work() -> None:
        async with limiter.slot():
            await asyncio.sleep(0.005)

    await asyncio.gather(*(work() for _ in range(20)))
    assert limiter.peak_in_flight == 3
    assert limiter.in_flight == 0


async def test_the_limiter_spaces_requests_at_its_rate() -> None:
    loop = asyncio.get_running_loop()
    limiter = RequestLimiter(max_in_flight=10, requests_per_second=100.0)
    started = loop.time()

    async def work() -> None:
        async with limiter.slot():
            pass

    # A burst of 100 passes at once, then 20 more need 0.2 s at 100 per second.
    await asyncio.gather(*(work() for _ in range(120)))
    assert loop.time() - started >= 0.18


def test_the_limiter_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RequestLimiter(max_in_flight=0)
    with pytest.raises(ValueError, match="negative"):
        RequestLimiter(requests_per_second=-1)
