"""Numbers for people: byte sizes in binary units, signed changes, durations, ages and times.

Pure functions of plain values. Times are formatted in UTC because the console, logs and the
plain-text fallback have no viewer time zone (Slack blocks use ``<!date^...>`` for that).

``format_bytes``/``format_signed_bytes``/``format_signed`` (ASCII signs) serve the digest and
alerts; ``human_bytes``/``signed_bytes`` are the same sizes with a typographic minus.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.durations import format_duration
from bot.i18n.catalog import _

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")

#: The typographic minus, so that "−3 GiB" never reads as a hyphenated word.
MINUS = "\u2212"


def format_bytes(size: int) -> str:
    """``0 B``, ``512 B``, ``1.5 KiB``, ``12.3 GiB``: three significant digits at most."""
    if size < 0:
        return "-" + format_bytes(-size)
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in _UNITS[1:]:
        value /= 1024
        text = _three_digits(value)
        # 1023.9 KiB rounds to "1024"; say "1 MiB" instead.
        if float(text) < 1024 or unit == _UNITS[-1]:
            return f"{text} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def _three_digits(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    text = f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return text.rstrip("0").rstrip(".")


def format_signed_bytes(delta: int) -> str:
    """``+1.5 GiB``, ``-300 MiB``, ``±0 B``."""
    if delta == 0:
        return "±0 B"
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
        return "±0 B"
    return ("+" if n > 0 else MINUS) + format_bytes(abs(n))


def human_duration(seconds: float | timedelta | None, *, parts: int = 2) -> str:
    """``42s``, ``5m 12s``, ``1h 5m``, ``2d 3h``; ``—`` when unknown."""
    if seconds is None:
        return "—"
    delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
    return format_duration(delta, parts=parts)


def human_age(when: datetime | None, now: datetime) -> str:
    """How long ago: ``3h 5m ago``, ``just now``; a time after ``now`` reads ``in 5m``."""
    if when is None:
        return "—"
    delta = now - when
    if abs(delta) < timedelta(minutes=1):
        return _("just now")
    if delta < timedelta(0):
        return _("in {duration}").format(duration=format_duration(-delta))
    return _("{duration} ago").format(duration=format_duration(delta))


def utc_time(when: datetime | None) -> str:
    """``2024-05-01 03:00 UTC``; ``—`` when unknown."""
    if when is None:
        return "—"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
