"""The retry policy: which answers are retried and how long the client waits. Pure."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from bot.cloud.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_it_retries_throttling_and_transient_server_errors(status: int) -> None:
    assert RetryPolicy(attempts=3).should_retry_status(status, 0)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501])
def test_it_does_not_retry_answers_that_would_not_change(status: int) -> None:
    assert not RetryPolicy(attempts=3).should_retry_status(status, 0)


def test_it_stops_after_the_last_attempt() -> None:
    policy = RetryPolicy(attempts=3)
    assert policy.should_retry_status(503, 1)
    assert not policy.should_retry_status(503, 2)


def test_it_refuses_a_policy_without_attempts() -> None:
    with pytest.raises(ValueError, match="at least one attempt") as caught:
        RetryPolicy(attempts=0)
    assert str(caught.value) == "a retry policy needs at least one attempt"


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    rng = random.Random(1)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(300)]
        assert all(0.0 <= d <= ceiling for d in delays)
        # Full jitter spreads over the whole range, not just near the ceiling.
        assert min(delays) < ceiling * 0.1
        assert max(delays) > ceiling * 0.9


def test_retry_after_wins_over_backoff_but_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, retry_after_cap=30.0)
    rng = random.Random(1)
    assert policy.delay(0, 7.0, rng) == 7.0
    assert policy.delay(0, 3600.0, rng) == 30.0
    assert policy.delay(0, -5.0, rng) == 0.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        ("Fri, 20 Nov 2026 10:00:30 GMT", 30.0),
        ("Fri, 20 Nov 2026 09:59:00 GMT", 0.0),
    ],
)
def test_it_reads_retry_after_as_seconds_or_an_http_date(header: str, seconds: float) -> None:
    assert parse_retry_after(header, NOW) == seconds


@pytest.mark.parametrize("header", [None, "", "soon", "nan", "inf", "Fri, 99 Nov"])
def test_it_ignores_a_retry_after_it_cannot_read(header: str | None) -> None:
    assert parse_retry_after(header, NOW) is None


def test_an_http_date_without_a_zone_is_read_as_utc() -> None:
    # "-0000" is RFC 5322's "zone unknown": parsedate gives a naive time, taken as UTC.
    assert parse_retry_after("Fri, 20 Nov 2026 10:00:30 -0000", NOW) == 30.0
    assert parse_retry_after("Fri, 20 Nov 2026 13:00:30 +0300", NOW) == 30.0


class _Ceiling(random.Random):
    """Jitter that always picks the top of its range, so the ceiling itself shows."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_the_production_policy_tries_four_times_backing_off_from_a_quarter_second_to_8() -> None:
    policy = RetryPolicy()
    assert [policy.has_attempts_left(attempt) for attempt in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    rng = _Ceiling()
    assert [policy.backoff(attempt, rng) for attempt in range(7)] == [
        0.25,
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        8.0,
    ]


def test_the_production_policy_waits_at_most_thirty_seconds_for_retry_after() -> None:
    policy = RetryPolicy()
    rng = random.Random(1)
    assert policy.delay(0, 29.5, rng) == 29.5
    assert policy.delay(0, 31.0, rng) == 30.0


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (501, False),
        (505, False),
        (408, False),
        (200, False),
    ],
)
def test_the_production_policy_retries_throttling_and_transient_server_errors(
    status: int, retried: bool
) -> None:
    assert RetryPolicy().should_retry_status(status, 0) is retried


def test_a_server_wish_of_no_wait_is_honoured_without_backoff() -> None:
    assert RetryPolicy(base_delay=5.0).delay(2, 0.0, _Ceiling()) == 0.0


def test_without_a_server_wish_the_delay_is_the_backoff() -> None:
    assert RetryPolicy(base_delay=0.5, max_delay=4.0).delay(1, None, _Ceiling()) == 1.0


def test_a_policy_of_one_attempt_never_retries() -> None:
    policy = RetryPolicy(attempts=1)
    assert not policy.has_attempts_left(0)
    assert not policy.should_retry_status(503, 0)
