"""Cloud resources as pydantic models, read the way the proto3 JSON mapping allows them to come.

The REST gateway writes proto3 JSON: names are camelCase (parsers must accept the proto names
too), int64 values usually arrive as strings (numbers are valid input too), fields at their
default value are left out (and ``null`` reads as the default), timestamps are RFC 3339 with 0 to
9 fractional digits. Unknown fields are ignored, and enums are **open**: a value added to the API
after this code was written, or an enum sent as its number, is kept as the cloud sent it (see
:class:`OpenEnum`), so that a newer API never breaks the bot.

A body is read by :func:`decode` (one resource) or a ``decode_*_page`` function (a list:
backups, clusters, operations, retention policies, versions): a malformed item of a list costs
that item only, which the page names in ``skipped``; everything else that cannot be read raises
:class:`DecodeError`.
Pure: no I/O here.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Required, Self, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    StrictBool,
    TypeAdapter,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

#: What a proto enum value name can be (an identifier). An unknown name is kept only if it has
#: this shape: anything else is not an enum value at all, and would reach Slack unescaped in
#: renderers that trust enum values.
_ENUM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
#: Longest item id quoted back when a list item is left out.
_ID_SHOWN = 100

_M = TypeVar("_M", bound=BaseModel)  # pragma: no mutate (read by the type checker only)


# --- scalars -------------------------------------------------------------------------------------


def _integer(bits: int, low: int, high: int) -> Callable[[Any], int]:
    def read(value: Any) -> int:
        # Decoding 60,000 backups calls this 300,000 times: the common cases come first.
        kind = type(value)
        if kind is str:
            text = value.strip()
            # int() also takes "1_000" and non-ASCII digits, which protobuf refuses.
            if not (text.isascii() and (text.isdigit() or _INTEGER.fullmatch(text))):
                raise ValueError(f"expected an int{bits}, got a string that is not a number")
            number = int(text)
        elif kind is int:
            number = value
        elif isinstance(value, bool):
            # bool is an int in Python; refuse it so that `true` never becomes 1.
            raise ValueError(f"expected an int{bits}, got a boolean")
        elif isinstance(value, int):  # a subclass (an IntEnum, say): kept as a plain int
            number = int(value)
        elif isinstance(value, float):
            # proto3 JSON parsers accept 1.0 and 1e3 for an integer, not 1.5.
            if not value.is_integer():
                raise ValueError(f"expected an int{bits}, got a number with a fraction")
            number = int(value)
        else:
            raise ValueError(f"expected an int{bits}, got {type(value).__name__}")
        if not low <= number <= high:
            raise ValueError(f"the number is outside the int{bits} range")
        return number

    return read


def _not_a_number(value: Any) -> Any:
    if isinstance(value, int | float):  # a bool too
        raise ValueError("expected an RFC 3339 timestamp, got a number")
    return value


def _to_utc(parsed: datetime) -> datetime:
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+03:00 is before datetime.min in UTC
        raise ValueError("the timestamp is outside the range of dates") from None


Int64 = Annotated[int, PlainValidator(_integer(64, INT64_MIN, INT64_MAX))]
Int32 = Annotated[int, PlainValidator(_integer(32, INT32_MIN, INT32_MAX))]
#: A google.protobuf.Timestamp: an RFC 3339 string in JSON (not a number, which pydantic would
#: read as Unix time), or a datetime; always in UTC.
UTCDateTime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_to_utc)]
#: An id the bot can use: proto3 would read a missing id as "", which names nothing.
Id = Annotated[str, Field(min_length=1)]


# --- open enums ----------------------------------------------------------------------------------


class OpenEnum(enum.StrEnum):
    """A proto3 enum, open as proto3 enums are.

    Members are declared in proto order, so a member's position is its proto number.
    :meth:`decode` reads what the cloud sends: a known name or number gives the member; an
    unknown name (a value added to the API later) or number gives a value of the same type that
    is not a member (``is_known`` is False) and shows as sent (``"RESTORING"``, ``"9"``).
    Calling the class (``ClusterStatus("X")``) stays strict, as config parsing needs.
    """

    @classmethod
    def decode(cls, value: Any) -> Self:
        """The value the cloud sent, known or not; ValueError for what is no enum at all."""
        if isinstance(value, cls):
            return value
        if value is None:
            return cls.default()
        if isinstance(value, bool):
            raise ValueError("expected an enum name or number, got a boolean")
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            value = int(value)  # as protobuf's own parser does: "2" is the number 2
        if isinstance(value, int):
            members = list(cls)
            if 0 <= value < len(members):
                return members[value]
            if not INT32_MIN <= value <= INT32_MAX:
                raise ValueError("the enum number is outside the int32 range")
            return cls._unknown(str(value))
        if isinstance(value, str):
            known = cls._value2member_map_.get(value)
            if known is not None:
                return known  # type: ignore[return-value]
            if _ENUM_NAME.fullmatch(value) is None:
                raise ValueError("expected an enum name, got a string that cannot be one")
            return cls._unknown(value)
        raise ValueError(f"expected an enum name or number, got {type(value).__name__}")

    @classmethod
    def default(cls) -> Self:
        """The proto default: the member numbered 0."""
        return next(iter(cls))

    @classmethod
    def _unknown(cls, raw: str) -> Self:
        # Made the way enum makes members, but not registered: `cls(raw)` still refuses it, and
        # iterating the class still lists the known members only.
        value = str.__new__(cls, raw)
        value._name_ = raw
        value._value_ = raw
        return value

    @property
    def is_known(self) -> bool:
        """Whether this code knows the value (False for a value from a newer API)."""
        return self._name_ in type(self).__members__

    @property
    def number(self) -> int | None:
        """The proto number of a known value, or of an unknown one sent as a number."""
        if self.is_known:
            return list(type(self)).index(self)
        return int(self._value_) if _INTEGER.fullmatch(self._value_) else None

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Copies and pickles go through decode, which knows unknown values; Enum's own reduce
        # calls the class, which refuses them.
        return (type(self).decode, (self._value_,))


def _serialize_enum(value: OpenEnum) -> OpenEnum:
    # pydantic's own enum serializer warns about values that are not members. Passed on as it is,
    # a value stays itself in a Python dump and is written as its string (a StrEnum) in JSON.
    return value


_ENUM_OUT = PlainSerializer(_serialize_enum)


class Environment(OpenEnum):
    ENVIRONMENT_UNSPECIFIED = "ENVIRONMENT_UNSPECIFIED"
    PRODUCTION = "PRODUCTION"
    PRESTABLE = "PRESTABLE"


class ClusterStatus(OpenEnum):
    STATUS_UNKNOWN = "STATUS_UNKNOWN"
    CREATING = "CREATING"
    RUNNING = "RUNNING"
    ERROR = "ERROR"
    UPDATING = "UPDATING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    STARTING = "STARTING"


class ClusterHealth(OpenEnum):
    HEALTH_UNKNOWN = "HEALTH_UNKNOWN"
    ALIVE = "ALIVE"
    DEAD = "DEAD"
    DEGRADED = "DEGRADED"


class GroupRole(OpenEnum):
    """``OpenSearch.GroupRole``: what the hosts of a node group do."""

    GROUP_ROLE_UNSPECIFIED = "GROUP_ROLE_UNSPECIFIED"
    DATA = "DATA"
    MANAGER = "MANAGER"
    WARM = "WARM"
    INGEST = "INGEST"


class HostHealth(OpenEnum):
    """``Host.Health``: how one host of a cluster is."""

    UNKNOWN = "UNKNOWN"
    ALIVE = "ALIVE"
    DEAD = "DEAD"
    DEGRADED = "DEGRADED"


class HostType(OpenEnum):
    """``Host.Type``: what runs on a host."""

    TYPE_UNSPECIFIED = "TYPE_UNSPECIFIED"
    OPENSEARCH = "OPENSEARCH"
    DASHBOARDS = "DASHBOARDS"


class VersionStatus(OpenEnum):
    """``yandex.cloud.mdb.v1.Version.Status``: where a version is in its life."""

    STATUS_UNSPECIFIED = "STATUS_UNSPECIFIED"
    NEW = "NEW"
    ACTUAL = "ACTUAL"
    SUPPORTED = "SUPPORTED"
    DEPRECATED = "DEPRECATED"  # no new clusters; restore from backups still available
    LEGACY = "LEGACY"  # no new clusters and no restore from backups
    EOL = "EOL"


class FolderStatus(OpenEnum):
    """``yandex.cloud.resourcemanager.v1.Folder.Status``."""

    STATUS_UNSPECIFIED = "STATUS_UNSPECIFIED"
    ACTIVE = "ACTIVE"
    DELETING = "DELETING"
    PENDING_DELETION = "PENDING_DELETION"


class WeekDay(OpenEnum):
    WEEK_DAY_UNSPECIFIED = "WEEK_DAY_UNSPECIFIED"
    MON = "MON"
    TUE = "TUE"
    WED = "WED"
    THU = "THU"
    FRI = "FRI"
    SAT = "SAT"
    SUN = "SUN"


# --- resources -----------------------------------------------------------------------------------


OpenEnvironment = Annotated[Environment, PlainValidator(Environment.decode), _ENUM_OUT]
OpenClusterStatus = Annotated[ClusterStatus, PlainValidator(ClusterStatus.decode), _ENUM_OUT]
OpenClusterHealth = Annotated[ClusterHealth, PlainValidator(ClusterHealth.decode), _ENUM_OUT]
OpenWeekDay = Annotated[WeekDay, PlainValidator(WeekDay.decode), _ENUM_OUT]
OpenGroupRole = Annotated[GroupRole, PlainValidator(GroupRole.decode), _ENUM_OUT]
OpenVersionStatus = Annotated[VersionStatus, PlainValidator(VersionStatus.decode), _ENUM_OUT]
OpenHostHealth = Annotated[HostHealth, PlainValidator(HostHealth.decode), _ENUM_OUT]
OpenHostType = Annotated[HostType, PlainValidator(HostType.decode), _ENUM_OUT]
OpenFolderStatus = Annotated[FolderStatus, PlainValidator(FolderStatus.decode), _ENUM_OUT]


class CloudModel(BaseModel):
    """Base for API objects: camelCase aliases (proto names accepted too), unknown fields
    ignored, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )


