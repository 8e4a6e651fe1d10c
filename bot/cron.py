"""The one cron engine: five-field crontab schedules as APScheduler 3 triggers, and the fire times
they make. The digests' and reports' schedules, the check of the config, and the slots of the
cloud's snapshot schedules and retention policies all read crontabs here.

crontab counts weekday 0 (and 7) as Sunday and 1 as Monday; APScheduler 3 counts 0 as Monday. So
weekdays are translated to names before APScheduler sees them (:func:`crontab_weekdays`).

A day of the month and a weekday that are both restricted are read in one of two ways, chosen by
the caller: the bot's own schedules need both to match, as APScheduler reads them and as the
config documents (``0 10 1-7 * mon`` is the first Monday of the month); the cloud's crontabs are
read as cron reads them, where a day matching either is a day of the schedule
(``either_day=True``).

APScheduler counts years from 1970: fire times before it are not known here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
#: A weekday item APScheduler reads as crontab does: ``*``, a day's name, or a range of names
#: that does not start on Sunday (crontab counts Sunday first, APScheduler last).
_AS_IS = re.compile(r"\*|sun|(mon|tue|wed|thu|fri|sat)(-(sun|mon|tue|wed|thu|fri|sat))?")
#: The five fields: APScheduler's name for each and the name a person reads in a refusal.
_FIELDS = (
    ("minute", "minute"),
    ("hour", "hour"),
    ("day", "day of month"),
    ("month", "month"),
    ("day_of_week", "weekday"),
)
_TICK = timedelta(microseconds=1)


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field in APScheduler 3's terms.

    crontab counts 0 (and 7) as Sunday and 1 as Monday; APScheduler 3 counts 0 as Monday. Items
    (``1-5``, ``0,6``, ``*/2``, ``1-5/2``, ``sun-wed``, ``mon-fri/2``) become weekday names;
    ``*``, names and ranges of names that mean the same in both (``mon-fri``, ``sat-sun``) are
    kept. A range that ends on Sunday runs to the end of the week, as ``6-7`` does.
    """
    out: list[str] = []
    for item in field.lower().split(","):
        if _AS_IS.fullmatch(item):
            out.append(item)
            continue
        base, _, step_text = item.partition("/")
        if base == "*":
            first, last = 0, 6
        else:
            low, _, high = base.partition("-")
            first = _weekday_number(low, end=False)
            last = _weekday_number(high, end=True) if high else (6 if step_text else first)
            if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last):
                raise ValueError(f"{item!r} is outside 0-7")
        step = int(step_text) if step_text.isdigit() else (0 if step_text else 1)
        if step <= 0:
            raise ValueError(f"the step of {item!r} is not a positive number")
        out.extend(_WEEKDAYS[day % 7] for day in range(first, last + 1, step))
    return ",".join(dict.fromkeys(out))


def _weekday_number(text: str, *, end: bool) -> int:
    if text in _WEEKDAYS:
        number = _WEEKDAYS.index(text)
        return 7 if end and number == 0 else number
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a number or a day's name")
    return int(text)


def crontab_trigger(
    minute: str,
    hour: str,
    day: str,
    month: str,
    weekday: str,
    tz: str | tzinfo = UTC,
    *,
    either_day: bool = False,
) -> BaseTrigger:
    """The trigger of a crontab in time zone ``tz`` (UTC unless said); ValueError, naming the
    field, if a field is not one. With ``either_day``, a restricted day of the month and a
    restricted weekday match either, as cron reads them; without it, both must match."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    fields: dict[str, str] = {}
    for (key, label), value in zip(_FIELDS, (minute, hour, day, month, weekday), strict=True):
        try:
            text = value.strip()
            fields[key] = crontab_weekdays(text) if key == "day_of_week" else text
            CronTrigger(timezone=zone, **{key: fields[key]})
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None
    if either_day and day.strip() != "*" and weekday.strip() != "*":
        by_day = CronTrigger(timezone=zone, **{**fields, "day_of_week": "*"})
        by_weekday = CronTrigger(timezone=zone, **{**fields, "day": "*"})
        return OrTrigger([by_day, by_weekday])
    return CronTrigger(timezone=zone, **fields)


def cron_trigger(schedule: str, tz: str | tzinfo) -> BaseTrigger:
    """The trigger of a five-field crontab ``schedule`` of the config in time zone ``tz``."""
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"{schedule!r} is not a cron schedule: five fields are needed")
    minute, hour, day, month, weekday = fields
    return crontab_trigger(minute, hour, day, month, weekday, tz)


def first_fire_after(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first time strictly after ``after`` that ``trigger`` fires."""
    fire: datetime | None = trigger.get_next_fire_time(None, after + _TICK)
    return fire


def fires_between(
    trigger: BaseTrigger, start: datetime, end: datetime, *, apart: timedelta = _TICK
) -> Iterator[datetime]:
    """The times in ``[start, end]`` that ``trigger`` fires, the earliest first. The next fire
    is looked for ``apart`` after the one before: a trigger that fires once a day at most may
    skip to the next day, which the engine finds faster."""
    fire: datetime | None = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end:
        yield fire
        fire = trigger.get_next_fire_time(None, fire + apart)


def last_fire_within(
    trigger: BaseTrigger, start: datetime, end: datetime, *, apart: timedelta = _TICK
) -> datetime | None:
    """The last time in ``[start, end]`` that ``trigger`` fires; None when it does not fire in
    it. It steps through every fire time in between (see :func:`fires_between` for ``apart``):
    keep the window short."""
    last = None
    for fire in fires_between(trigger, start, end, apart=apart):
        last = fire
    return last


@functools.lru_cache(maxsize=2048)  # a fleet's daily schedules: at most 1,440 times of day
def times_of_day(minute: str, hour: str) -> tuple[int, ...]:
    """The fire times of a crontab's ``minute`` and ``hour`` fields in one day, as minutes after
    midnight, ascending; ValueError, naming the field, if one is not one."""
    trigger = crontab_trigger(minute, hour, "*", "*", "*")
    day = datetime(2024, 1, 1, tzinfo=UTC)
    fires = fires_between(trigger, day, day + timedelta(days=1) - _TICK)
    return tuple(fire.hour * 60 + fire.minute for fire in fires)
