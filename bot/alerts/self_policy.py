"""The bot's own incidents, as a small state machine next to the alerts': closed -> open -> closed.

Two kinds, each one row in the store (:class:`~bot.alerts.model.BotIncident`):

* ``blind``: the cloud could not be read for ``blind_after`` sweeps in a row. Until it can, no
  stale backup is noticed, so the bot says so once, and says when it can see again.
* ``channel:<id>``: Slack refuses the bot's posts to a channel (not invited, archived). Its alerts
  and digests wait; the bot says so once in its other channels, and when the channel works again.

Pure: each function takes the stored incident (or None), what happened and ``now``, and returns
the next incident and what to announce.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from bot.alerts.model import BotIncident, BotIncidentStatus

BLIND = "blind"
CHANNEL_PREFIX = "channel:"


def channel_key(channel: str) -> str:
    """The incident key of a channel that refuses the bot."""
    return CHANNEL_PREFIX + channel


class Announce(enum.StrEnum):
    NOTHING = "nothing"
    OPENED = "opened"  # post a notice to each channel
    CLOSED = "closed"  # reply in the thread of each notice posted


@dataclass(frozen=True, slots=True)
class SelfDecision:
    incident: BotIncident
    announce: Announce = Announce.NOTHING
    changed: bool = False  # the incident must be saved


def evaluate_blind(
    incident: BotIncident | None,
    *,
    can_see: bool,
    failures: int,
    blind_after: int,
    last_ok: datetime | None,
    reason: str,
    now: datetime,
) -> SelfDecision:
    """After a sweep: ``can_see`` whether it read the cloud, ``failures`` the sweeps in a row
    that could not. Opens after ``blind_after`` failures (once), closes on the first sweep that
    sees. Blind since the last sweep that could see, or since now if none ever did."""
    current = incident or BotIncident(key=BLIND)
    if can_see:
        if not current.is_open:
            return SelfDecision(current)
        closed = replace(current, status=BotIncidentStatus.CLOSED)
        return SelfDecision(closed, Announce.CLOSED, changed=True)
    if current.is_open:
        if current.detail != reason:
            return SelfDecision(replace(current, detail=reason), changed=True)
        return SelfDecision(current)
    if failures < blind_after:
        return SelfDecision(current)
    opened = replace(
        current,
        status=BotIncidentStatus.OPEN,
        since=last_ok or now,
        detail=reason,
        messages=(),
    )
    return SelfDecision(opened, Announce.OPENED, changed=True)


def evaluate_channel(
    incident: BotIncident | None, channel: str, *, refused: str | None, now: datetime
) -> SelfDecision:
    """A channel refused the bot with the code ``refused``, or (None) took a post again."""
    current = incident or BotIncident(key=channel_key(channel))
    if refused is None:
        if not current.is_open:
            return SelfDecision(current)
        closed = replace(current, status=BotIncidentStatus.CLOSED)
        return SelfDecision(closed, Announce.CLOSED, changed=True)
    if current.is_open:
        return SelfDecision(current)
    opened = replace(current, status=BotIncidentStatus.OPEN, since=now, detail=refused, messages=())
    return SelfDecision(opened, Announce.OPENED, changed=True)
