"""What a cluster's freshness is: its state, its maximum age and where that comes from,
and the report the sweep, the digest and the commands read."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.freshness.explain import Explanation


class FreshnessState(enum.StrEnum):
    """How a cluster's newest backup stands against its maximum age."""

    FRESH = "fresh"
    STALE = "stale"
    NEVER = "never"  # the cluster has no backup at all
    UNKNOWN = "unknown"  # the backups could not be read; never shown as fresh
    STOPPED = "stopped"  # the cluster is stopped: reported as such, not as stale
    UNSCHEDULED = "unscheduled"  # its snapshot schedule was removed: reported, not stale

    @property
    def is_problem(self) -> bool:
        return self in (FreshnessState.STALE, FreshnessState.NEVER, FreshnessState.UNKNOWN)

    @property
    def fires(self) -> bool:
        """States that open (or keep open) an alert incident."""
        return self in (FreshnessState.STALE, FreshnessState.NEVER)


class MaxAgeSource(enum.StrEnum):
    OVERRIDE = "override"  # freshness.overrides in the config, used as is
    SCHEDULE = "schedule"  # derived from the cluster's snapshot schedule, plus grace
    POLICY = "policy"  # derived from its backup retention policies' crontabs, plus grace
    DEFAULT = "default"  # freshness.default_max_age, plus grace


@dataclass(frozen=True, slots=True)
class MaxAge:
    value: timedelta
    source: MaxAgeSource
    #: "hourly", "daily at 03:00 UTC", "weekly on MON at 03:00 UTC", "override", "default",
    #: "retention policy nightly (0 3 * * *)".
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FreshnessReport:
    """The verdict for one cluster at one ``now``."""

    cluster_id: str
    state: FreshnessState
    max_age: MaxAge
    newest_backup_id: str | None = None
    newest_backup_at: datetime | None = None  # when the newest backup completed
    age: timedelta | None = None  # now - newest_backup_at
    #: For UNKNOWN: what went wrong, as a clause that reads on its own and mid-sentence
    #: ("the backups of logs-prod could not be read: Permission denied").
    reason: str = ""
    #: What the cloud says beyond the backups (its state, its backup attempts, restore
    #: readiness...), when the reading looked (see bot.freshness.explain).
    explanation: Explanation | None = None
