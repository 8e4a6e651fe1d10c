"""The values the store's outbox methods take and give: a change to commit at once, a queued
post as stored, and a parked channel.

A :class:`Change` is everything one decision writes: incidents (each saved only if nobody saved
it since it was read), a grouped alert, the bot's own incidents, the posts the change calls for,
digest figures, a run to finish, what a sweep saw for the freshness ledger.
:meth:`bot.store.Store.commit` writes it in one transaction or
not at all, so a crash leaves either nothing or a state with its messages queued.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.alerts.model import AlertEntry, AlertGroup, BotIncident, CoverageEntry
from bot.digest.model import ClusterFigures
from bot.drills.model import DrillRecord
from bot.ledger.model import Observation
from bot.outbox.posts import Method, OutboundPost, PostKind


class OutboxState:
    """The states of a queued post (strings, as stored)."""

    PENDING = "pending"
    SENDING = "sending"  # an attempt started; a crash here leaves the post in doubt
    SENT = "sent"
    FAILED = "failed"  # given up (refused for good); logged and counted
    SUPERSEDED = "superseded"  # an update overtaken by a newer one of the same message

    OPEN = (PENDING, SENDING)
    DONE = (SENT, FAILED, SUPERSEDED)


@dataclass(frozen=True, slots=True)
class RunFinish:
    """Finish the claimed run ``key`` of ``owner`` in the same transaction (else roll back)."""

    key: str
    owner: str
    now: datetime


@dataclass(frozen=True, slots=True)
class OperationFinish:
    """Mark a started backup done with ``outcome`` in the same transaction."""

    operation_id: str
    outcome: str
    now: datetime


@dataclass(slots=True)
class Change:
    """What one decision writes, all at once (see the module docstring)."""

    alerts: list[AlertEntry] = field(default_factory=list)
    groups: list[AlertGroup] = field(default_factory=list)
    incidents: list[BotIncident] = field(default_factory=list)
    posts: list[OutboundPost] = field(default_factory=list)
    figures: tuple[str, list[ClusterFigures]] | None = None
    finish_run: RunFinish | None = None
    finish_operation: OperationFinish | None = None
    markers: dict[str, datetime] = field(default_factory=dict)
    #: What a read of the fleet saw, for the freshness ledger (written with the sweep's state).
    ledger: tuple[Observation, ...] = ()
    #: A drill's result, written only if nobody reported it first (else roll back).
    finish_drill: DrillRecord | None = None
    #: Clusters the bot starts or stops watching, saved with the posts that say so.
    coverage: list[CoverageEntry] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.alerts
            or self.groups
            or self.incidents
            or self.posts
            or self.figures is not None
            or self.finish_run is not None
            or self.finish_operation is not None
            or self.markers
            or self.ledger
            or self.finish_drill is not None
            or self.coverage
        )


@dataclass(frozen=True, slots=True)
class Committed:
    """What :meth:`bot.store.Store.commit` saved, with the versions to pass to the next save."""

    alerts: tuple[AlertEntry, ...] = ()
    groups: tuple[AlertGroup, ...] = ()
    incidents: tuple[BotIncident, ...] = ()


@dataclass(frozen=True, slots=True)
class QueuedPost:
    """A post as the outbox holds it, with what the executor needs to send it."""

    seq: int
    id: str
    kind: PostKind
    channel: str
    payload: dict[str, Any]
    parent_id: str | None
    parent_ts: str | None
    subject: str
    state: str
    attempts: int
    created_at: datetime
    not_before: datetime
    first_sent_at: datetime | None
    in_doubt: bool
    text_only: bool
    ts: str | None
    error: str | None
    #: The parent's (thread parent or updated message) state and ts, when it is in the outbox.
    parent_state: str | None = None
    parent_sent_ts: str | None = None

    @property
    def method(self) -> Method:
        return Method.UPDATE if self.kind.is_update else Method.POST

    @property
    def target_ts(self) -> str | None:
        """The ts of the thread parent (a post) or of the message to replace (an update)."""
        return self.parent_ts or self.parent_sent_ts

    def describe(self) -> str:
        what = self.kind.value.replace("_", " ")
        about = f" for {self.subject}" if self.subject else ""
        return f"{what} {self.id}{about} in {self.channel}"


@dataclass(frozen=True, slots=True)
class ChannelProblem:
    """A channel (or ``"*"``: every channel, the token) that refused the bot for good."""

    channel: str
    code: str
    since: datetime
    next_try: datetime


#: The channel key of a problem with the token itself.
EVERY_CHANNEL = "*"


def dump_payload(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def load_payload(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    return value if isinstance(value, dict) else {"text": str(value)}


def dump_messages(messages: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(pair) for pair in messages])


def load_messages(raw: str) -> tuple[tuple[str, str], ...]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(
        (str(item[0]), str(item[1]))
        for item in value
        if isinstance(item, list | tuple) and len(item) == 2
    )
