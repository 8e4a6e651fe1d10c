"""Numbers for people: byte sizes in binary units, signed changes, durations, ages and times.

Pure functions of plain values, in the current locale (:func:`bot.i18n.catalog.use_locale`):
Babel writes the decimal separator (``1.5 GiB``, ``1,5 ГиБ``), the days of a date (``Wed 2 Dec
2026``, ``ср 2 дек. 2026``) and the units of a duration (``2d 19m``, ``2 д 19 мин``, from CLDR's
narrow units); the byte units are catalog messages (``{size} GiB``). English reads exactly as it
did before there was a locale. Times are formatted in UTC because the console, logs and the
plain-text fallback have no viewer time zone (Slack blocks use ``<!date^...>`` for that).

``format_bytes``/``format_signed_bytes``/``format_signed`` (ASCII signs) serve the digest and
alerts; ``human_bytes``/``signed_bytes`` are the same sizes with a typographic minus.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from bot.durations import format_duration
from bot.i18n.catalog import N_, SOURCE_LOCALE, _, current_locale

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
#: A size in each unit, as the catalog says it (Russian: ``{size} ГиБ``).
_SIZES = {
    "B": N_("{size} B"),
    "KiB": N_("{size} KiB"),
    "MiB": N_("{size} MiB"),
    "GiB": N_("{size} GiB"),
    "TiB": N_("{size} TiB"),
    "PiB": N_("{size} PiB"),
    "EiB": N_("{size} EiB"),
}
#: CLDR's units of a duration, largest first, with their length in seconds.
_DURATION_UNITS = (
    ("duration-day", 86400),
    ("duration-hour", 3600),
    ("duration-minute", 60),
    ("duration-second", 1),
)


@cache
def _babel(locale: str) -> Locale:
    """Babel's data for ``locale``; the source language's for one Babel does not know."""
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(SOURCE_LOCALE)


def number(text: str) -> str:
    """A decimal written in Python's way (``1.5``) in the current locale's (``1,5``); digits
    are never grouped (``1023``), so that English reads as it always has."""
    locale = current_locale()
    if locale == SOURCE_LOCALE:
        return text
    return format_decimal(Decimal(text), locale=_babel(locale), group_separator=False)


def _size(text: str, unit: str) -> str:
    return _(_SIZES[unit]).format(size=number(text))


def say_duration(delta: timedelta, *, parts: int = 2) -> str:
    """A duration for people, largest units first: ``1d 4h``, ``35m``, ``0s``; in Russian
    ``1 д 4 ч``, ``35 мин``, ``0 с`` (CLDR's narrow units, without their abbreviation dot).
    The typed form (:func:`bot.durations.format_duration`) is the source language's."""
    locale = current_locale()
    if locale == SOURCE_LOCALE:
        return format_duration(delta, parts=parts)
    total = int(abs(delta.total_seconds()))
    counts: list[tuple[int, str]] = []
    for unit, size in _DURATION_UNITS:
        if total >= size:
            counts.append((total // size, unit))
            total %= size
        if len(counts) == parts:
            break
    babel = _babel(locale)
    words = [
        format_unit(str(n), unit, length="narrow", locale=babel).removesuffix(".")
        for n, unit in counts or [(0, "duration-second")]
    ]
    text = " ".join(words)
    return f"-{text}" if delta.total_seconds() < 0 else text


def day(when: date) -> str:
    """A day with its weekday: ``Wed 2 Dec 2026``, ``ср 2 дек. 2026``."""
    return format_date(when, "EEE d MMM y", locale=_babel(current_locale()))


def percent(ratio: float) -> str:
    """``40%``; ``40 %`` in Russian."""
    locale = current_locale()
    if locale == SOURCE_LOCALE:
        return f"{ratio:.0%}"
    return format_percent(round(ratio, 2), locale=_babel(locale))


#: The typographic minus, so that "−3 GiB" never reads as a hyphenated word.
MINUS = "\u2212"


def format_bytes(size: int) -> str:
    """``0 B``, ``512 B``, ``1.5 KiB``, ``12.3 GiB``: three significant digits at most."""
    if size < 0:
        return "-" + format_bytes(-size)
    if size < 1024:
        return _size(str(size), "B")
    value = float(size)
    for unit in _UNITS[1:]:
        value /= 1024
        text = _three_digits(value)
        # 1023.9 KiB rounds to "1024"; say "1 MiB" instead.
        if float(text) < 1024 or unit == _UNITS[-1]:
            return _size(text, unit)
    raise AssertionError("unreachable")  # pragma: no cover


def _three_digits(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    text = f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return text.rstrip("0").rstrip(".")


def format_signed_bytes(delta: int) -> str:
    """``+1.5 GiB``, ``-300 MiB``, ``±0 B``."""
    if delta == 0:
        return "±" + _size("0", "B")
    sign = "+" if delta > 0 else "-"
    return sign + format_bytes(abs(delta))


def format_signed(delta: int) -> str:
    """``+3``, ``-2``, ``±0``."""
    if delta == 0:
        return "±0"
    return f"{delta:+d}"


def human_bytes(n: int) -> str:
    """``0 B``, ``512 B``, ``1.5 GiB``, ``123 GiB``; a negative size gets a typographic minus."""
    if n < 0:
        return MINUS + format_bytes(-n)
    return format_bytes(n)


def signed_bytes(n: int) -> str:
    """A size change: ``+120 MiB``, ``−3 GiB``, ``±0 B``."""
    if n == 0:
        return "±" + _size("0", "B")
    return ("+" if n > 0 else MINUS) + format_bytes(abs(n))


def human_duration(seconds: float | timedelta | None, *, parts: int = 2) -> str:
    """``42s``, ``5m 12s``, ``1h 5m``, ``2d 3h``; ``—`` when unknown."""
    if seconds is None:
        return "—"
    delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
    return say_duration(delta, parts=parts)


def human_age(when: datetime | None, now: datetime) -> str:
    """How long ago: ``3h 5m ago``, ``just now``; a time after ``now`` reads ``in 5m``."""
    if when is None:
        return "—"
    delta = now - when
    if abs(delta) < timedelta(minutes=1):
        return _("just now")
    if delta < timedelta(0):
        return _("in {duration}").format(duration=say_duration(-delta))
    return _("{duration} ago").format(duration=say_duration(delta))


def utc_time(when: datetime | None) -> str:
    """``2024-05-01 03:00 UTC``; ``—`` when unknown."""
    if when is None:
        return "—"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
