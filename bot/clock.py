"""The one clock. Everything that needs "now" calls :func:`now` once and hands the value down;
tests move it with freezegun."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)
