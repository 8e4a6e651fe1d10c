"""Backup schedules: crontabs read as cron reads them, snapshot schedules and retention policies
as slots, the longest wait between two slots, and what an empty minute or hour means."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cloud.models import (
    CronTab,
    DailySnapshotSchedule,
    HourlySnapshotSchedule,
    RetentionPolicy,
    SnapshotSchedule,
    WeekDay,
    WeeklySnapshotSchedule,
)
from bot.freshness.schedules import (
    BackupSchedule,
    Cron,
    cron_text,
    policy_schedule,
    snapshot_schedule,
)

NOW = datetime(2026, 11, 23, 21, 20, tzinfo=UTC)  # a Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def policy(
    name: str, minute: str, hour: str, dom: str = "*", dow: str = "*", month: str = "*"
) -> RetentionPolicy:
    return RetentionPolicy(
        policy_id=f"p-{name}",
        policy_name=name,
        cron=CronTab(minute=minute, hour=hour, day_of_month=dom, month=month, day_of_week=dow),
        retain_for_days=7,
    )


@pytest.fixture
def host_time_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Sets the machine's local time zone (a POSIX TZ, no tzdata needed) for one test."""

    def use(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


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
    assert policy_schedule([policy("odd", "x", "3"), RetentionPolicy(policy_name="none")]) is None


# --- crontab fields, read as cron reads them ---------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "what"),
    [
        (("x", "3", "*", "*", "*"), "minute", '"x"'),
        (("1-2-3", "3", "*", "*", "*"), "minute", '"1-2-3"'),
        (("*/0", "3", "*", "*", "*"), "minute", "Increment must be higher than 0"),
        (("*/x", "3", "*", "*", "*"), "minute", '"*/x"'),
        (("50-70", "3", "*", "*", "*"), "minute", "maximum value (59)"),
        (("0", "24", "*", "*", "*"), "hour", "maximum value (23)"),
        (("0", "3", "32", "*", "*"), "day of month", "maximum value (31)"),
        (("0", "3", "1-32", "*", "*"), "day of month", "'1-32'"),
        (("0", "3", "*", "0", "*"), "month", "minimum value (1)"),
        (("0", "3", "*", "*", "mon-8"), "weekday", "'mon-8' is outside 0-7"),
        (("0", "3", "*", "*", "*/0"), "weekday", "'*/0' is not a positive number"),
        (("0", "3", "*", "*", "1-5/x"), "weekday", "'1-5/x' is not a positive number"),
        (("0", "3", "*", "*", "someday"), "weekday", "'someday' is not a number or a day's name"),
    ],
)
def test_a_refused_field_says_what_is_wrong_with_it(
    fields: tuple[str, str, str, str, str], field: str, what: str
) -> None:
    """The field by its name, then the engine's reason, naming the value or the limit."""
    with pytest.raises(ValueError, match=f"^{re.escape(field)}: .*{re.escape(what)}"):
        Cron.parse(*fields)


def test_a_step_runs_from_its_start_to_the_top_of_the_field() -> None:
    assert Cron.parse("5/15", "0", "*", "*", "*").times == (5, 20, 35, 50)
    assert Cron.parse("0", "9,17", "*", "*", "*").times == (540, 1020)
    assert Cron.parse("10-40/10", "0", "*", "*", "*").times == (10, 20, 30, 40)
    assert Cron.parse("*/1", "0", "*", "*", "*").times == tuple(range(60))
    assert Cron.parse("0", "*/12", "*", "*", "*").times == (0, 720)


def _months(cron: Cron) -> set[int]:
    """The months of 2026 in which ``cron`` has slots."""
    return {day.month for day in _days_of_2026(cron)}


def _weekdays(cron: Cron) -> set[int]:
    """The weekdays (0 = Sunday) on which ``cron`` has slots in 2026."""
    return {day.isoweekday() % 7 for day in _days_of_2026(cron)}


def _days_of_2026(cron: Cron) -> list[date]:
    first = date(2026, 1, 1)
    return [d for n in range(365) if cron.day_matches(d := first + timedelta(days=n))]


def test_month_and_weekday_names_are_their_numbers() -> None:
    cron = Cron.parse("0", "0", "*", "jan,Jun-aug,DEC", "sun,mon-wed,sat")
    assert _months(cron) == {1, 6, 7, 8, 12}
    assert _weekdays(cron) == {0, 1, 2, 3, 6}
    assert _months(Cron.parse("0", "0", "*", "feb", "*")) == {2}
    assert _weekdays(Cron.parse("0", "0", "*", "*", "fri-sat")) == {5, 6}