class Backup(CloudModel):
    """One OpenSearch backup (snapshot) of a cluster. It has no status: a failed attempt shows
    only among the cluster's operations."""

    id: Id
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


class HourlySnapshotSchedule(CloudModel):
    minute: Int64 = 0


class DailySnapshotSchedule(CloudModel):
    hour: Int64 = 0
    minute: Int64 = 0


class WeeklySnapshotSchedule(CloudModel):
    day: OpenWeekDay = WeekDay.WEEK_DAY_UNSPECIFIED
    hour: Int64 = 0
    minute: Int64 = 0


class SnapshotSchedule(CloudModel):
    """Exactly one of the three is set by the API (a proto oneof)."""

    hourly_snapshot_schedule: HourlySnapshotSchedule | None = None
    daily_snapshot_schedule: DailySnapshotSchedule | None = None
    weekly_snapshot_schedule: WeeklySnapshotSchedule | None = None


class SnapshotManagement(CloudModel):
    snapshot_schedule: SnapshotSchedule | None = None
    #: A google.protobuf.Int64Value: None when unset.
    snapshot_max_age_days: Int64 | None = None


class Resources(CloudModel):
    """The resources of each host of a node group."""

    resource_preset_id: str = ""
    disk_size: Int64 = 0  # bytes, per host
    disk_type_id: str = ""


