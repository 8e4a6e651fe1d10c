"""What an alert incident is when persisted: one per cluster and route, a grouped alert for a
storm, and the bot's own incidents about itself."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.freshness.attempts import AttemptHistory, AttemptOutcome, BackupAttempt
from bot.freshness.explain import Condition, Explanation
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge


class AlertStatus(enum.StrEnum):
    """The alert state machine: ok -> firing -> (acknowledged | snoozed) -> resolved."""

    OK = "ok"
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        return self in (AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)


@dataclass(frozen=True, slots=True)
class Seen:
    """What an incident remembers of its cluster's freshness as last read, beyond its state and
    newest backup: enough for the cluster's row in a grouped alert to read the same when the
    cluster is not read again (a click on a storm of 300 reads none of them)."""

    max_age: MaxAge
    #: What stops backups ("DEAD", "ERROR"), and the rest of the cluster's state worth saying.
    blocking: str = ""
    words: tuple[str, ...] = ()
    #: The newest backup attempt among the cluster's operations, if they were read.
    attempt: AttemptOutcome | None = None
    attempt_at: datetime | None = None
    attempt_error: str = ""
    attempt_code: int = 0
    failed_in_a_row: int = 0

    @classmethod
    def of(cls, report: FreshnessReport) -> Seen:
        """What of ``report`` is worth remembering."""
        explanation = report.explanation or Explanation()
        history = explanation.attempts
        last = history.last if history is not None else None
        return cls(
            max_age=report.max_age,
            blocking=explanation.condition.blocking,
            words=explanation.condition.words,
            attempt=last.outcome if last is not None else None,
            attempt_at=last.started_at if last is not None else None,
            attempt_error=last.error if last is not None else "",
            attempt_code=last.code if last is not None else 0,
            failed_in_a_row=history.failed_in_a_row if history is not None else 0,
        )

    def report(self, entry: AlertEntry, now: datetime) -> FreshnessReport:
        """The report this memory stands for, at ``now`` (ages are counted to ``now``)."""
        attempts = None
        if self.attempt is not None:
            last = BackupAttempt(
                "", self.attempt_at, None, self.attempt, self.attempt_error, self.attempt_code
            )
            attempts = AttemptHistory(last, self.failed_in_a_row)
        newest = entry.newest_backup_at
        return FreshnessReport(
            cluster_id=entry.cluster_id,
            state=entry.last_state or FreshnessState.UNKNOWN,
            max_age=self.max_age,
            newest_backup_at=newest,
            age=max(now - newest, timedelta(0)) if newest is not None else None,
            explanation=Explanation(Condition(self.blocking, self.words), attempts),
        )


@dataclass(frozen=True, slots=True)
class AlertEntry:
    """One incident of one (cluster, alert route), as persisted in the store.

    ``version`` is bumped on every save; the store refuses a save whose version is stale, so two
    replicas can never both move the same incident.
    """

    cluster_id: str
    route_key: str  # stable key of the alert route (its channel and match), see bot.fleet.match
    status: AlertStatus = AlertStatus.OK
    channel: str = ""
    #: The alert message's Slack ts, once it is in the channel (read from the outbox, where the
    #: message is queued first; or, for incidents opened before the outbox, stored as such).
    message_ts: str | None = None
    opened_at: datetime | None = None  # when this incident was first posted
    stale_since: datetime | None = None  # newest backup time + max age: when it went stale
    last_notified_at: datetime | None = None  # the post or the last reminder
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    resolved_at: datetime | None = None
    last_state: FreshnessState | None = None
    newest_backup_at: datetime | None = None
    version: int = 0
    #: The outbox id of the alert message (its post is queued with the state that calls for it).
    message_id: str | None = None
    #: The grouped alert this incident belongs to (then it has no message of its own).
    group_id: str | None = None
    #: The cluster's name and folder as last read, to show it without reading the cloud.
    cluster_name: str = ""
    folder_id: str = ""
    #: What the last reading said of its freshness (None before it was first remembered).
    seen: Seen | None = None
    #: The silence that held it at the last sweep (bot.silences), and until when: it is not
    #: paged meanwhile, and the silence's end is said once, when a sweep finds it over.
    silence_id: int | None = None
    silenced_until: datetime | None = None
    #: When it was escalated to the route's ``escalate_to`` (once per incident), if it was.
    escalated_at: datetime | None = None

    @property
    def silenced(self) -> bool:
        return self.silence_id is not None

    @property
    def has_message(self) -> bool:
        """Whether it has its own alert message or a grouped one (an incident opened while
        silenced has neither, until the silence ends)."""
        return self.message_id is not None or self.message_ts is not None or bool(self.group_id)


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """One grouped alert: a storm of incidents of one alert route and group, posted once.

    Each member keeps its own incident (:class:`AlertEntry` with ``group_id``); the group holds
    only the shared message and when the storm started, was last reminded of and ended.
    """

    id: str
    route_key: str
    group_key: str
    label: str  # "folder b1g...", "team=search", "all clusters"
    channel: str
    message_id: str  # the outbox id of the group's post
    opened_at: datetime
    last_reminded_at: datetime | None = None
    resolved_at: datetime | None = None
    message_ts: str | None = None  # read from the outbox once posted
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class BotIncidentStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class BotIncident:
    """A problem of the bot itself that it tells people about: it cannot read the cloud
    (``key`` "blind"), or it cannot post to a channel (``key`` "channel:<id>")."""

    key: str
    status: BotIncidentStatus = BotIncidentStatus.CLOSED
    since: datetime | None = None
    detail: str = ""
    #: Channel -> outbox id of the notice posted there (its thread gets the all-clear).
    messages: tuple[tuple[str, str], ...] = ()
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status == BotIncidentStatus.OPEN


@dataclass(frozen=True, slots=True)
class CoverageEntry:
    """A cluster the bot watches, or watched: when it was first and last seen, and whether it
    is watched still. Stored so that its coming and going is said once, by one replica."""

    cluster_id: str
    folder_id: str = ""
    name: str = ""
    watching: bool = True
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    #: What routes match it by, kept so that its going is said where its coming was.
    environment: str = ""
    labels: tuple[tuple[str, str], ...] = ()