@pytest.mark.parametrize(
    ("field", "weekdays"),
    [
        ("sun-wed", {0, 1, 2, 3}),
        ("sat-sun", {6, 0}),  # a range ending on Sunday by name runs to the week's end, as 6-7
        ("mon-sun", {0, 1, 2, 3, 4, 5, 6}),
        ("5-7", {5, 6, 0}),
        ("*/3", {0, 3, 6}),
        ("mon-fri/2", {1, 3, 5}),
        ("1-5,0", {0, 1, 2, 3, 4, 5}),
    ],
)
def test_weekday_ranges_steps_and_lists_read_as_crontab_numbers_them(
    field: str, weekdays: set[int]
) -> None:
    assert _weekdays(Cron.parse("0", "0", "*", "*", field)) == weekdays


def test_a_day_outside_the_months_has_no_slots_whatever_its_day() -> None:
    cron = Cron.parse("0", "0", "*", "feb", "*")
    assert cron.day_matches(date(2026, 2, 1)) is True
    assert cron.day_matches(date(2026, 3, 1)) is False
    assert cron.day_matches(date(2026, 1, 31)) is False
    cron = Cron.parse("0", "0", "13", "feb", "fri")
    assert cron.day_matches(date(2026, 3, 13)) is False  # a Friday the 13th, but in March


def test_a_restricted_day_of_the_month_is_a_slot_day_on_any_weekday() -> None:
    assert Cron.parse("0", "0", "13", "*", "*").day_matches(date(2026, 1, 13)) is True  # Tuesday
    assert Cron.parse("0", "0", "13", "*", "*").day_matches(date(2026, 1, 14)) is False
    either = Cron.parse("0", "0", "13", "*", "fri")
    assert either.day_matches(date(2026, 1, 13)) is True  # by the day, a Tuesday
    assert either.day_matches(date(2026, 1, 16)) is True  # by the weekday, a Friday
    assert either.day_matches(date(2026, 1, 14)) is False


@pytest.mark.parametrize("zone", ["<+14>-14", "<-12>+12"])
def test_slots_are_in_utc_whatever_the_machine_s_time_zone(
    host_time_zone: Callable[[str], None], zone: str
) -> None:
    host_time_zone(zone)
    cron = Cron.parse("0", "3,21", "*", "*", "*")
    # Late in the UTC day (already tomorrow east of UTC), and early (still yesterday west).
    assert cron.last_at_or_before(at("2026-11-22T22:00")) == at("2026-11-22T21:00")
    assert cron.last_at_or_before(at("2026-11-23T05:00")) == at("2026-11-23T03:00")
    slots = list(cron.between(at("2026-11-22T20:00"), at("2026-11-24T05:00")))
    assert slots == [
        at("2026-11-22T21:00"),
        at("2026-11-23T03:00"),
        at("2026-11-23T21:00"),
        at("2026-11-24T03:00"),
    ]


def test_between_holds_the_slots_at_both_of_its_ends() -> None:
    cron = Cron.parse("0", "3", "*", "*", "*")
    assert list(cron.between(at("2026-11-23T03:00"), at("2026-11-23T03:00"))) == [
        at("2026-11-23T03:00")
    ]
    assert list(cron.between(at("2026-11-22T03:00"), at("2026-11-23T03:00"))) == [
        at("2026-11-22T03:00"),
        at("2026-11-23T03:00"),
    ]
    assert list(cron.between(at("2026-11-23T03:01"), at("2026-11-24T02:59"))) == []


def test_an_every_minute_schedule_lists_at_most_two_thousand_slots_the_oldest() -> None:
    every_minute = Cron.parse("*", "*", "*", "*", "*")
    schedule = BackupSchedule("policy", "every minute", timedelta(minutes=1), (every_minute,))
    start = at("2026-11-23T00:00")
    slots = schedule.slots_between(start, start + timedelta(days=2))
    assert len(slots) == 2000
    assert slots[0] == start
    assert slots[-1] == start + timedelta(minutes=1999)
    assert schedule.slots_between(start, start + timedelta(minutes=1998)) == [
        start + timedelta(minutes=m) for m in range(1999)
    ]


# --- a cluster's schedules: edge cases ---------------------------------------------------------


def test_a_snapshot_minute_out_of_range_keeps_the_period_but_knows_no_slot() -> None:
    hourly = snapshot_schedule(
        SnapshotSchedule(hourly_snapshot_schedule=HourlySnapshotSchedule(minute=75))
    )
    assert hourly is not None
    assert hourly.period == timedelta(hours=1)
    assert hourly.crons == ()
    assert hourly.last_slot(NOW) is None
    assert hourly.slots_between(NOW - timedelta(days=1), NOW) == []