class NodeGroup(CloudModel):
    """``OpenSearch.NodeGroup``: hosts of one shape and role."""

    name: str = ""
    resources: Resources | None = None
    hosts_count: Int64 = 0
    roles: tuple[OpenGroupRole, ...] = ()

    @property
    def holds_data(self) -> bool:
        """Whether its hosts store index data: a DATA or WARM group, or one with no role named
        (a value from a newer API alone does not count)."""
        if not self.roles:
            return True
        return any(role in (GroupRole.DATA, GroupRole.WARM) for role in self.roles)

    @property
    def disk_bytes(self) -> int:
        """Disk of every host of the group together (``diskSize`` × ``hostsCount``)."""
        if self.resources is None:
            return 0
        return max(0, self.resources.disk_size) * max(0, self.hosts_count)


class OpenSearchConfig(CloudModel):
    """``OpenSearch``: the OpenSearch part of a cluster's config (its node groups)."""

    node_groups: tuple[NodeGroup, ...] = ()


class ClusterConfig(CloudModel):
    version: str = ""
    opensearch: OpenSearchConfig | None = None
    snapshot_management: SnapshotManagement | None = None


class MaintenanceOperation(CloudModel):
    """``MaintenanceOperation``: a maintenance the cloud has planned for the cluster."""

    info: str = ""
    delayed_until: UTCDateTime | None = None
    latest_maintenance_time: UTCDateTime | None = None
    next_maintenance_window_time: UTCDateTime | None = None


class Cluster(CloudModel):
    """A Managed OpenSearch cluster, with just the fields the bot reads."""

    id: Id
    folder_id: str = ""
    name: str = ""
    description: str = ""
    created_at: UTCDateTime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    environment: OpenEnvironment = Environment.ENVIRONMENT_UNSPECIFIED
    status: OpenClusterStatus = ClusterStatus.STATUS_UNKNOWN
    health: OpenClusterHealth = ClusterHealth.HEALTH_UNKNOWN
    config: ClusterConfig | None = None
    planned_operation: MaintenanceOperation | None = None

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

    @property
    def known_status(self) -> ClusterStatus:
        """The status to decide on: a value this code does not know is STATUS_UNKNOWN."""
        return self.status if self.status.is_known else ClusterStatus.STATUS_UNKNOWN

    @property
    def known_health(self) -> ClusterHealth:
        """The health to decide on: a value this code does not know is HEALTH_UNKNOWN."""
        return self.health if self.health.is_known else ClusterHealth.HEALTH_UNKNOWN

    @property
    def node_groups(self) -> tuple[NodeGroup, ...]:
        """The OpenSearch node groups of its config (none when the cloud sent none)."""
        if self.config is None or self.config.opensearch is None:
            return ()
        return self.config.opensearch.node_groups

    @property
    def data_disk_bytes(self) -> int | None:
        """Disk of the hosts that store data, all together; None when the config says nothing
        of it (no node group with a disk size)."""
        groups = [g for g in self.node_groups if g.holds_data and g.disk_bytes > 0]
        if not groups:
            return None
        return sum(g.disk_bytes for g in groups)


