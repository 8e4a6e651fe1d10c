"""Durations as people type them: ``90m``, ``26h``, ``7d``, ``1h30m``, ``45s``, ``2w``."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.i18n.catalog import _

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d{1,6})([smhdw])")
_WHOLE = re.compile(r"(?:\d{1,6}[smhdw])+")


class ZeroDuration(ValueError):
    """A duration that adds up to nothing (``0m``)."""


def parse_duration(text: str) -> timedelta:
    """Parse ``"26h"``-style text. Raises ValueError with a message a person understands (in the
    current locale), ZeroDuration for one that adds up to nothing."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or not _WHOLE.fullmatch(cleaned):
        raise ValueError(
            _("{value} is not a duration; write a number and a unit, like 90m, 26h or 7d").format(
                value=repr(text)
            )
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(cleaned))
    if seconds <= 0:
        raise ZeroDuration(
            _("{value} is zero; a duration must be positive").format(value=repr(text))
        )
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta, *, parts: int = 2) -> str:
    """Render a duration for people, largest units first: ``1d 4h``, ``35m``, ``0s``."""
    total = int(abs(delta.total_seconds()))
    out: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out.append(f"{total // size}{unit}")
            total %= size
        if len(out) == parts:
            break
    text = " ".join(out) or "0s"
    return f"-{text}" if delta.total_seconds() < 0 else text