def test_a_policy_that_is_never_due_is_no_schedule() -> None:
    never = policy("feb-30", "0", "0", dom="30", month="2")  # reads as cron, names no day
    assert policy_schedule([never]) is None


def test_policies_left_out_do_not_hide_the_ones_after_them() -> None:
    schedule = policy_schedule(
        [
            policy("odd", "x", "3"),
            policy("feb-30", "0", "0", dom="30", month="2"),
            policy("nightly", "0", "3"),
        ]
    )
    assert schedule is not None
    assert schedule.detail == "retention policy nightly (0 3 * * *)"
    assert schedule.period == timedelta(days=1)
    assert len(schedule.crons) == 1


def test_a_policy_without_a_name_is_shown_by_its_id_or_as_unnamed() -> None:
    tab = CronTab(minute="0", hour="3", day_of_month="*", month="*", day_of_week="*")
    by_id = policy_schedule([RetentionPolicy(policy_id="p-1", cron=tab)])
    assert by_id is not None
    assert by_id.detail == "retention policy p-1 (0 3 * * *)"
    unnamed = policy_schedule([RetentionPolicy(cron=tab)])
    assert unnamed is not None
    assert unnamed.detail == "retention policy (unnamed) (0 3 * * *)"


def test_a_long_policy_name_is_cut_to_sixty_characters() -> None:
    fits = "n" * 60
    schedule = policy_schedule([policy(fits, "0", "3")])
    assert schedule is not None
    assert schedule.detail == f"retention policy {fits} (0 3 * * *)"
    schedule = policy_schedule([policy("n" * 59 + "xy", "0", "3")])
    assert schedule is not None
    assert schedule.detail == f"retention policy {'n' * 59}… (0 3 * * *)"


def test_the_most_frequent_policy_is_named_whatever_its_name() -> None:
    schedule = policy_schedule(
        [policy("a-weekly", "0", "4", dow="0"), policy("z-hourly", "0", "*")]
    )
    assert schedule is not None
    assert schedule.detail == "retention policy z-hourly (0 * * * *) and 1 more"
    assert schedule.period == timedelta(hours=1)


def test_policies_as_frequent_are_named_by_name_then_as_listed() -> None:
    schedule = policy_schedule([policy("b", "0", "3"), policy("a", "0", "4")])
    assert schedule is not None
    assert schedule.detail == "retention policy a (0 4 * * *) and 1 more"
    schedule = policy_schedule([policy("same", "0", "5"), policy("same", "0", "4")])
    assert schedule is not None
    assert schedule.detail == "retention policy same (0 5 * * *) and 1 more"
    assert schedule.slots_between(at("2026-11-23T00:00"), at("2026-11-23T23:59")) == [
        at("2026-11-23T04:00"),
        at("2026-11-23T05:00"),
    ]


@pytest.mark.parametrize(
    ("name", "number"),
    [(m, i) for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun"), 1)]
    + [(m, i) for i, m in enumerate(("jul", "aug", "sep", "oct", "nov", "dec"), 7)],
)
def test_every_month_name_is_its_number(name: str, number: int) -> None:
    first_of_the_months = at("2026-01-01T00:00"), at("2026-12-31T23:59")
    for month in (name, name.upper()):
        cron = Cron.parse("0", "0", "1", month, "*")
        assert [s.month for s in cron.between(*first_of_the_months)] == [number]


@pytest.mark.parametrize(
    ("number", "name"),
    list(enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))),
)
def test_every_weekday_name_is_its_number(number: int, name: str) -> None:
    week = at("2026-11-22T00:00"), at("2026-11-28T23:59")  # Sunday to Saturday
    for weekday in (name, name.title(), str(number)):
        cron = Cron.parse("0", "0", "*", "*", weekday)
        assert [s.isoweekday() % 7 for s in cron.between(*week)] == [number]


@pytest.mark.parametrize(
    ("day", "last"),
    [
        (WeekDay.MON, "2026-11-16T23:00"),  # today's is still to come at 21:20
        (WeekDay.TUE, "2026-11-17T23:00"),
        (WeekDay.WED, "2026-11-18T23:00"),
        (WeekDay.THU, "2026-11-19T23:00"),
        (WeekDay.FRI, "2026-11-20T23:00"),
        (WeekDay.SAT, "2026-11-21T23:00"),
        (WeekDay.SUN, "2026-11-22T23:00"),
    ],
)
def test_a_weekly_snapshot_schedule_has_its_slot_on_its_day(day: WeekDay, last: str) -> None:
    weekly = snapshot_schedule(
        SnapshotSchedule(weekly_snapshot_schedule=WeeklySnapshotSchedule(day=day, hour=23))
    )
    assert weekly is not None
    assert weekly.detail == f"weekly on {day.value} at 23:00 UTC"
    assert weekly.last_slot(NOW) == at(last)
    assert weekly.slots_between(at(last) - timedelta(days=7), at(last)) == [
        at(last) - timedelta(days=7),
        at(last),
    ]