class OperationError(CloudModel):
    """google.rpc.Status as carried by an Operation."""

    code: Int32 = 0
    message: str = ""
    details: list[Any] = Field(default_factory=list)


class Operation(CloudModel):
    """A long-running operation. ``error`` may be set while ``done`` is still false."""

    id: Id
    description: str = ""
    created_at: UTCDateTime | None = None
    created_by: str = ""
    modified_at: UTCDateTime | None = None
    done: StrictBool = False
    metadata: dict[str, Any] | None = None
    error: OperationError | None = None
    response: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        """An error with a non-zero code (google.rpc code 0 is OK)."""
        return self.error is not None and self.error.code != 0

    @property
    def metadata_type(self) -> str:
        """The full name of the metadata's message type (after the ``type.googleapis.com/``
        prefix), or "" when it has none."""
        if not self.metadata:
            return ""
        url = self.metadata.get("@type")
        if not isinstance(url, str):
            return ""
        return url.rpartition("/")[2]

    @property
    def cluster_id(self) -> str:
        """The ``clusterId`` of its metadata (a restore's new cluster, a delete's), or ""."""
        value = (self.metadata or {}).get("clusterId", (self.metadata or {}).get("cluster_id"))
        return value if isinstance(value, str) else ""


class Host(CloudModel):
    """``Host``: one host of a cluster (Cluster.listHosts), with the fields a drill reads."""

    name: str = ""
    cluster_id: str = ""
    zone_id: str = ""
    resources: Resources | None = None
    type: OpenHostType = HostType.TYPE_UNSPECIFIED
    health: OpenHostHealth = HostHealth.UNKNOWN
    subnet_id: str = ""
    node_group: str = ""

    @property
    def alive(self) -> bool:
        """Whether the host says ALIVE (a value from a newer API does not count)."""
        return self.health is HostHealth.ALIVE


@dataclass(frozen=True)
class RestoreNodeGroup:
    """One node group of a restored cluster (``OpenSearchCreateSpec.NodeGroup``)."""

    name: str
    preset: str
    disk_size: int
    hosts_count: int
    zone_ids: tuple[str, ...]
    subnet_ids: tuple[str, ...] = ()
    roles: tuple[str, ...] = ("DATA", "MANAGER")
    disk_type: str = "network-ssd"

    def to_json(self) -> dict[str, Any]:
        """The node group as the REST API takes it (camelCase, int64 as strings)."""
        out: dict[str, Any] = {
            "name": self.name,
            "resources": {
                "resourcePresetId": self.preset,
                "diskSize": str(self.disk_size),
                "diskTypeId": self.disk_type,
            },
            "hostsCount": str(self.hosts_count),
            "zoneIds": list(self.zone_ids),
            "roles": list(self.roles),
        }
        if self.subnet_ids:
            out["subnetIds"] = list(self.subnet_ids)
        return out


@dataclass(frozen=True)
class RestoreRequest:
    """``RestoreClusterRequest``: a **new** cluster from a backup. The admin password is never
    shown in a repr."""

    backup_id: str
    name: str
    folder_id: str
    network_id: str
    node_groups: tuple[RestoreNodeGroup, ...]
    admin_password: str = field(repr=False)
    version: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    environment: str = "PRESTABLE"
    deletion_protection: bool = False

    def to_json(self) -> dict[str, Any]:
        """The request body (the http rule's ``body: "*"``)."""
        config: dict[str, Any] = {
            "adminPassword": self.admin_password,
            "opensearchSpec": {"nodeGroups": [g.to_json() for g in self.node_groups]},
        }
        if self.version:
            config["version"] = self.version
        out: dict[str, Any] = {
            "backupId": self.backup_id,
            "name": self.name,
            "labels": dict(self.labels),
            "environment": self.environment,
            "configSpec": config,
            "networkId": self.network_id,
            "deletionProtection": self.deletion_protection,
            "folderId": self.folder_id,
        }
        if self.description:
            out["description"] = self.description
        return out


class CronTab(CloudModel):
    """``yandex.cloud.mdb.v1.CronTab``: a schedule in the five crontab fields, each as text."""

    minute: str = ""
    hour: str = ""
    day_of_month: str = ""
    month: str = ""
    day_of_week: str = ""


