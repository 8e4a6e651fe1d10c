"""When a cluster's backups are due: its snapshot schedule, or its backup retention policies'
crontabs, as one :class:`BackupSchedule` with slots in UTC.

A crontab is read the way cron reads one (:class:`Cron`): five fields of numbers, ``*``, ranges,
steps and lists; month and weekday names; weekday 0 and 7 are Sunday; when both the day of the
month and the weekday are restricted, a day matching either is a slot day. Pure: no I/O, no
clock; every function takes the moment it is asked about.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.cloud.models import RetentionPolicy, SnapshotSchedule, WeekDay

_DAY = timedelta(days=1)
#: How far back (or ahead) a slot is looked for: eight years hold every day a crontab can name
#: (the 29th of February included).
_HORIZON_DAYS = 8 * 366
#: The window the longest gap between two slots is measured over. Until 2100 the calendar (its
#: weekdays and leap years) repeats every 28 years, and no gap is longer than four years (a 29th
#: of February to the next), so 2024-01-01..2055-12-31 holds every gap a crontab can have: a
#: shorter window misses some (``0 0 1 1 mon`` waits longest from 2044-01-25, 342 days).
_GAP_FROM = date(2024, 1, 1)
_GAP_DAYS = 32 * 365 + 8
#: Most slots :meth:`BackupSchedule.slots_between` returns (an every-minute cron is no schedule
#: to list).
_MAX_SLOTS = 2000
#: Longest policy name shown in a schedule's detail.
_NAME_MAX = 60

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
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


def _field(
    text: str, low: int, high: int, names: Sequence[str] = ()
) -> tuple[frozenset[int], bool]:
    """The values of one crontab field, and whether it was ``*`` (no restriction)."""
    text = text.strip().lower()
    if not text:
        raise ValueError("an empty field")
    values: set[int] = set()

    def number(item: str) -> int:
        if item in names:
            return names.index(item) + (low if low == 1 else 0)
        if not item.isdigit():
            raise ValueError(f"{item!r} is not a number")
        return int(item)

    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{item!r} has no positive step")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = number(a), number(b)
        else:
            first = number(base)
            last = high if slash else first
        if not (low <= first <= high and low <= last <= high) or first > last:
            raise ValueError(f"{item!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values), text == "*"


@dataclass(frozen=True, slots=True)
class Cron:
    """A five-field crontab, in UTC."""

    text: str
    times: tuple[int, ...]  # minutes after midnight of the slots of a slot day, ascending
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, minute: str, hour: str, day_of_month: str, month: str, day_of_week: str) -> Cron:
        """The crontab of these fields; ValueError (saying which field) if one is not one.

        An empty day, month or weekday is ``*``, as the API's CronTab documents; an empty minute
        or hour is refused (the API leaves its meaning to the engine, so nothing is assumed).
        """
        try:
            minutes, _ = _field(minute, 0, 59)
        except ValueError as exc:
            raise ValueError(f"minute: {exc}") from None
        try:
            hours, _ = _field(hour, 0, 23)
        except ValueError as exc:
            raise ValueError(f"hour: {exc}") from None
        try:
            days, any_day = _field(day_of_month or "*", 1, 31)
        except ValueError as exc:
            raise ValueError(f"day of month: {exc}") from None
        try:
            months, _ = _field(month or "*", 1, 12, _MONTHS)
        except ValueError as exc:
            raise ValueError(f"month: {exc}") from None
        try:
            weekdays, any_weekday = _field(day_of_week or "*", 0, 7, _WEEKDAYS)
        except ValueError as exc:
            raise ValueError(f"weekday: {exc}") from None
        text = " ".join(f.strip() or "*" for f in (minute, hour, day_of_month, month, day_of_week))
        return cls(
            text=text,
            times=tuple(sorted(h * 60 + m for h in hours for m in minutes)),
            days=days,
            months=months,
            weekdays=frozenset(d % 7 for d in weekdays),
            any_day=any_day,
            any_weekday=any_weekday,
        )

    def day_matches(self, day: date) -> bool:
        """Whether ``day`` has slots."""
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = day.isoweekday() % 7 in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return by_weekday
        if self.any_weekday:
            return by_day
        return by_day or by_weekday

    def last_at_or_before(self, at: datetime) -> datetime | None:
        """The latest slot at or before ``at``; None if there is none in eight years."""
        at = at.astimezone(UTC)
        today = at.date()
        now_minute = at.hour * 60 + at.minute
        for back in range(_HORIZON_DAYS):
            day = today - timedelta(days=back)
            if not self.day_matches(day):
                continue
            times = self.times if back else [t for t in self.times if t <= now_minute]
            if times:
                return _at(day, times[-1])
        return None

    def between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """The slots in ``[start, end]``, oldest first."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        day = start.date()
        while day <= end.date():
            if self.day_matches(day):
                for minute in self.times:
                    slot = _at(day, minute)
                    if start <= slot <= end:
                        yield slot
            day += _DAY

    @property
    def longest_gap(self) -> timedelta | None:
        """The longest time between two slots one after the other; None for a crontab that
        names no day that exists."""
        return _longest_gap(self)


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=UTC)


