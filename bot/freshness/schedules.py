"""When a cluster's backups are due: its snapshot schedule, or its backup retention policies'
crontabs, as one :class:`BackupSchedule` with slots in UTC.

A crontab (:class:`Cron`) is read by the one cron engine (:mod:`bot.cron`) the way cron reads one:
five fields of numbers, ``*``, ranges, steps and lists; month and weekday names; weekday 0 and 7
are Sunday; when both the day of the month and the weekday are restricted, a day matching either
is a slot day.

An empty day, month or weekday is ``*``, as the API documents. An empty minute or hour leaves the
time to the service: the API has dropped both fields (``minute`` and ``hour`` are reserved in
``yandex.cloud.mdb.v1.CronTab``), so a retention policy names the days of its backups, not their
times. Such a slot is the whole day (or, with only the minute empty, the whole hour): a backup at
any time in it is on time, the slot is over when the day is, and the longest wait runs from the
start of one slot to the end of the next. It is shown with ``?`` for what the service picks
(``? ? * * 1``: some time on Mondays).

Pure: no I/O, no clock; every function takes the moment it is asked about.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from apscheduler.triggers.base import BaseTrigger

from bot.cloud.models import RetentionPolicy, SnapshotSchedule, WeekDay
from bot.cron import crontab_trigger, fires_between, last_fire_within, times_of_day
from bot.i18n.catalog import N_, resay

_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
#: How far back a slot day is looked for when the longest wait between slot days does not find
#: one (across a year like 2100 that skips a 29th of February): the longest a day can be away,
#: from 2104-02-28 back to 2096-02-29.
_HORIZON = timedelta(days=2921)
#: The window the longest gap between two slots is measured over. Until 2100 the calendar (its
#: weekdays and leap years) repeats every 28 years, and no gap is longer than four years (a 29th
#: of February to the next), so 2024-01-01..2055-12-31 holds every gap a crontab can have: a
#: shorter window misses some (``0 0 1 1 mon`` waits longest from 2044-01-25, 342 days).
_GAP_FROM = datetime(2024, 1, 1, tzinfo=UTC)
_GAP_TO = _GAP_FROM + timedelta(days=32 * 365 + 7)
#: Most slots :meth:`BackupSchedule.slots_between` returns (an every-minute cron is no schedule
#: to list).
_MAX_SLOTS = 2000
#: Longest policy name shown in a schedule's detail.
_NAME_MAX = 60
#: What a crontab shows for a minute or hour the service picks.
_PICKED = "?"

#: WeekDay of SnapshotSchedule -> cron weekday (0 = Sunday).
_WEEKDAY_NUMBER = {
    WeekDay.SUN: 0,
    WeekDay.MON: 1,
    WeekDay.TUE: 2,
    WeekDay.WED: 3,
    WeekDay.THU: 4,
    WeekDay.FRI: 5,
    WeekDay.SAT: 6,
}


def cron_text(minute: str, hour: str, day_of_month: str, month: str, day_of_week: str) -> str:
    """A crontab as a person reads it: its fields as given, an empty minute or hour as ``?``
    (the service picks it) and an empty day, month or weekday as ``*``."""
    times = (f.strip() or _PICKED for f in (minute, hour))
    days = (f.strip() or "*" for f in (day_of_month, month, day_of_week))
    return " ".join((*times, *days))


@dataclass(frozen=True, slots=True)
class Cron:
    """A five-field crontab, in UTC. ``minute`` and ``hour`` are "" when the service picks them;
    the day fields are never empty (an empty one is ``*``)."""

    minute: str
    hour: str
    day_of_month: str
    month: str
    day_of_week: str

    @classmethod
    def parse(cls, minute: str, hour: str, day_of_month: str, month: str, day_of_week: str) -> Cron:
        """The crontab of these fields; ValueError (saying which field) if one is not one."""
        days = (f.strip() or "*" for f in (day_of_month, month, day_of_week))
        cron = cls(minute.strip(), hour.strip(), *days)
        times_of_day(cron.minute or "0", cron.hour or "0")  # each raises naming its field
        _days(cron.days)
        return cron

    @property
    def days(self) -> tuple[str, str, str]:
        """The day of the month, month and weekday fields."""
        return (self.day_of_month, self.month, self.day_of_week)

    @property
    def text(self) -> str:
        """The crontab as a person reads it (see :func:`cron_text`)."""
        return cron_text(self.minute, self.hour, *self.days)

    @property
    def span(self) -> timedelta:
        """How long a slot lasts: a day when the service picks the hour, an hour when it picks
        only the minute, else no time at all."""
        if not self.hour:
            return _DAY
        return _HOUR if not self.minute else timedelta(0)

    @property
    def times(self) -> tuple[int, ...]:
        """When its slots start in a slot day, as minutes after midnight, ascending."""
        return times_of_day(*_slot_time(self))

    def day_matches(self, day: date) -> bool:
        """Whether ``day`` has slots."""
        midnight = _midnight(day)
        return next(fires_between(_days(self.days), midnight, midnight), None) is not None

    def last_at_or_before(self, at: datetime) -> datetime | None:
        """The start of the latest slot that is over at ``at`` (one that names its minute is
        over at once; the others at the end of their hour or day); None if there is none."""
        at = at.astimezone(UTC) - self.span
        today = _midnight(at.date())
        days, times = self.days, self.times
        day = _last_day(days, today)
        if day == today:
            earlier = bisect.bisect_right(times, at.hour * 60 + at.minute)
            if earlier:
                return day + timedelta(minutes=times[earlier - 1])
            day = _last_day(days, today - _DAY)
        return day + timedelta(minutes=times[-1]) if day is not None else None

    def between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """The starts of the slots in ``[start, end]``, oldest first."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        times = self.times
        for day in _days_between(self.days, _midnight(start.date()), _midnight(end.date())):
            for minute in times:
                slot = day + timedelta(minutes=minute)
                if start <= slot <= end:
                    yield slot

    @property
    def longest_gap(self) -> timedelta | None:
        """The longest wait between two backups each in its slot, one slot after the other;
        None for a crontab that names no day that exists."""
        return _longest_gap(self)


