"""Cloud resources as pydantic models, parsed the way the REST gateway encodes them.

proto3 JSON rules apply: names are camelCase, int64 values usually arrive as strings, fields at
their default value are omitted, timestamps are RFC 3339 with 0 to 9 fractional digits. Unknown
fields are ignored so that a newer API never breaks the bot.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _int64(value: Any) -> Any:
    # proto3 JSON encodes int64 as a string, but a number is valid input too. bool is an int in
    # Python; refuse it so that `true` never becomes 1.
    if isinstance(value, bool):
        raise ValueError("expected an int64, got a boolean")
    if isinstance(value, str):
        return int(value.strip())
    return value


UTCDateTime = Annotated[datetime, AfterValidator(_to_utc)]
Int64 = Annotated[int, BeforeValidator(_int64)]


class CloudModel(BaseModel):
    """Base for API objects: camelCase aliases, unknown fields ignored, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )


class Backup(CloudModel):
    """One OpenSearch backup (snapshot) of a cluster."""

    id: str
    folder_id: str = ""
    source_cluster_id: str = ""
    started_at: UTCDateTime | None = None
    created_at: UTCDateTime | None = None
    indices: tuple[str, ...] = ()
    opensearch_version: str = ""
    size_bytes: Int64 = 0
    indices_total: Int64 = 0
    incremental_size_bytes: Int64 = 0
    total_size_bytes: Int64 = 0
    free_space_required_bytes: Int64 = 0

    @property
    def finished_at(self) -> datetime | None:
        """When the backup completed (the API calls it ``createdAt``)."""
        return self.created_at

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.created_at is None:
            return None
        return max(0.0, (self.created_at - self.started_at).total_seconds())


class Environment(enum.StrEnum):
    ENVIRONMENT_UNSPECIFIED = "ENVIRONMENT_UNSPECIFIED"
    PRODUCTION = "PRODUCTION"
    PRESTABLE = "PRESTABLE"


class ClusterStatus(enum.StrEnum):
    STATUS_UNKNOWN = "STATUS_UNKNOWN"
    CREATING = "CREATING"
    RUNNING = "RUNNING"
    ERROR = "ERROR"
    UPDATING = "UPDATING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    STARTING = "STARTING"


class ClusterHealth(enum.StrEnum):
    HEALTH_UNKNOWN = "HEALTH_UNKNOWN"
    ALIVE = "ALIVE"
    DEAD = "DEAD"
    DEGRADED = "DEGRADED"


class WeekDay(enum.StrEnum):
    WEEK_DAY_UNSPECIFIED = "WEEK_DAY_UNSPECIFIED"
    MON = "MON"
    TUE = "TUE"
    WED = "WED"
    THU = "THU"
    FRI = "FRI"
    SAT = "SAT"
    SUN = "SUN"


class HourlySnapshotSchedule(CloudModel):
    minute: Int64 = 0


class DailySnapshotSchedule(CloudModel):
    hour: Int64 = 0
    minute: Int64 = 0


class WeeklySnapshotSchedule(CloudModel):
    day: WeekDay = WeekDay.WEEK_DAY_UNSPECIFIED
    hour: Int64 = 0
    minute: Int64 = 0


class SnapshotSchedule(CloudModel):
    """Exactly one of the three is set by the API (a proto oneof)."""

    hourly_snapshot_schedule: HourlySnapshotSchedule | None = None
    daily_snapshot_schedule: DailySnapshotSchedule | None = None
    weekly_snapshot_schedule: WeeklySnapshotSchedule | None = None


class SnapshotManagement(CloudModel):
    snapshot_schedule: SnapshotSchedule | None = None
    snapshot_max_age_days: Int64 | None = None


class ClusterConfig(CloudModel):
    version: str = ""
    snapshot_management: SnapshotManagement | None = None


class Cluster(CloudModel):
    """A Managed OpenSearch cluster, with just the fields the bot reads."""

    id: str
    folder_id: str = ""
    name: str = ""
    description: str = ""
    created_at: UTCDateTime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    environment: Environment = Environment.ENVIRONMENT_UNSPECIFIED
    status: ClusterStatus = ClusterStatus.STATUS_UNKNOWN
    health: ClusterHealth = ClusterHealth.HEALTH_UNKNOWN
    config: ClusterConfig | None = None

    @property
    def snapshot_schedule(self) -> SnapshotSchedule | None:
        """The cluster's own snapshot schedule, or None when it has none."""
        if self.config is None or self.config.snapshot_management is None:
            return None
        schedule = self.config.snapshot_management.snapshot_schedule
        if schedule is None or (
            schedule.hourly_snapshot_schedule is None
            and schedule.daily_snapshot_schedule is None
            and schedule.weekly_snapshot_schedule is None
        ):
            return None
        return schedule

    @property
    def display_name(self) -> str:
        return self.name or self.id


class OperationError(CloudModel):
    """google.rpc.Status as carried by an Operation."""

    code: int = 0
    message: str = ""
    details: list[Any] = Field(default_factory=list)


class Operation(CloudModel):
    """A long-running operation. ``error`` may be set while ``done`` is still false."""

    id: str
    description: str = ""
    created_at: UTCDateTime | None = None
    created_by: str = ""
    modified_at: UTCDateTime | None = None
    done: bool = False
    metadata: dict[str, Any] | None = None
    error: OperationError | None = None
    response: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None and self.error.code != 0


class BackupPage(CloudModel):
    """One page of Cluster.listBackups or Backup.list."""

    backups: tuple[Backup, ...] = ()
    next_page_token: str = ""


class ClusterPage(CloudModel):
    """One page of Cluster.list."""

    clusters: tuple[Cluster, ...] = ()
    next_page_token: str = ""
