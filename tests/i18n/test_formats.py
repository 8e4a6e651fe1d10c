"""Numbers, sizes, durations and dates in the current locale: Babel's separators, units and
day names in Russian, and English exactly as it was before there were locales."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.durations import format_duration
from bot.freshness.schedules import say_schedule
from bot.i18n.catalog import use_locale
from bot.i18n.units import (
    day,
    format_bytes,
    format_signed_bytes,
    human_age,
    human_bytes,
    human_duration,
    number,
    percent,
    say_duration,
    signed_bytes,
)

GiB = 1024**3
TiB = 1024**4
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
RU_UNITS = {"B": "Б", "KiB": "КиБ", "MiB": "МиБ", "GiB": "ГиБ", "TiB": "ТиБ", "PiB": "ПиБ"}


@pytest.mark.parametrize(
    ("value", "en", "ru"),
    [
        (int(3.23 * TiB), "3.23 TiB", "3,23 ТиБ"),
        (1536, "1.5 KiB", "1,5 КиБ"),
        (1023, "1023 B", "1023 Б"),  # never grouped: "1 023" would read as two numbers
        (0, "0 B", "0 Б"),
        (123 * GiB, "123 GiB", "123 ГиБ"),
    ],
)
def test_sizes_in_each_locale(value: int, en: str, ru: str) -> None:
    assert format_bytes(value) == en
    with use_locale("ru"):
        assert format_bytes(value) == ru


def test_signed_sizes_in_russian() -> None:
    with use_locale("ru"):
        assert signed_bytes(0) == "±0 Б"
        assert signed_bytes(-3 * GiB) == "−3 ГиБ"
        assert format_signed_bytes(int(1.5 * GiB)) == "+1,5 ГиБ"
        assert human_bytes(-3 * GiB) == "−3 ГиБ"


@given(st.integers(min_value=0, max_value=2**62))
def test_a_russian_size_is_the_english_one_with_a_comma_and_russian_units(size: int) -> None:
    text, unit = format_bytes(size).split(" ")
    with use_locale("ru"):
        assert format_bytes(size) == f"{text.replace('.', ',')} {RU_UNITS.get(unit, 'ЭиБ')}"


@pytest.mark.parametrize(
    ("delta", "en", "ru"),
    [
        (timedelta(days=2, minutes=19), "2d 19m", "2 д 19 мин"),
        (timedelta(hours=5, minutes=3), "5h 3m", "5 ч 3 мин"),
        (timedelta(seconds=42), "42s", "42 с"),
        (timedelta(0), "0s", "0 с"),
        (timedelta(days=-1), "-1d", "-1 д"),
    ],
)
def test_durations_in_each_locale(delta: timedelta, en: str, ru: str) -> None:
    assert say_duration(delta) == en
    with use_locale("ru"):
        assert say_duration(delta) == ru


@given(st.integers(min_value=-(10**9), max_value=10**9), st.integers(min_value=1, max_value=4))
def test_english_durations_are_the_typed_form(seconds: int, parts: int) -> None:
    # English reads as typed (the config, `snooze 4h`), as it did before there were locales.
    delta = timedelta(seconds=seconds)
    assert say_duration(delta, parts=parts) == format_duration(delta, parts=parts)
    with use_locale("ru"):
        # Russian has as many parts, each a number and a unit.
        assert len(say_duration(delta, parts=parts).split(" ")) == 2 * len(
            format_duration(delta, parts=parts).split(" ")
        )


def test_ages_and_durations_in_russian() -> None:
    with use_locale("ru"):
        assert human_age(NOW - timedelta(hours=3, minutes=5), NOW) == "3 ч 5 мин назад"
        assert human_age(NOW + timedelta(minutes=5), NOW) == "через 5 мин"
        assert human_age(NOW, NOW) == "только что"
        assert human_duration(90) == "1 мин 30 с"
        assert human_duration(None) == "—"


def test_dates_numbers_and_percentages_in_each_locale() -> None:
    assert day(date(2026, 12, 2)) == "Wed 2 Dec 2026"
    assert (number("3.23"), percent(0.4)) == ("3.23", "40%")
    with use_locale("ru"):
        assert day(date(2026, 12, 2)) == "ср 2 дек. 2026"
        assert number("3.23") == "3,23"
        assert percent(0.4) == "40\u00a0%"


def test_a_locale_babel_does_not_know_reads_as_english() -> None:
    with use_locale("xx"):
        assert (format_bytes(1536), say_duration(timedelta(minutes=90))) == ("1.5 KiB", "1h 30m")
        assert day(date(2026, 12, 2)) == "Wed 2 Dec 2026"


@pytest.mark.parametrize(
    ("detail", "ru"),
    [
        ("hourly", "ежечасно"),
        ("daily at 03:00 UTC", "ежедневно в 03:00 UTC"),
        ("weekly on MONDAY at 04:30 UTC", "еженедельно, MONDAY, в 04:30 UTC"),
        ("weekly at 04:30 UTC", "еженедельно в 04:30 UTC"),
        ("retention policy nightly (0 3 * * *)", "политика хранения nightly (0 3 * * *)"),
        (
            "retention policy nightly (0 3 * * *) and 2 more",
            "политика хранения nightly (0 3 * * *) и ещё 2",
        ),
        ("something the cloud said", "something the cloud said"),  # no known shape: as it is
    ],
)
def test_a_stored_schedule_is_said_in_the_current_locale(detail: str, ru: str) -> None:
    assert say_schedule(detail) == detail  # English: the stored words themselves
    with use_locale("ru"):
        assert say_schedule(detail) == ru