class RetentionPolicy(CloudModel):
    """``yandex.cloud.mdb.v1.BackupRetentionPolicy``: backups made on a cron schedule and kept
    for ``retain_for_days``."""

    policy_id: str = ""
    cluster_id: str = ""
    policy_name: str = ""
    created_at: UTCDateTime | None = None
    cron: CronTab | None = None
    retain_for_days: Int64 = 0
    description: str = ""


class Version(CloudModel):
    """``yandex.cloud.mdb.v1.Version``: an OpenSearch version the service offers."""

    id: str = ""
    name: str = ""
    status: OpenVersionStatus = VersionStatus.STATUS_UNSPECIFIED
    updatable_to: tuple[str, ...] = ()
    deprecated_at: UTCDateTime | None = None
    eol_at: UTCDateTime | None = None


class Folder(CloudModel):
    """``yandex.cloud.resourcemanager.v1.Folder``: a folder of a cloud (Resource Manager)."""

    id: Id
    cloud_id: str = ""
    created_at: UTCDateTime | None = None
    name: str = ""
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    status: OpenFolderStatus = FolderStatus.STATUS_UNSPECIFIED

    @property
    def active(self) -> bool:
        """Whether the folder is in use (not being deleted)."""
        return self.status is FolderStatus.ACTIVE


class Network(CloudModel):
    """``yandex.cloud.vpc.v1.Network``: a cloud network (VPC), as restore drills need it."""

    id: Id
    folder_id: str = ""
    name: str = ""


class Subnet(CloudModel):
    """``yandex.cloud.vpc.v1.Subnet``: a subnet of a network, in one zone."""

    id: Id
    folder_id: str = ""
    name: str = ""
    network_id: str = ""
    zone_id: str = ""


class ResourcePreset(CloudModel):
    """``yandex.cloud.mdb.opensearch.v1.ResourcePreset``: a host class the service offers, with
    the zones it is offered in; ``memory`` in bytes."""

    id: Id
    zone_ids: tuple[str, ...] = ()
    cores: Int64 = 0
    memory: Int64 = 0


class ResourceCloud(CloudModel):
    """``yandex.cloud.resourcemanager.v1.Cloud``: a cloud of an organization."""

    id: Id
    created_at: UTCDateTime | None = None
    name: str = ""
    description: str = ""
    organization_id: str = ""
    labels: dict[str, str] = Field(default_factory=dict)


# --- ordering ------------------------------------------------------------------------------------

_NO_TIME = datetime.min.replace(tzinfo=UTC)


def newest_first_key(backup: Backup) -> tuple[bool, datetime, str]:
    """Sort key of :func:`newest_first` (sort with ``reverse=True``)."""
    created = backup.created_at
    return (created is not None, created or _NO_TIME, backup.id)


