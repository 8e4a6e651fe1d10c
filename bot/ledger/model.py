"""What the ledger keeps of a cluster: the backups the bot has seen, the maximum age in force
over time (with its source), the cluster's state over time, and the spans of time whose backups
the bot can vouch for. Plain values; the store writes and reads them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class ClusterState(enum.StrEnum):
    """What the ledger keeps of a cluster's state: only what changes its figures or its story."""

    RUNNING = "running"  # anything that may back up (RUNNING, UPDATING, ERROR, ...)
    STOPPED = "stopped"  # STOPPED or STOPPING: excluded from the observed time
    DEAD = "dead"  # health DEAD: kept for the history; not excluded (it is a breach if stale)


@dataclass(frozen=True, slots=True)
class SeenBackup:
    """One completed backup as the bot saw it listed."""

    backup_id: str
    completed_at: datetime
    started_at: datetime | None = None
    size_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Observation:
    """What one read of the fleet saw of one cluster (its backups were read without error)."""

    cluster_id: str
    at: datetime
    backups: tuple[SeenBackup, ...]
    max_age: timedelta
    max_age_source: str
    state: ClusterState
    name: str = ""
    folder_id: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    environment: str = ""

    @property
    def oldest_listed(self) -> datetime | None:
        """The completion time of the oldest backup the cloud listed, if any."""
        return min((b.completed_at for b in self.backups), default=None)


@dataclass(frozen=True, slots=True)
class MaxAgeChange:
    """The maximum age in force from ``since`` on."""

    since: datetime
    max_age: timedelta
    source: str


@dataclass(frozen=True, slots=True)
class StateChange:
    """The cluster's state from ``since`` on."""

    since: datetime
    state: ClusterState


@dataclass(frozen=True, slots=True)
class Span:
    """Time whose backups the bot can vouch for: from the oldest backup the cloud listed when the
    bot began to watch (or began again after being away longer than the listing reaches back)
    to the last read."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ClusterHistory:
    """Everything the ledger keeps of one cluster, oldest first."""

    cluster_id: str
    name: str = ""
    folder_id: str = ""
    backups: tuple[SeenBackup, ...] = ()
    max_ages: tuple[MaxAgeChange, ...] = ()
    states: tuple[StateChange, ...] = ()
    spans: tuple[Span, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    environment: str = ""

    @property
    def display_name(self) -> str:
        return self.name or self.cluster_id


@dataclass(frozen=True, slots=True)
class StartedBackup:
    """A backup someone started from Slack, as the store keeps it."""

    operation_id: str
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = None
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class Latest:
    """What the ledger last kept of a cluster: its newest backup, the maximum age and the state
    in force now (enough to say fresh, stale, never or stopped without reading the cloud)."""

    cluster_id: str
    last_seen_at: datetime
    newest_backup_at: datetime | None
    max_age: timedelta | None
    state: ClusterState