@functools.lru_cache(maxsize=256)
def _longest_gap(cron: Cron) -> timedelta | None:
    if not cron.times:
        return None
    within = max((b - a for a, b in zip(cron.times, cron.times[1:], strict=False)), default=0)
    previous: date | None = None
    longest = within if len(cron.times) > 1 else 0
    for offset in range(_GAP_DAYS):
        day = _GAP_FROM + timedelta(days=offset)
        if not cron.day_matches(day):
            continue
        if previous is not None:
            across = (day - previous).days * 1440 + cron.times[0] - cron.times[-1]
            longest = max(longest, across)
        previous = day
    # A day a crontab names comes 32 times in the window, or 8 (the 29th of February): never
    # just once. None is a crontab of days that do not exist (the 30th of February).
    if previous is None:
        return None
    return timedelta(minutes=longest)


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
        """The latest slot at or before ``at``, or None when the slots are not known."""
        slots = [s for c in self.crons if (s := c.last_at_or_before(at)) is not None]
        return max(slots) if slots else None

    def slots_between(self, start: datetime, end: datetime) -> list[datetime]:
        """The slots in ``[start, end]``, oldest first (at most a couple of thousand)."""
        found: set[datetime] = set()
        for cron in self.crons:
            for slot in cron.between(start, end):
                found.add(slot)
                if len(found) >= _MAX_SLOTS:
                    break
        return sorted(found)


def snapshot_schedule(schedule: SnapshotSchedule | None) -> BackupSchedule | None:
    """The schedule of a cluster's ``snapshotManagement``; None when it has none."""
    if schedule is None:
        return None
    if (hourly := schedule.hourly_snapshot_schedule) is not None:
        crons = _crons(str(hourly.minute), "*", "*")
        return BackupSchedule("snapshot", "hourly", timedelta(hours=1), crons)
    if (daily := schedule.daily_snapshot_schedule) is not None:
        at = f"{daily.hour:02d}:{daily.minute:02d} UTC"
        crons = _crons(str(daily.minute), str(daily.hour), "*")
        return BackupSchedule("snapshot", f"daily at {at}", _DAY, crons)
    if (weekly := schedule.weekly_snapshot_schedule) is not None:
        at = f"{weekly.hour:02d}:{weekly.minute:02d} UTC"
        known = weekly.day != WeekDay.WEEK_DAY_UNSPECIFIED
        on = f" on {weekly.day.value}" if known else ""
        number = _WEEKDAY_NUMBER.get(weekly.day)
        crons = (
            _crons(str(weekly.minute), str(weekly.hour), str(number)) if number is not None else ()
        )
        return BackupSchedule("snapshot", f"weekly{on} at {at}", timedelta(days=7), crons)
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
    more = f" and {len(found) - 1} more" if len(found) > 1 else ""
    detail = f"retention policy {name} ({cron.text}){more}"
    return BackupSchedule("policy", detail, gap, tuple(c for _, _, c in found))