# A crontab's slots are its slot days times its times of day (in UTC, where no day is longer
# than another), and the engine gives both: the days from a trigger that fires at midnight of
# each, the times from one that fires at each time of one day. Asking it for days rather than
# minutes keeps an every-minute crontab, or a longest wait over 28 years, a few calls.


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _slot_time(cron: Cron) -> tuple[str, str]:
    # A slot starts at the time the crontab names, or at the start of the hour or day it spans.
    if not cron.hour:
        return ("0", "0")
    return (cron.minute or "0", cron.hour)


@functools.lru_cache(maxsize=256)
def _days(days: tuple[str, str, str]) -> BaseTrigger:
    """Fires at midnight of every slot day."""
    return crontab_trigger("0", "0", *days, either_day=True)


@functools.lru_cache(maxsize=256)
def _day_gap(days: tuple[str, str, str]) -> timedelta | None:
    """The longest time between two slot days one after the other; None when the days name
    none that exists (the 30th of February)."""
    day_of_month, month, _ = days
    # Any day of any month: the days repeat every week, and two weeks of them hold every gap.
    # Else the 28-year calendar is looked at.
    weekly = day_of_month == "*" and month == "*"
    end = _GAP_FROM + timedelta(days=14) if weekly else _GAP_TO
    found = fires_between(_days(days), _GAP_FROM, end, apart=_DAY)
    return max((b - a for a, b in pairwise(found)), default=None)


@functools.lru_cache(maxsize=1024)
def _days_between(
    days: tuple[str, str, str], first: datetime, last: datetime
) -> tuple[datetime, ...]:
    """The slot days from midnight ``first`` to midnight ``last``. Cached: the windows a sweep
    asks about fall on the same few days."""
    return tuple(fires_between(_days(days), first, last))


@functools.lru_cache(maxsize=4096)
def _last_day(days: tuple[str, str, str], day: datetime) -> datetime | None:
    """The latest slot day at or before ``day`` (a midnight): found within the longest gap
    between slot days, or else within eight years. Cached: a sweep asks it of every cluster
    for the same few days."""
    gap = _day_gap(days)
    if gap is None:
        return None
    trigger = _days(days)
    return last_fire_within(trigger, day - gap, day) or last_fire_within(
        trigger, day - _HORIZON, day
    )


@functools.lru_cache(maxsize=256)
def _longest_gap(cron: Cron) -> timedelta | None:
    gap = _day_gap(cron.days)
    if gap is None:
        return None
    times, minute = cron.times, timedelta(minutes=1)
    # From the last slot of one slot day to the first of the next, or between two in a day.
    across = gap + (times[0] - times[-1]) * minute
    return max([across, *((b - a) * minute for a, b in pairwise(times))]) + cron.span


# --- a cluster's schedule ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackupSchedule:
    """When a cluster's backups are due, and the longest wait between two of them."""

    #: "snapshot" (the cluster's snapshotManagement) or "policy" (its retention policies).
    source: str
    #: For a person: "hourly", "daily at 03:00 UTC", "retention policy nightly (0 3 * * *)".
    detail: str
    period: timedelta
    #: The crontabs of its slots; empty when the slots themselves are not known (a weekly
    #: schedule on an unspecified day).
    crons: tuple[Cron, ...] = ()

    def last_slot(self, at: datetime) -> datetime | None:
        """The start of the latest slot over at ``at`` (see :meth:`Cron.last_at_or_before`), or
        None when the slots are not known."""
        slots = [s for c in self.crons if (s := c.last_at_or_before(at)) is not None]
        return max(slots) if slots else None

    def slots_between(self, start: datetime, end: datetime) -> list[datetime]:
        """The slots in ``[start, end]`` whose time is known, oldest first (at most a couple of
        thousand). A slot whose hour or minute the service picks has no moment to list."""
        found: set[datetime] = set()
        for cron in self.crons:
            if cron.span:
                continue
            for slot in cron.between(start, end):
                found.add(slot)
                if len(found) >= _MAX_SLOTS:
                    break
        return sorted(found)