def test_the_longest_wait_can_be_within_a_day() -> None:
    assert Cron.parse("0", "0,23", "*", "*", "*").longest_gap == timedelta(hours=23)
    assert Cron.parse("0", "1,2,23", "*", "*", "*").longest_gap == timedelta(hours=21)


def test_the_longest_wait_is_found_in_the_year_it_is_longest() -> None:
    """The 1st of January or a Thursday in January: the longest wait is from the 25th in a
    leap year (2024) to the next 1st of January."""
    cron = Cron.parse("0", "0", "1", "1", "thu")
    assert cron.longest_gap == timedelta(days=342)


def test_the_longest_wait_is_found_in_any_year_of_the_calendars_28_year_cycle() -> None:
    """The 1st of January or a Monday in January: the longest wait is from the 25th in a leap
    year that starts on a Friday, the first of which after 2016 is 2044."""
    assert Cron.parse("0", "0", "1", "1", "mon").longest_gap == timedelta(days=342)
    # Only every fourth year has a 29th of February, and none is longer than four years away.
    assert Cron.parse("0", "0", "29", "2", "*").longest_gap == timedelta(days=4 * 365 + 1)


def test_a_schedule_made_without_crontabs_knows_no_slot() -> None:
    schedule = BackupSchedule("snapshot", "weekly at 03:00 UTC", timedelta(days=7))
    assert schedule.crons == ()
    assert schedule.last_slot(NOW) is None
    assert schedule.slots_between(NOW - timedelta(days=30), NOW) == []


def test_the_last_slot_is_looked_for_eight_years_back_and_no_further() -> None:
    """A crontab that never comes (the 30th of February) has no last slot, even 2927 days into
    the calendar; a 29th of February is found eight years back, across 2100."""
    never = Cron.parse("0", "0", "30", "2", "*")
    assert never.last_at_or_before(datetime(2026, 11, 23, tzinfo=UTC)) is None
    assert never.last_at_or_before(datetime(9, 1, 6, 23, 59, tzinfo=UTC)) is None
    # The 29th of February, eight years apart across 2100, is still found.
    leap = Cron.parse("0", "0", "29", "2", "*")
    assert leap.last_at_or_before(at("2104-02-28T23:59")) == at("2096-02-29T00:00")
    # The longest a slot day can be away: from the day before the next (2921 days).
    for day in ("2096-02-29", "2100-02-28", "2104-02-28"):
        assert leap.last_at_or_before(at(f"{day}T00:00")) == at("2096-02-29T00:00"), day


# --- an empty minute or hour: the service picks the time -----------------------------------
# The API has dropped both fields (reserved in yandex.cloud.mdb.v1.CronTab): a retention policy
# names the days of its backups, and a slot is the whole day.


def test_an_empty_minute_or_hour_is_shown_as_a_question_mark() -> None:
    assert cron_text("", "", "", "", "1") == "? ? * * 1"
    assert cron_text(" 0", "3 ", " ", "", "mon ") == "0 3 * * mon"
    assert Cron.parse("", "", "*", "*", "1").text == "? ? * * 1"
    assert Cron.parse(" ", "3", "", "", "").text == "? 3 * * *"
    assert Cron.parse("30", "", "*", "*", "*").text == "30 ? * * *"


def test_an_empty_hour_makes_a_slot_a_day_and_an_empty_minute_alone_an_hour() -> None:
    assert Cron.parse("", "", "*", "*", "*").span == timedelta(days=1)
    assert Cron.parse("30", "", "*", "*", "*").span == timedelta(days=1)
    assert Cron.parse("", "3", "*", "*", "*").span == timedelta(hours=1)
    assert Cron.parse("0", "3", "*", "*", "*").span == timedelta(0)


def test_a_day_slot_starts_at_midnight_and_is_over_when_the_day_is() -> None:
    mondays = Cron.parse("", "", "*", "*", "mon")
    assert mondays.times == (0,)
    # NOW is a Monday evening: today's slot is not over yet, last Monday's is.
    assert mondays.last_at_or_before(NOW) == at("2026-11-16T00:00")
    assert mondays.last_at_or_before(at("2026-11-23T23:59")) == at("2026-11-16T00:00")
    assert mondays.last_at_or_before(at("2026-11-24T00:00")) == at("2026-11-23T00:00")


