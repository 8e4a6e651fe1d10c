"""Backup schedules: crontabs read as cron reads them, snapshot schedules and retention policies
as slots, and the longest wait between two slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.schedules import Cron, policy_schedule, snapshot_schedule
from bot.models import (
    CronTab,
    DailySnapshotSchedule,
    HourlySnapshotSchedule,
    RetentionPolicy,
    SnapshotSchedule,
    WeekDay,
    WeeklySnapshotSchedule,
)

NOW = datetime(2026, 11, 23, 21, 20, tzinfo=UTC)  # a Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def policy(name: str, minute: str, hour: str, dom: str = "*", dow: str = "*") -> RetentionPolicy:
    return RetentionPolicy(
        policy_id=f"p-{name}",
        policy_name=name,
        cron=CronTab(minute=minute, hour=hour, day_of_month=dom, month="*", day_of_week=dow),
        retain_for_days=7,
    )


# --- crontabs ----------------------------------------------------------------------------------


def test_a_daily_cron_has_its_last_slot_today_once_it_passed_and_yesterday_before() -> None:
    cron = Cron.parse("30", "3", "*", "*", "*")
    assert cron.last_at_or_before(NOW) == at("2026-11-23T03:30")
    assert cron.last_at_or_before(at("2026-11-23T03:29")) == at("2026-11-22T03:30")
    assert cron.last_at_or_before(at("2026-11-23T03:30")) == at("2026-11-23T03:30")
    assert cron.longest_gap == timedelta(days=1)


def test_weekday_zero_and_seven_are_sunday_and_names_are_read() -> None:
    for field in ("0", "7", "sun", "SUN"):
        cron = Cron.parse("0", "4", "*", "*", field)
        assert cron.last_at_or_before(NOW) == at("2026-11-22T04:00"), field
        assert cron.longest_gap == timedelta(days=7)


def test_weekdays_only_wait_over_the_weekend() -> None:
    cron = Cron.parse("0", "3", "*", "*", "1-5")
    assert cron.longest_gap == timedelta(days=3)
    assert cron.last_at_or_before(at("2026-11-23T02:00")) == at("2026-11-20T03:00")  # Friday


def test_a_restricted_day_and_weekday_match_either_as_cron_does() -> None:
    cron = Cron.parse("0", "1", "13", "*", "fri")
    slots = list(cron.between(at("2026-11-01T00:00"), at("2026-11-30T23:59")))
    assert [s.day for s in slots] == [6, 13, 20, 27]
    cron = Cron.parse("0", "1", "1", "*", "*")
    assert cron.longest_gap == timedelta(days=31)


def test_steps_ranges_and_lists_make_the_times_of_a_day() -> None:
    cron = Cron.parse("0,30", "*/6", "*", "*", "*")
    day = list(cron.between(at("2026-11-23T00:00"), at("2026-11-23T23:59")))
    assert [s.strftime("%H:%M") for s in day] == [
        "00:00", "00:30", "06:00", "06:30", "12:00", "12:30", "18:00", "18:30"
    ]  # fmt: skip
    assert cron.longest_gap == timedelta(hours=5, minutes=30)


def test_the_29th_of_february_waits_four_years() -> None:
    assert Cron.parse("0", "0", "29", "2", "*").longest_gap == timedelta(days=1461)


@pytest.mark.parametrize(
    ("fields", "which"),
    [
        (("", "3", "*", "*", "*"), "minute"),
        (("60", "3", "*", "*", "*"), "minute"),
        (("0", "24", "*", "*", "*"), "hour"),
        (("0", "3", "0", "*", "*"), "day of month"),
        (("0", "3", "*", "13", "*"), "month"),
        (("0", "3", "*", "*", "8"), "weekday"),
        (("*/0", "3", "*", "*", "*"), "minute"),
        (("5-1", "3", "*", "*", "*"), "minute"),
        (("x", "3", "*", "*", "*"), "minute"),
    ],
)
def test_a_field_that_is_not_cron_is_refused_naming_the_field(
    fields: tuple[str, str, str, str, str], which: str
) -> None:
    with pytest.raises(ValueError, match=f"^{which}:"):
        Cron.parse(*fields)


def test_empty_day_month_and_weekday_mean_any_as_the_api_documents() -> None:
    cron = Cron.parse("15", "2", "", "", "")
    assert cron.text == "15 2 * * *"
    assert cron.longest_gap == timedelta(days=1)


@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
)
def test_the_last_slot_is_never_after_the_moment_and_the_next_comes_after_it(
    minute: int, hour: int, moment: datetime
) -> None:
    cron = Cron.parse(str(minute), str(hour), "*", "*", "*")
    last = cron.last_at_or_before(moment)
    assert last is not None
    assert last <= moment < last + timedelta(days=1)
    assert (last.hour, last.minute) == (hour, minute)


# --- a cluster's schedules ---------------------------------------------------------------------


def test_snapshot_schedules_have_their_slots_and_periods() -> None:
    hourly = snapshot_schedule(
        SnapshotSchedule(hourly_snapshot_schedule=HourlySnapshotSchedule(minute=15))
    )
    assert hourly is not None
    assert (hourly.detail, hourly.period) == ("hourly", timedelta(hours=1))
    assert hourly.last_slot(NOW) == at("2026-11-23T21:15")
    daily = snapshot_schedule(
        SnapshotSchedule(daily_snapshot_schedule=DailySnapshotSchedule(hour=3, minute=5))
    )
    assert daily is not None
    assert daily.detail == "daily at 03:05 UTC"
    assert daily.last_slot(NOW) == at("2026-11-23T03:05")
    weekly = snapshot_schedule(
        SnapshotSchedule(
            weekly_snapshot_schedule=WeeklySnapshotSchedule(day=WeekDay.SAT, hour=23, minute=0)
        )
    )
    assert weekly is not None
    assert weekly.last_slot(NOW) == at("2026-11-21T23:00")


def test_a_weekly_schedule_on_no_day_keeps_its_period_but_knows_no_slot() -> None:
    weekly = snapshot_schedule(
        SnapshotSchedule(weekly_snapshot_schedule=WeeklySnapshotSchedule(hour=3))
    )
    assert weekly is not None
    assert weekly.period == timedelta(days=7)
    assert weekly.last_slot(NOW) is None


def test_policies_make_one_schedule_whose_wait_is_the_most_frequent_ones() -> None:
    schedule = policy_schedule(
        [policy("weekly-30d", "0", "4", dow="0"), policy("nightly-7d", "0", "3")]
    )
    assert schedule is not None
    assert schedule.source == "policy"
    assert schedule.period == timedelta(days=1)
    assert schedule.detail == "retention policy nightly-7d (0 3 * * *) and 1 more"
    # Slots of both: the Sunday 04:00 one too.
    slots = schedule.slots_between(at("2026-11-22T00:00"), at("2026-11-22T23:59"))
    assert slots == [at("2026-11-22T03:00"), at("2026-11-22T04:00")]


def test_a_policy_whose_cron_cannot_be_read_is_no_schedule() -> None:
    assert policy_schedule([policy("odd", "", "3"), RetentionPolicy(policy_name="none")]) is None