#: A schedule as a person reads it. The detail is kept (and stored with an incident) in the
#: source language; :func:`say_schedule` says it in the current locale.
HOURLY = N_("hourly")
DAILY = N_("daily at {time} UTC")
WEEKLY = N_("weekly at {time} UTC")
WEEKLY_ON = N_("weekly on {day} at {time} UTC")
POLICY = N_("retention policy {name} ({cron})")
POLICY_AND_MORE = N_("retention policy {name} ({cron}) and {n} more")
_SCHEDULES = (HOURLY, DAILY, WEEKLY_ON, WEEKLY, POLICY_AND_MORE, POLICY)


def say_schedule(detail: str) -> str:
    """A schedule's detail (``daily at 03:00 UTC``) in the current locale (``ежедневно в 03:00
    UTC``); a detail of no known shape as it is."""
    return resay(detail, _SCHEDULES)


def snapshot_schedule(schedule: SnapshotSchedule | None) -> BackupSchedule | None:
    """The schedule of a cluster's ``snapshotManagement``; None when it has none."""
    if schedule is None:
        return None
    if (hourly := schedule.hourly_snapshot_schedule) is not None:
        crons = _crons(str(hourly.minute), "*", "*")
        return BackupSchedule("snapshot", HOURLY, timedelta(hours=1), crons)
    if (daily := schedule.daily_snapshot_schedule) is not None:
        at = f"{daily.hour:02d}:{daily.minute:02d}"
        crons = _crons(str(daily.minute), str(daily.hour), "*")
        return BackupSchedule("snapshot", DAILY.format(time=at), _DAY, crons)
    if (weekly := schedule.weekly_snapshot_schedule) is not None:
        at = f"{weekly.hour:02d}:{weekly.minute:02d}"
        known = weekly.day != WeekDay.WEEK_DAY_UNSPECIFIED
        said = WEEKLY_ON.format(day=weekly.day.value, time=at) if known else WEEKLY.format(time=at)
        number = _WEEKDAY_NUMBER.get(weekly.day)
        crons = (
            _crons(str(weekly.minute), str(weekly.hour), str(number)) if number is not None else ()
        )
        return BackupSchedule("snapshot", said, timedelta(days=7), crons)
    return None


@functools.lru_cache(maxsize=1024)
def _parsed(minute: str, hour: str, day: str, month: str, weekday: str) -> Cron | None:
    # A fleet has few distinct schedules: 1,000 clusters share a few dozen crontabs.
    try:
        return Cron.parse(minute, hour, day, month, weekday)
    except ValueError:
        return None


def _crons(minute: str, hour: str, weekday: str) -> tuple[Cron, ...]:
    # A minute or hour out of range: the period still holds, the slots do not.
    cron = _parsed(minute, hour, "*", "*", weekday)
    return (cron,) if cron is not None else ()


def policy_cron(policy: RetentionPolicy) -> Cron | None:
    """The crontab of a retention policy, or None when it has none that can be read."""
    if policy.cron is None:
        return None
    tab = policy.cron
    return _parsed(tab.minute, tab.hour, tab.day_of_month, tab.month, tab.day_of_week)


def policy_schedule(policies: Iterable[RetentionPolicy]) -> BackupSchedule | None:
    """The schedule the retention policies make together: a backup at every slot of any of
    them; the longest wait is that of the most frequent one. None when no policy has a crontab
    that can be read."""
    found: list[tuple[timedelta, str, Cron]] = []
    for policy in policies:
        cron = policy_cron(policy)
        gap = cron.longest_gap if cron is not None else None
        if cron is None or gap is None:
            continue
        name = policy.policy_name or policy.policy_id or "(unnamed)"
        if len(name) > _NAME_MAX:
            name = name[: _NAME_MAX - 1] + "…"
        found.append((gap, name, cron))
    if not found:
        return None
    found.sort(key=lambda item: (item[0], item[1]))
    gap, name, cron = found[0]
    more = len(found) - 1
    detail = (
        POLICY_AND_MORE.format(name=name, cron=cron.text, n=more)
        if more
        else POLICY.format(name=name, cron=cron.text)
    )
    return BackupSchedule("policy", detail, gap, tuple(c for _, _, c in found))