def test_a_day_only_crontab_waits_from_the_start_of_one_slot_day_to_the_end_of_the_next() -> None:
    assert Cron.parse("", "", "*", "*", "*").longest_gap == timedelta(days=2)
    assert Cron.parse("", "", "*", "*", "1").longest_gap == timedelta(days=8)
    assert Cron.parse("", "", "*", "*", "1-5").longest_gap == timedelta(days=4)
    assert Cron.parse("30", "", "*", "*", "*").longest_gap == timedelta(days=2)


def test_an_empty_minute_alone_leaves_the_minute_of_each_hour_to_the_service() -> None:
    three = Cron.parse("", "3", "*", "*", "*")
    assert three.times == (180,)
    assert three.longest_gap == timedelta(hours=25)
    assert three.last_at_or_before(at("2026-11-23T03:59")) == at("2026-11-22T03:00")
    assert three.last_at_or_before(at("2026-11-23T04:00")) == at("2026-11-23T03:00")
    assert Cron.parse("", "3,15", "*", "*", "*").longest_gap == timedelta(hours=13)


def test_a_field_the_service_does_not_pick_is_still_checked() -> None:
    with pytest.raises(ValueError, match=r"^minute: "):
        Cron.parse("x", "", "*", "*", "*")
    with pytest.raises(ValueError, match=r"^weekday: "):
        Cron.parse("", "", "*", "*", "8")


def test_a_day_only_policy_is_a_schedule_shown_as_it_reads() -> None:
    schedule = policy_schedule([policy("weekly-30d", "", "", dow="1")])
    assert schedule is not None
    assert schedule.detail == "retention policy weekly-30d (? ? * * 1)"
    assert schedule.period == timedelta(days=8)
    assert schedule.last_slot(NOW) == at("2026-11-16T00:00")


def test_slots_whose_time_the_service_picks_are_not_listed_as_moments() -> None:
    schedule = policy_schedule([policy("nightly", "0", "3"), policy("mondays", "", "", dow="1")])
    assert schedule is not None
    monday = at("2026-11-23T00:00"), at("2026-11-23T23:59")
    assert schedule.slots_between(*monday) == [at("2026-11-23T03:00")]
    assert list(schedule.crons[1].between(*monday)) == [at("2026-11-23T00:00")]
    # A day-only crontab listed first does not hide the timed ones after it.
    days_first = policy_schedule([policy("sundays", "0", "4", dow="0"), policy("days", "", "")])
    assert days_first is not None
    assert days_first.crons[0].span == timedelta(days=1)
    sunday = at("2026-11-22T00:00"), at("2026-11-22T23:59")
    assert days_first.slots_between(*sunday) == [at("2026-11-22T04:00")]
    # Both are slots all the same: the latest over by Tuesday is Monday's day.
    assert schedule.last_slot(at("2026-11-24T00:10")) == at("2026-11-23T03:00")
    assert schedule.last_slot(at("2026-11-24T03:10")) == at("2026-11-24T03:00")


# --- the engine's shortcuts hold ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "gap"),
    [
        (("0", "0", "*", "feb", "*"), timedelta(days=338)),  # the last of February to the 1st
        (("0", "0", "*", "*", "sat,sun"), timedelta(days=6)),
        (("0", "0", "1-31/2", "*", "*"), timedelta(days=2)),
        (("0", "0", "*", "*/2", "*"), timedelta(days=32)),  # the 31st of January to 1 March
        (("0", "0", "13", "*", "fri"), timedelta(days=7)),  # every Friday, and the 13th too
        (("0", "0", "13", "*", "*"), timedelta(days=31)),
    ],
)
def test_the_longest_wait_of_a_crontab_restricted_by_month_or_day_is_measured_over_years(
    fields: tuple[str, str, str, str, str], gap: timedelta
) -> None:
    """Only a crontab of any day of any month repeats every week; the others need the
    calendar."""
    assert Cron.parse(*fields).longest_gap == gap


def test_the_last_slot_is_found_whatever_the_day_s_times() -> None:
    every_minute = Cron.parse("*", "*", "*", "*", "*")
    assert every_minute.last_at_or_before(at("2026-11-23T00:00")) == at("2026-11-23T00:00")
    assert every_minute.last_at_or_before(NOW) == NOW
    late = Cron.parse("0", "23", "*", "*", "sun")
    assert late.last_at_or_before(at("2026-11-22T22:59")) == at("2026-11-15T23:00")
    assert late.last_at_or_before(at("2026-11-22T23:00")) == at("2026-11-22T23:00")
