"""Five-field crontab schedules, read the way crontab reads them, as APScheduler 3 triggers.

crontab counts weekday 0 (and 7) as Sunday and 1 as Monday; APScheduler 3 counts 0 as Monday. So
numeric weekdays are translated to names before APScheduler sees them, in one place, used both to
validate the config and to schedule the digests.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field in APScheduler 3's terms.

    crontab counts 0 (and 7) as Sunday and 1 as Monday; APScheduler 3 counts 0 as Monday. Numeric
    items (``1-5``, ``0,6``, ``*/2``, ``1-5/2``) become weekday names; names and ``*`` are kept.
    """
    out: list[str] = []
    for item in field.split(","):
        base, _, step_text = item.partition("/")
        if base == "*" and not step_text:
            out.append(item)
            continue
        if base == "*":
            first, last = 0, 6
        else:
            low, _, high = base.partition("-")
            if not (low.isdigit() and (not high or high.isdigit())):
                out.append(item)  # names (mon-fri) mean the same in both
                continue
            first = int(low)
            last = int(high) if high else (6 if step_text else first)
            if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last):
                raise ValueError(f"weekday {item!r} is out of range 0-7")
        step = int(step_text) if step_text else 1
        if step <= 0:
            raise ValueError(f"weekday step in {item!r} must be positive")
        out.extend(_WEEKDAYS[day % 7] for day in range(first, last + 1, step))
    return ",".join(dict.fromkeys(out))


def cron_trigger(schedule: str, tz: str | ZoneInfo) -> CronTrigger:
    """An APScheduler trigger for a five-field crontab ``schedule`` in time zone ``tz``."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"{schedule!r} is not a cron schedule: five fields are needed")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_weekdays(weekday),
        timezone=zone,
    )
