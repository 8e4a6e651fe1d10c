"""Human units for sizes, changes, durations, ages and times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands.strings import count_backups, count_indices
from bot.i18n.units import (
    format_bytes,
    format_signed,
    format_signed_bytes,
    human_age,
    human_bytes,
    human_duration,
    signed_bytes,
    utc_time,
)

NOW = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
GiB = 1024**3
MiB = 1024**2


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (int(1.5 * GiB), "1.5 GiB"),
        (int(12.3 * GiB), "12.3 GiB"),
        (123 * GiB, "123 GiB"),
        (1024 * MiB - 1, "1 GiB"),  # never "1024 MiB"
        (5 * 1024**4, "5 TiB"),
        (-3 * GiB, "−3 GiB"),
    ],
)
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [(120 * MiB, "+120 MiB"), (-3 * GiB, "−3 GiB"), (0, "±0 B"), (512, "+512 B")],
)
def test_signed_bytes_always_shows_the_direction(n: int, text: str) -> None:
    assert signed_bytes(n) == text


def test_the_ascii_variants_for_the_digest_use_a_hyphen_minus() -> None:
    assert format_signed_bytes(-3 * GiB) == "-3 GiB"
    assert format_bytes(int(1.5 * GiB)) == "1.5 GiB"


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_human_bytes_is_short_and_close_to_the_true_size(n: int) -> None:
    text = human_bytes(n)
    number, unit = text.split(" ")
    assert unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    assert float(number) < 1024
    if unit != "B":
        # three significant digits, except 1000..1023 which stay in the smaller unit
        assert len(re.sub(r"\D", "", number).lstrip("0")) <= (4 if float(number) >= 1000 else 3)
        scale = 1024 ** (["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"].index(unit))
        assert abs(float(number) * scale - n) <= 0.01 * n


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (42, "42s"),
        (312, "5m 12s"),
        (3900, "1h 5m"),
        (timedelta(days=2, hours=3, minutes=4), "2d 3h"),
        (0, "0s"),
    ],
)
def test_human_duration(value: float | timedelta | None, text: str) -> None:
    assert human_duration(value) == text


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (None, "—"),
        (NOW, "just now"),
        (NOW - timedelta(seconds=30), "just now"),
        (NOW - timedelta(hours=3, minutes=5), "3h 5m ago"),
        (NOW - timedelta(days=1, hours=5, minutes=7), "1d 5h ago"),
        (NOW + timedelta(minutes=5), "in 5m"),
    ],
)
def test_human_age(when: datetime | None, text: str) -> None:
    assert human_age(when, NOW) == text


def test_utc_time_converts_to_utc() -> None:
    moscow = datetime(2024, 5, 2, 15, 0, tzinfo=timezone(timedelta(hours=3)))
    assert utc_time(moscow) == "2024-05-02 12:00 UTC"
    assert utc_time(datetime(2024, 5, 2, 12, 0)) == "2024-05-02 12:00 UTC"
    assert utc_time(None) == "—"


def test_counts_choose_the_plural() -> None:
    assert count_indices(1) == "1 index"
    assert count_indices(42) == "42 indices"
    assert count_backups(1234) == "1,234 backups"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (10 * 1024**2 + 300 * 1024, "10.3 MiB"),
        (123 * GiB, "123 GiB"),
        (1023 * 1024**2 + 1000 * 1024, "1 GiB"),
        (5 * 1024**4, "5 TiB"),
    ],
)
def test_sizes_are_shown_in_binary_units(size: int, text: str) -> None:
    assert format_bytes(size) == text


def test_changes_are_signed() -> None:
    assert format_signed_bytes(2 * GiB) == "+2 GiB"
    assert format_signed_bytes(-1536) == "-1.5 KiB"
    assert format_signed_bytes(0) == "±0 B"
    assert (format_signed(3), format_signed(-2), format_signed(0)) == ("+3", "-2", "±0")


@given(st.integers(min_value=0, max_value=2**63))
def test_any_size_has_at_most_four_digits_and_a_unit(size: int) -> None:
    number, unit = format_bytes(size).split(" ")
    assert unit in {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
    assert unit == "EiB" or float(number) < 1024
