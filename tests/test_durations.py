"""Durations as people type them and as the bot writes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("45s", timedelta(seconds=45)),
        ("90m", timedelta(minutes=90)),
        ("26h", timedelta(hours=26)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1w1d1h1m1s", timedelta(weeks=1, days=1, hours=1, minutes=1, seconds=1)),
        (" 1H 30M ", timedelta(hours=1, minutes=30)),  # case and spaces do not matter
        ("999999s", timedelta(seconds=999999)),  # six digits is the most a part may have
        ("0h5m", timedelta(minutes=5)),  # a zero part is fine while the whole is positive
    ],
)
def test_it_reads_every_unit_alone_and_combined(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize(
    "text",
    ["", "   ", "4", "h", "4x", "4 hours", "-4h", "1.5h", "4h-", "1234567s", "h4", "4hh"],
)
def test_anything_else_is_refused_with_an_example_of_what_to_write(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration") as caught:
        parse_duration(text)
    assert str(caught.value) == (
        f"{text!r} is not a duration; write a number and a unit, like 90m, 26h or 7d"
    )


@pytest.mark.parametrize("text", ["0s", "0h", "0d0m"])
def test_a_zero_duration_is_refused_as_zero(text: str) -> None:
    with pytest.raises(ValueError, match="is zero") as caught:
        parse_duration(text)
    assert str(caught.value) == f"{text!r} is zero; a duration must be positive"


@pytest.mark.parametrize(
    ("delta", "parts", "text"),
    [
        (timedelta(0), 2, "0s"),
        (timedelta(seconds=1), 2, "1s"),
        (timedelta(seconds=59), 2, "59s"),
        (timedelta(minutes=1), 2, "1m"),
        (timedelta(minutes=35), 2, "35m"),
        (timedelta(hours=1), 2, "1h"),
        (timedelta(days=1), 2, "1d"),
        (timedelta(days=1, hours=4, minutes=30), 2, "1d 4h"),  # largest two, the rest dropped
        (timedelta(days=1, minutes=30), 2, "1d 30m"),  # a zero unit is skipped, not shown
        (timedelta(days=1, hours=2, minutes=3, seconds=4), 4, "1d 2h 3m 4s"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), 1, "1d"),
        (timedelta(days=9), 2, "9d"),  # no weeks: days are what people compare
        (timedelta(hours=-1, minutes=-30), 2, "-1h 30m"),
        (timedelta(seconds=-5), 2, "-5s"),
        (timedelta(milliseconds=999), 2, "0s"),
    ],
)
def test_it_writes_the_largest_units_first(delta: timedelta, parts: int, text: str) -> None:
    assert format_duration(delta, parts=parts) == text


def test_two_parts_is_the_default() -> None:
    assert format_duration(timedelta(days=1, hours=2, minutes=3)) == "1d 2h"


@given(st.integers(min_value=1, max_value=10**7))
def test_what_it_writes_in_full_it_reads_back(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta, parts=4)) == delta
