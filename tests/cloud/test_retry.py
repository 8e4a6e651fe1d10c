"""The retry policy (which answers are retried, how long the client waits) and the one loop that
applies it, driven by a scripted sender and a sleep that only records: no server, no waiting."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.cloud.retry import RetryPolicy, may_retry, parse_retry_after
from bot.cloud.session import HttpReply

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


# --- the one loop: RetryPolicy.run, driven by a scripted sender and a recording sleep ---------


class Script:
    """Answers (or raises) what it was given, in order, and counts the tries."""

    def __init__(self, *outcomes: int | BaseException, headers: dict[str, str] | None = None):
        self.outcomes = list(outcomes)
        self.headers = headers or {}
        self.tries = 0

    async def __call__(self) -> HttpReply:
        outcome = self.outcomes[min(self.tries, len(self.outcomes) - 1)]
        self.tries += 1
        if isinstance(outcome, BaseException):
            raise outcome
        return HttpReply(outcome, b"body %d" % self.tries, self.headers)


class Sleeps(list[float]):
    """The delays the loop asked for, instead of waiting them."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def run(policy: RetryPolicy, send: Script, sleeps: Sleeps) -> HttpReply:
    return await policy.run(send, what="Test.call", rng=_Ceiling(), now=lambda: NOW, sleep=sleeps)


LOOP = RetryPolicy(attempts=3, base_delay=0.5, max_delay=4.0, retry_after_cap=10.0)


async def test_the_loop_returns_a_final_answer_at_once() -> None:
    send, sleeps = Script(404), Sleeps()
    reply = await run(LOOP, send, sleeps)
    assert (reply.status, reply.body, send.tries, sleeps) == (404, b"body 1", 1, [])


async def test_the_loop_tries_a_transient_status_again_after_the_backoff() -> None:
    send, sleeps = Script(503, 502, 200), Sleeps()
    reply = await run(LOOP, send, sleeps)
    assert (reply.status, reply.body, send.tries) == (200, b"body 3", 3)
    assert sleeps == [0.5, 1.0]


async def test_the_loop_returns_the_last_answer_when_the_tries_run_out() -> None:
    send, sleeps = Script(503), Sleeps()
    reply = await run(LOOP, send, sleeps)
    assert (reply.status, reply.body, send.tries) == (503, b"body 3", 3)
    assert sleeps == [0.5, 1.0]


async def test_the_loop_waits_what_retry_after_asks_up_to_the_cap() -> None:
    sleeps = Sleeps()
    await run(LOOP, Script(429, 200, headers={"Retry-After": "7"}), sleeps)
    await run(
        LOOP, Script(429, 200, headers={"Retry-After": "Fri, 20 Nov 2026 10:00:03 GMT"}), sleeps
    )
    await run(LOOP, Script(503, 200, headers={"Retry-After": "3600"}), sleeps)
    await run(LOOP, Script(503, 200, headers={"Retry-After": "soon"}), sleeps)
    assert sleeps == [7.0, 3.0, 10.0, 0.5]


@pytest.mark.parametrize(
    "error",
    [TimeoutError(), aiohttp.ServerDisconnectedError(), aiohttp.ClientPayloadError("cut")],
)
async def test_the_loop_tries_again_after_no_answer_and_raises_the_last_as_it_came(
    error: BaseException,
) -> None:
    send, sleeps = Script(error), Sleeps()
    with pytest.raises(type(error)) as caught:
        await run(LOOP, send, sleeps)
    assert caught.value is error
    assert send.tries == 3
    assert sleeps == [0.5, 1.0]


async def test_the_loop_recovers_when_an_answer_comes_after_a_timeout() -> None:
    send, sleeps = Script(TimeoutError(), 200), Sleeps()
    assert (await run(LOOP, send, sleeps)).status == 200
    assert (send.tries, sleeps) == (2, [0.5])


async def test_an_error_that_is_not_about_the_network_is_raised_at_once() -> None:
    send, sleeps = Script(ValueError("a bug")), Sleeps()
    with pytest.raises(ValueError, match="a bug"):
        await run(LOOP, send, sleeps)
    assert (send.tries, sleeps) == (1, [])


async def test_a_policy_of_one_attempt_sends_once_whatever_happens() -> None:
    once = LOOP.once()
    send, sleeps = Script(503), Sleeps()
    assert (await run(once, send, sleeps)).status == 503
    failing = Script(TimeoutError())
    with pytest.raises(TimeoutError):
        await run(once, failing, sleeps)
    assert (send.tries, failing.tries, sleeps) == (1, 1, [])
    assert once == RetryPolicy(attempts=1, base_delay=0.5, max_delay=4.0, retry_after_cap=10.0)


async def test_each_retry_is_logged_once_naming_the_call_and_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.cloud.retry"):
        await run(LOOP, Script(503, TimeoutError(), 200), Sleeps())
    assert [r.getMessage() for r in caplog.records] == [
        "Test.call failed (HTTP 503); retrying in 0.50 s (attempt 2 of 3)",
        "Test.call failed (timeout); retrying in 1.00 s (attempt 3 of 3)",
    ]


# --- which calls may be repeated -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "get", "HEAD", "OPTIONS"])
def test_a_call_that_changes_nothing_may_be_repeated(method: str) -> None:
    assert may_retry(method, {})


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
def test_a_call_that_changes_something_is_repeated_only_with_an_idempotency_key(
    method: str,
) -> None:
    assert not may_retry(method, {})
    assert not may_retry(method, {"Idempotency-Key": ""})
    assert not may_retry(method, {"X-Other": "1"})
    assert may_retry(method, {"Idempotency-Key": "4b1c"})
    assert may_retry(method, {"idempotency-key": "4b1c"})