def newest_first(backups: Iterable[Backup]) -> list[Backup]:
    """Backups by ``createdAt``, the newest first, ties by id (the greater first); backups with
    no ``createdAt`` last. The API promises no order, so every "newest" view sorts with this."""
    return sorted(backups, key=newest_first_key, reverse=True)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ListPosition:
    """A place in the :func:`newest_first` order: the ``createdAt`` and id of a backup.

    The rows after it are the backups that sort after it, whatever the cloud's order or paging,
    so a position stays valid after a restart and does not shift when a newer backup lands.
    """

    created_at: datetime | None
    backup_id: str

    @classmethod
    def of(cls, backup: Backup) -> ListPosition:
        """The position of ``backup``."""
        return cls(backup.created_at, backup.id)

    def key(self) -> tuple[bool, datetime, str]:
        """Comparable with :func:`newest_first_key`."""
        created = self.created_at
        return (created is not None, created or _NO_TIME, self.backup_id)

    def after(self, ordered: Sequence[Backup]) -> int:
        """Index in ``ordered`` (newest first) of the first backup after this position."""
        key = self.key()
        for index, backup in enumerate(ordered):
            if newest_first_key(backup) < key:
                return index
        return len(ordered)

    def encode(self) -> str:
        """``<createdAt in Unix microseconds>~<backup id>``; the time is empty when unknown."""
        micros = "" if self.created_at is None else str((self.created_at - _EPOCH) // _MICROSECOND)
        return f"{micros}~{self.backup_id}"

    @classmethod
    def decode(cls, text: str) -> ListPosition | None:
        """The position :meth:`encode` wrote, or None for anything else."""
        micros, sep, backup_id = text.partition("~")
        if not sep or not backup_id or (micros and not _INTEGER.fullmatch(micros)):
            return None
        if not micros:
            return cls(None, backup_id)
        try:
            return cls(_EPOCH + int(micros) * _MICROSECOND, backup_id)
        except OverflowError:
            return None


# --- reading bodies ------------------------------------------------------------------------------


class DecodeError(ValueError):
    """A body the models cannot read. The message names where and why, never a value."""


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """A list item that could not be read and was left out of its page."""

    kind: str  # "backup", "cluster", "operation", "retention policy", "version"
    index: int  # its position in the page
    item_id: str | None  # its id, when it had a readable one
    problem: str  # where and why, without values

    def __str__(self) -> str:
        named = f"{self.kind} {self.item_id}" if self.item_id else f"{self.kind} #{self.index + 1}"
        return f"{named} could not be read ({self.problem}) and was left out"


@dataclass(frozen=True, slots=True)
class BackupPage:
    """One page of Cluster.listBackups or Backup.list."""

    backups: tuple[Backup, ...]
    next_page_token: str
    skipped: tuple[SkippedItem, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterPage:
    """One page of Cluster.list."""

    clusters: tuple[Cluster, ...]
    next_page_token: str
    skipped: tuple[SkippedItem, ...] = ()


@dataclass(frozen=True, slots=True)
class OperationPage:
    """One page of Cluster.listOperations."""

    operations: tuple[Operation, ...]
    next_page_token: str
    skipped: tuple[SkippedItem, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyPage:
    """One page of BackupRetentionPolicyService.List."""

    policies: tuple[RetentionPolicy, ...]
    next_page_token: str
    skipped: tuple[SkippedItem, ...] = ()


@dataclass(frozen=True, slots=True)
class VersionPage:
    """One page of VersionsService.List."""

    versions: tuple[Version, ...]
    next_page_token: str
    skipped: tuple[SkippedItem, ...] = ()


@dataclass(frozen=True, slots=True)
class HostPage:
    """One page of Cluster.listHosts."""

    hosts: tuple[Host, ...]
    next_page_token: str
    skipped: tuple[SkippedItem, ...] = ()


@dataclass(frozen=True, slots=True)
class FolderPage:
    """One page of Folder.list."""

    folders: tuple[Folder, ...]
    next_page_token: str
    skipped: tuple[SkippedItem, ...] = ()


class _HostList(CloudModel):
    hosts: tuple[Host, ...] = ()
    next_page_token: str = ""


@dataclass(frozen=True, slots=True)
class CloudPage:
    """One page of Cloud.list."""

    clouds: tuple[ResourceCloud, ...]
    next_page_token: str
    skipped: tuple[SkippedItem, ...] = ()


class _FolderList(CloudModel):
    folders: tuple[Folder, ...] = ()
    next_page_token: str = ""


class _CloudList(CloudModel):
    clouds: tuple[ResourceCloud, ...] = ()
    next_page_token: str = ""


class _OperationList(CloudModel):
    operations: tuple[Operation, ...] = ()
    next_page_token: str = ""


class _PolicyList(CloudModel):
    policies: tuple[RetentionPolicy, ...] = ()
    next_page_token: str = ""


class _VersionList(CloudModel):
    # The proto names the repeated field ``version`` (singular).
    version: tuple[Version, ...] = ()
    next_page_token: str = ""


class _BackupList(CloudModel):
    backups: tuple[Backup, ...] = ()
    next_page_token: str = ""


class _ClusterList(CloudModel):
    clusters: tuple[Cluster, ...] = ()
    next_page_token: str = ""


_NOT_JSON = "a body that is not JSON"


def _first_error(exc: ValidationError) -> Any:
    # Without the input: values from the body stay out of what is kept of an error.
    return exc.errors(include_input=False)[0]


def _problem(exc: ValidationError) -> str:
    """Where and why a body (a JSON object) does not fit its model: the location and the
    reason only, so that values from the body stay out of logs and messages."""
    first = _first_error(exc)
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}"


def _drop_nulls(value: Any) -> Any:
    """proto3 JSON reads ``null`` as the field's default, which is what a missing field gets."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _load_object(body: bytes) -> dict[str, Any]:
    """A body pydantic has parsed (so not empty) that did not fit its model, as a dict without
    its nulls."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # should pydantic-core ever parse more than json
        raise DecodeError(_NOT_JSON) from None
    if not isinstance(data, dict):
        raise DecodeError("JSON that is not an object")
    cleaned: dict[str, Any] = _drop_nulls(data)
    return cleaned


def _fast(model: type[_M], body: bytes) -> _M | None:
    """The body read in one pass of pydantic-core over its bytes; None when it does not fit
    the model as it is (nulls, or a real problem), which the slower path sorts out."""
    try:
        return model.model_validate_json(body if body.strip() else b"{}")
    except ValidationError as exc:
        if _first_error(exc)["type"] == "json_invalid":
            raise DecodeError(_NOT_JSON) from None
        return None


def decode(model: type[_M], body: bytes) -> _M:
    """One resource from a response body; DecodeError if it cannot be read."""
    whole = _fast(model, body)
    if whole is not None:
        return whole
    data = _load_object(body)
    try:
        return model.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise DecodeError(_problem(exc)) from None


def _item_id(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return None
    for key in ("id", "policyId", "policy_id"):
        ident = raw.get(key)
        if isinstance(ident, str) and ident:
            return ident if len(ident) <= _ID_SHOWN else ident[: _ID_SHOWN - 1] + "…"
    return None


def _decode_list(
    body: bytes, key: str, item: type[_M], kind: str
) -> tuple[list[_M], str, list[SkippedItem]]:
    data = _load_object(body)
    raw_items = data.get(key, [])
    if not isinstance(raw_items, list):
        raise DecodeError(f"{key}: not a list")
    token = data.get("nextPageToken", data.get("next_page_token", ""))
    if not isinstance(token, str):
        raise DecodeError("nextPageToken: not a string")
    items: list[_M] = []
    skipped: list[SkippedItem] = []
    for index, raw in enumerate(raw_items):
        try:
            items.append(item.model_validate_json(json.dumps(raw)))
        except ValidationError as exc:
            problem = f"{key}.{index}.{_problem(exc)}" if isinstance(raw, dict) else "not an object"
            skipped.append(SkippedItem(kind, index, _item_id(raw), problem))
    return items, token, skipped


def decode_backup_page(body: bytes) -> BackupPage:
    """A page of backups; an item that cannot be read is left out and named in ``skipped``."""
    whole = _fast(_BackupList, body)
    if whole is not None:
        return BackupPage(whole.backups, whole.next_page_token)
    items, token, skipped = _decode_list(body, "backups", Backup, "backup")
    return BackupPage(tuple(items), token, tuple(skipped))


def decode_cluster_page(body: bytes) -> ClusterPage:
    """A page of clusters; an item that cannot be read is left out and named in ``skipped``."""
    whole = _fast(_ClusterList, body)
    if whole is not None:
        return ClusterPage(whole.clusters, whole.next_page_token)
    items, token, skipped = _decode_list(body, "clusters", Cluster, "cluster")
    return ClusterPage(tuple(items), token, tuple(skipped))


def decode_operation_page(body: bytes) -> OperationPage:
    """A page of operations; an item that cannot be read is left out and named in ``skipped``."""
    whole = _fast(_OperationList, body)
    if whole is not None:
        return OperationPage(whole.operations, whole.next_page_token)
    items, token, skipped = _decode_list(body, "operations", Operation, "operation")
    return OperationPage(tuple(items), token, tuple(skipped))


def decode_policy_page(body: bytes) -> PolicyPage:
    """A page of retention policies; an unreadable item is left out and named in ``skipped``."""
    whole = _fast(_PolicyList, body)
    if whole is not None:
        return PolicyPage(whole.policies, whole.next_page_token)
    items, token, skipped = _decode_list(body, "policies", RetentionPolicy, "retention policy")
    return PolicyPage(tuple(items), token, tuple(skipped))


def decode_version_page(body: bytes) -> VersionPage:
    """A page of versions; an item that cannot be read is left out and named in ``skipped``."""
    whole = _fast(_VersionList, body)
    if whole is not None:
        return VersionPage(whole.version, whole.next_page_token)
    items, token, skipped = _decode_list(body, "version", Version, "version")
    return VersionPage(tuple(items), token, tuple(skipped))


def decode_host_page(body: bytes) -> HostPage:
    """A page of hosts; an item that cannot be read is left out and named in ``skipped``."""
    whole = _fast(_HostList, body)
    if whole is not None:
        return HostPage(whole.hosts, whole.next_page_token)
    items, token, skipped = _decode_list(body, "hosts", Host, "host")
    return HostPage(tuple(items), token, tuple(skipped))


def decode_folder_page(body: bytes) -> FolderPage:
    """A page of folders; an item that cannot be read is left out and named in ``skipped``."""
    whole = _fast(_FolderList, body)
    if whole is not None:
        return FolderPage(whole.folders, whole.next_page_token)
    items, token, skipped = _decode_list(body, "folders", Folder, "folder")
    return FolderPage(tuple(items), token, tuple(skipped))


def decode_cloud_page(body: bytes) -> CloudPage:
    """A page of clouds; an item that cannot be read is left out and named in ``skipped``."""
    whole = _fast(_CloudList, body)
    if whole is not None:
        return CloudPage(whole.clouds, whole.next_page_token)
    items, token, skipped = _decode_list(body, "clouds", ResourceCloud, "cloud")
    return CloudPage(tuple(items), token, tuple(skipped))


# --- backups, slim -------------------------------------------------------------------------------
#
# A fleet reading lists every backup of every cluster (600,000 at 10,000 clusters) and keeps a
# few of them: building a Backup model for each, with nine Python validators, was most of its
# CPU. The slim reading validates a page in pydantic-core alone into plain dicts, accepting only
# a strict subset of what Backup accepts (ints as JSON integers or strings of at most 18 digits,
# timestamps as strings, no nulls), so that whatever it accepts the models would read the same;
# a page with anything else is read by the models (:func:`decode_backup_page`), as before. The
# few backups a reading keeps become Backup models with :func:`backup_of`.

_SLIM_INT = re.compile(r"^\s*[+-]?[0-9]{1,18}\s*$")  # pydantic searches: anchored


def _field(name: str) -> Any:
    return Field(validation_alias=AliasChoices(to_camel(name), name))


_SlimInt = (
    Annotated[int, Strict(), Field(ge=INT64_MIN, le=INT64_MAX)]
    | Annotated[str, Strict(), Field(pattern=_SLIM_INT.pattern)]
)
_SlimTime = Annotated[datetime, Strict()]
_SlimStr = Annotated[str, Strict()]


class SlimBackup(TypedDict, total=False):
    """A Backup's fields as the slim reading leaves them (missing: the proto default). Ints may
    still be the strings the cloud sent (:func:`slim_int`), times in the zone it sent."""

    id: Required[Annotated[str, Strict(), Field(min_length=1)]]
    folder_id: Annotated[_SlimStr, _field("folder_id")]
    source_cluster_id: Annotated[_SlimStr, _field("source_cluster_id")]
    started_at: Annotated[_SlimTime, _field("started_at")]
    created_at: Annotated[_SlimTime, _field("created_at")]
    indices: Annotated[list[_SlimStr], _field("indices")]
    opensearch_version: Annotated[_SlimStr, _field("opensearch_version")]
    size_bytes: Annotated[_SlimInt, _field("size_bytes")]
    indices_total: Annotated[_SlimInt, _field("indices_total")]
    incremental_size_bytes: Annotated[_SlimInt, _field("incremental_size_bytes")]
    total_size_bytes: Annotated[_SlimInt, _field("total_size_bytes")]
    free_space_required_bytes: Annotated[_SlimInt, _field("free_space_required_bytes")]


class _SlimBackupList(TypedDict, total=False):
    backups: Annotated[list[SlimBackup], _field("backups")]
    next_page_token: Annotated[_SlimStr, _field("next_page_token")]


_SLIM_BACKUP_LIST: TypeAdapter[_SlimBackupList] = TypeAdapter(_SlimBackupList)


@dataclass(frozen=True, slots=True)
class SlimBackupPage:
    """One page of Cluster.listBackups, read slim."""

    backups: tuple[SlimBackup, ...]
    next_page_token: str
    skipped: tuple[SkippedItem, ...] = ()


def slim_int(value: int | str) -> int:
    """A slim reading's int (``int()`` takes what the slim pattern lets through)."""
    return value if type(value) is int else int(value)


def slim_time(value: datetime) -> datetime:
    """A slim reading's timestamp in UTC, as Backup keeps it."""
    return _to_utc(value)


def backup_of(item: SlimBackup) -> Backup:
    """The Backup model of a slim item (validated again, as the models read it)."""
    return Backup.model_validate(item)


def _slim_fits(backups: Sequence[SlimBackup]) -> bool:
    # Backup refuses a timestamp that leaves the range of dates once in UTC, and takes one with
    # no offset as UTC: leave those to it (a reader compares the slim times as they are).
    for item in backups:
        for key in ("created_at", "started_at"):
            at = item.get(key)
            if at is not None and (at.tzinfo is None or at.year in (1, 9999)):  # type: ignore[attr-defined]
                return False
    return True


def decode_backup_page_slim(body: bytes) -> SlimBackupPage:
    """A page of backups as :class:`SlimBackup` items, read in one pass of pydantic-core when it
    fits the slim reading, else by the models (:func:`decode_backup_page`: an item that cannot
    be read is left out and named in ``skipped``)."""
    try:
        whole = _SLIM_BACKUP_LIST.validate_json(body if body.strip() else b"{}")
    except ValidationError as exc:
        if _first_error(exc)["type"] == "json_invalid":
            raise DecodeError(_NOT_JSON) from None
    else:
        backups = tuple(whole.get("backups", ()))
        if _slim_fits(backups):
            return SlimBackupPage(backups, whole.get("next_page_token", ""))
    page = decode_backup_page(body)
    return SlimBackupPage(
        tuple(SlimBackup(**b.model_dump()) for b in page.backups),  # type: ignore[typeddict-item]
        page.next_page_token,
        page.skipped,
    )
