"""What the simulated cloud holds: folders, clusters (with their node groups, planned
maintenance, retention policies and operations), backups and the versions the service lists.
Plain data, generated from a seed.

:func:`generate_fleet` builds a fleet of any size from :class:`~bot.demo.simcloud.config.SimConfig`
(tests, the benchmark); :func:`demo_fleet` is the hand-written realistic one of the demo.

A cluster's operations are its backups' (one done Cluster.backup operation per backup, made when
asked for, so a fleet of 60,000 backups holds no operations until one is listed) and those added
by hand (:attr:`SimCluster.operations`: failed and running backups, updates, restores).
"""

from __future__ import annotations

import functools
import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.demo.simcloud.config import SimConfig

GIB = 1024**3
TIB = 1024**4
_ID_ALPHABET = string.ascii_lowercase + string.digits
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def make_id(prefix: str, rng: random.Random) -> str:
    """A cloud-style id: a 3-character service prefix and 17 random lowercase characters."""
    return prefix + "".join(rng.choice(_ID_ALPHABET) for _ in range(17))


@dataclass
class SimSchedule:
    """A snapshot schedule: ``kind`` is "hourly", "daily" or "weekly"."""

    kind: str
    minute: int = 0
    hour: int = 0
    day: str = ""
    max_age_days: int = 0

    @property
    def interval(self) -> timedelta:
        """Time between two scheduled snapshots."""
        return {
            "hourly": timedelta(hours=1),
            "daily": timedelta(days=1),
            "weekly": timedelta(days=7),
        }[self.kind]


@dataclass
class SimNodeGroup:
    """An OpenSearch node group: ``hosts`` hosts of ``disk_size`` bytes each."""

    name: str
    disk_size: int
    hosts: int
    roles: tuple[str, ...] = ("DATA",)
    preset: str = "s3-c8-m32"
    disk_type: str = "network-ssd"


def default_node_groups(data_disk: int = 512 * GIB) -> list[SimNodeGroup]:
    """Three data hosts of ``data_disk`` each and three small dedicated managers."""
    return [
        SimNodeGroup("hot", data_disk, 3, ("DATA",)),
        SimNodeGroup("managers", 20 * GIB, 3, ("MANAGER",), preset="s3-c2-m8"),
    ]


@dataclass
class SimMaintenance:
    """A maintenance the cloud has planned for a cluster (its ``plannedOperation``)."""

    info: str
    delayed_until: datetime | None = None
    next_window: datetime | None = None
    latest: datetime | None = None


@dataclass
class SimPolicy:
    """A backup retention policy: a crontab (UTC) and how long its backups are kept."""

    policy_id: str
    name: str
    minute: str = "0"
    hour: str = "3"
    day_of_month: str = "*"
    month: str = "*"
    day_of_week: str = "*"
    retain_for_days: int = 7
    created_at: datetime | None = None
    description: str = ""


@dataclass
class SimClusterOperation:
    """An operation of a cluster beyond the ones its backups stand for."""

    id: str
    created_at: datetime
    description: str = "Create backup for OpenSearch cluster"
    #: The metadata's message name ("BackupClusterMetadata"), or "" for no metadata at all.
    metadata_type: str = "BackupClusterMetadata"
    done: bool = True
    modified_at: datetime | None = None
    error_code: int = 0
    error_message: str = ""


@dataclass
class SimVersion:
    """A version the service lists."""

    id: str
    status: str = "SUPPORTED"
    updatable_to: tuple[str, ...] = ()


def default_versions() -> list[SimVersion]:
    """What the service lists: an old version no backup restores to, down to the newest."""
    return [
        SimVersion("2.8", "LEGACY", ("2.12", "2.15", "2.17")),
        SimVersion("2.12", "DEPRECATED", ("2.15", "2.17")),
        SimVersion("2.15", "SUPPORTED", ("2.17",)),
        SimVersion("2.17", "ACTUAL"),
    ]


@dataclass
class SimFolder:
    """A folder of the simulated cloud (Resource Manager's ``Folder``)."""

    id: str
    name: str
    #: The cloud it belongs to ("": none the simulator lists, as in a fleet built by hand).
    cloud_id: str = ""
    #: ACTIVE, DELETING or PENDING_DELETION.
    status: str = "ACTIVE"
    #: The bot's account lacks a role on it: Folder.get, Cluster.list and Backup.list answer
    #: 403 PERMISSION_DENIED (Folder.list still lists it: that takes a role on the cloud).
    unreadable: bool = False
    description: str = ""
    created_at: datetime | None = None


@dataclass
class SimResourceCloud:
    """A cloud of the simulated organization (Resource Manager's ``Cloud``)."""

    id: str
    name: str
    organization_id: str = ""
    description: str = ""
    created_at: datetime | None = None


@dataclass
class SimHost:
    """One host of a cluster (Cluster.listHosts)."""

    name: str
    zone_id: str
    node_group: str
    preset: str
    disk_size: int
    subnet_id: str = ""
    health: str = "ALIVE"
    #: When a restored cluster's host turns ALIVE (None: it is as ``health`` says).
    alive_at: datetime | None = None


@dataclass
class SimCluster:
    """A Managed OpenSearch cluster of the simulated cloud."""

    id: str
    folder_id: str
    name: str
    created_at: datetime
    description: str = ""
    environment: str = "PRODUCTION"
    labels: dict[str, str] = field(default_factory=dict)
    status: str = "RUNNING"
    health: str = "ALIVE"
    version: str = "2.12"
    schedule: SimSchedule | None = None
    #: The bot's service account lacks a role on it: its backups answer 403.
    unreadable: bool = False
    node_groups: list[SimNodeGroup] = field(default_factory=default_node_groups)
    maintenance: SimMaintenance | None = None
    #: Its backup retention policies; None: not offered for it (the endpoint answers 404).
    policies: list[SimPolicy] | None = field(default_factory=list)
    #: Operations added by hand (failed or running backups, updates...); its backups' own
    #: done operations are made from its backups when listed.
    operations: list[SimClusterOperation] = field(default_factory=list)
    #: Hosts made by a restore; none: made from the node groups when listed.
    hosts: list[SimHost] = field(default_factory=list)
    #: None: on for PRODUCTION clusters, as before restores existed.
    deletion_protection: bool | None = None
    #: Deletes of it that will still fail (the operation ends in an error).
    delete_failures: int = 0
    network_id: str = ""


@dataclass
class SimBackup:
    """One backup (snapshot) of a simulated cluster."""

    id: str
    folder_id: str
    cluster_id: str
    started_at: datetime
    created_at: datetime
    indices: tuple[str, ...] = ()
    opensearch_version: str = "2.12"
    size_bytes: int = 0
    indices_total: int = 0
    incremental_size_bytes: int = 0
    total_size_bytes: int = 0
    free_space_required_bytes: int = 0


@dataclass
class Fleet:
    """Folders, clusters and their backups. Backups of a cluster are kept newest first."""

    folders: list[SimFolder] = field(default_factory=list)
    #: The clouds Resource Manager lists (their folders name them by ``cloud_id``).
    clouds: list[SimResourceCloud] = field(default_factory=list)
    clusters: dict[str, SimCluster] = field(default_factory=dict)
    backups: dict[str, list[SimBackup]] = field(default_factory=dict)
    #: The versions the service lists; None: the versions endpoint answers 404.
    versions: list[SimVersion] | None = field(default_factory=default_versions)
    _by_id: dict[str, SimBackup] = field(default_factory=dict, repr=False)

    def add_cluster(self, cluster: SimCluster) -> SimCluster:
        """Add a cluster (with no backups yet)."""
        self.clusters[cluster.id] = cluster
        self.backups.setdefault(cluster.id, [])
        return cluster

    def add_backup(self, backup: SimBackup) -> SimBackup:
        """Add a backup, keeping the cluster's list newest first."""
        items = self.backups.setdefault(backup.cluster_id, [])
        items.append(backup)
        # Generation adds backups newest first; sort only when one arrives out of that order.
        if len(items) > 1 and items[-2].created_at < backup.created_at:
            items.sort(key=lambda b: b.created_at, reverse=True)
        self._by_id[backup.id] = backup
        return backup

    def backup(self, backup_id: str) -> SimBackup | None:
        """A backup by id, or None."""
        return self._by_id.get(backup_id)

    def drop_backups_after(self, cluster_id: str, when: datetime) -> int:
        """Forget the cluster's backups finished after ``when`` (an outage that lost them, for
        the demo's ``:storm``); how many."""
        items = self.backups.get(cluster_id, [])
        kept = [b for b in items if b.created_at <= when]
        for backup in items:
            if backup.created_at > when:
                self._by_id.pop(backup.id, None)
        self.backups[cluster_id] = kept
        return len(items) - len(kept)

    def folder_ids(self) -> list[str]:
        """Ids of the folders a config would name: the ACTIVE ones the bot may read (the demo's
        and the tests' ``watch.folders``). Every folder is in :attr:`folders`."""
        return [f.id for f in self.folders if f.status == "ACTIVE" and not f.unreadable]

    def folder(self, folder_id: str) -> SimFolder | None:
        """A folder by id, or None."""
        return next((f for f in self.folders if f.id == folder_id), None)

    def folders_of(self, cloud_id: str) -> list[SimFolder]:
        """The folders of a cloud, in creation order, whatever their status."""
        return [f for f in self.folders if f.cloud_id == cloud_id]

    def clouds_of(self, organization_id: str) -> list[SimResourceCloud]:
        """The clouds of an organization (every cloud for "")."""
        return [
            c for c in self.clouds if not organization_id or c.organization_id == organization_id
        ]

    def clusters_in(self, folder_id: str) -> list[SimCluster]:
        """Clusters of one folder, in creation order."""
        return [c for c in self.clusters.values() if c.folder_id == folder_id]

    def cluster_by_name(self, name: str) -> SimCluster:
        """A cluster by name (demo and tests); KeyError if none."""
        for cluster in self.clusters.values():
            if cluster.name == name:
                return cluster
        raise KeyError(name)

    def newest_backup(self, cluster_id: str) -> SimBackup | None:
        """The cluster's newest backup, or None."""
        items = self.backups.get(cluster_id) or []
        return items[0] if items else None


def backup_id_for(cluster_id: str, created_at: datetime) -> str:
    """A backup id in the MDB style "<cluster id>:<snapshot name>" (at most 50 characters)."""
    return f"{cluster_id}:snapshot-{created_at:%Y%m%dt%H%M%S}"


@functools.lru_cache(maxsize=4096)
def _daily_indices(kind: str, day: date, days: int) -> tuple[str, ...]:
    # Memoised: a fleet of 60,000 backups asks for the same few hundred days again and again.
    return tuple(f"{kind}-{day - timedelta(days=i):%Y.%m.%d}" for i in range(days))


def _indices_for(kind: str, day: datetime, rng: random.Random) -> tuple[str, ...]:
    if kind in ("logs", "audit", "traces", "events", "security"):
        return _daily_indices(kind, day.date(), rng.randint(3, 10))
    if kind == "metrics":
        return tuple(f"metrics-{day - timedelta(days=31 * i):%Y.%m}" for i in range(3))
    base = ("products-v4", "products-v3", "suggest", "synonyms", ".opensearch_dashboards_1")
    return base[: rng.randint(2, len(base))]


def last_slot(schedule: SimSchedule, at: datetime) -> datetime:
    """The schedule's latest slot at or before ``at``."""
    base = at.replace(second=0, microsecond=0)
    if schedule.kind == "hourly":
        slot = base.replace(minute=schedule.minute)
    elif schedule.kind == "daily":
        slot = base.replace(hour=schedule.hour, minute=schedule.minute)
    else:
        back = (at.weekday() - _WEEKDAYS.index(schedule.day or "MON")) % 7
        slot = (base - timedelta(days=back)).replace(hour=schedule.hour, minute=schedule.minute)
    while slot > at:
        slot -= schedule.interval
    return slot


def _make_backups(
    fleet: Fleet,
    cluster: SimCluster,
    rng: random.Random,
    *,
    newest: datetime,
    count: int,
    base_size: int,
    now: datetime | None = None,
) -> None:
    """``count`` backups, the newest finished at ``newest``. With ``now``, a scheduled cluster's
    backups start at its slots instead: the newest at the latest slot before ``newest`` whose
    backup had time to finish by ``now``, as a real schedule would leave them."""
    schedule = cluster.schedule if now is not None else None
    interval = cluster.schedule.interval if cluster.schedule else timedelta(days=1)
    kind = cluster.name.split("-")[0]
    created = newest
    slot = last_slot(schedule, newest) if schedule is not None else None
    size = base_size
    for index in range(count):
        # Mix precisions so the wire carries 0, 3 and 9 fractional digits.
        precision = rng.choice((0, 3, 6))
        micros = rng.randrange(1_000_000)
        if precision == 0:
            micros = 0
        elif precision == 3:
            micros -= micros % 1000
        duration = timedelta(seconds=rng.randint(90, 2400))
        if slot is not None and now is not None:
            if index == 0 and slot + duration + timedelta(minutes=1) > now:
                slot -= interval  # the latest slot's backup is still running
            created = slot + duration
        created_at = created.replace(microsecond=micros)
        incremental = int(size * rng.uniform(0.005, 0.08))
        indices = _indices_for(kind, created_at, rng)
        fleet.add_backup(
            SimBackup(
                id=backup_id_for(cluster.id, created_at),
                folder_id=cluster.folder_id,
                cluster_id=cluster.id,
                started_at=created_at - duration,
                created_at=created_at,
                indices=indices,
                opensearch_version=cluster.version,
                size_bytes=size,
                indices_total=len(indices),
                incremental_size_bytes=incremental,
                total_size_bytes=size,
                free_space_required_bytes=int(size * 0.1),
            )
        )
        size = max(GIB, int(size * rng.uniform(0.97, 1.0)))
        jitter = timedelta(seconds=rng.randint(-120, 120))
        created = created - interval + jitter
        if slot is not None:
            slot -= interval


_PRODUCTS = ("search", "logs", "metrics", "catalog", "audit", "orders", "traces", "events")
_STAGES = (("prod", "PRODUCTION"), ("staging", "PRESTABLE"), ("dev", "PRESTABLE"))
_REGIONS = ("eu", "us", "asia", "ru")
_TEAMS = ("search", "platform", "observability", "commerce", "security")


def generate_fleet(config: SimConfig, now: datetime) -> Fleet:
    """A fleet of ``config.folders`` x ``config.clusters_per_folder`` clusters, from the seed."""
    rng = random.Random(config.seed)
    fleet = Fleet()
    # The cloud's ids come from a generator of their own: the folders', clusters' and backups'
    # stay what they were before the simulator had clouds.
    cloud_rng = random.Random(f"clouds:{config.seed}")
    organization = make_id("bpf", cloud_rng)
    cloud = SimResourceCloud(
        id=make_id("b1g", cloud_rng), name="cloud-1", organization_id=organization
    )
    fleet.clouds.append(cloud)
    for f in range(config.folders):
        folder = SimFolder(id=make_id("b1g", rng), name=f"folder-{f + 1}", cloud_id=cloud.id)
        fleet.folders.append(folder)
        for c in range(config.clusters_per_folder):
            product = rng.choice(_PRODUCTS)
            stage, environment = rng.choice(_STAGES)
            name = f"{product}-{stage}-{rng.choice(_REGIONS)}-{f + 1}-{c + 1}"
            kind = rng.choice(("hourly", "daily", "daily", "weekly", None))
            schedule = (
                SimSchedule(
                    kind=kind,
                    minute=rng.choice((0, 15, 30, 45)),
                    hour=rng.randrange(24),
                    day=rng.choice(_WEEKDAYS) if kind == "weekly" else "",
                    max_age_days=rng.choice((0, 7, 14, 30)),
                )
                if kind
                else None
            )
            cluster = fleet.add_cluster(
                SimCluster(
                    id=make_id("c9q", rng),
                    folder_id=folder.id,
                    name=name,
                    created_at=now - timedelta(days=rng.randint(30, 900)),
                    environment=environment,
                    labels={
                        "tier": rng.choice(("critical", "standard")),
                        "team": rng.choice(_TEAMS),
                    },
                    schedule=schedule,
                    version=rng.choice(("2.12", "2.15", "2.17")),
                )
            )
            interval = schedule.interval if schedule else timedelta(days=1)
            stale = rng.random() < config.stale_fraction
            age = interval * rng.uniform(3, 8) if stale else interval * rng.uniform(0.05, 0.9)
            _make_backups(
                fleet,
                cluster,
                rng,
                # A fresh scheduled cluster has the backup of its latest slot that had time to
                # finish: its freshness is not in question.
                newest=now if schedule and not stale else now - age,
                count=config.backups_per_cluster,
                base_size=rng.randint(2, 3000) * GIB,
                now=now,
            )
    return fleet


# --- the demo fleet ------------------------------------------------------------------------------

# (folder, name, environment, tier, team, schedule, newest backup age in hours or None, count)
_DEMO: tuple[tuple[int, str, str, str, str, str | None, float | None, int], ...] = (
    (0, "search-prod-eu", "PRODUCTION", "critical", "search", "hourly:15", 0.4, 48),
    (0, "search-prod-us", "PRODUCTION", "critical", "search", "hourly:45", 0.9, 48),
    (0, "search-prod-asia", "PRODUCTION", "critical", "search", "hourly:0", 7.5, 48),
    (0, "search-staging", "PRESTABLE", "standard", "search", "daily:03:30", 10, 14),
    (0, "search-dev", "PRESTABLE", "standard", "search", None, None, 0),
    (0, "suggest-prod", "PRODUCTION", "critical", "search", "daily:02:00", 20, 14),
    (0, "suggest-staging", "PRESTABLE", "standard", "search", "daily:02:00", 22, 14),
    (0, "synonyms-prod", "PRODUCTION", "standard", "search", "weekly:SUN:01:00", 60, 8),
    (0, "vector-search-prod", "PRODUCTION", "critical", "ml", "daily:04:15", 51, 14),
    (0, "vector-search-staging", "PRESTABLE", "standard", "ml", None, 15, 10),
    (1, "logs-prod", "PRODUCTION", "critical", "observability", "hourly:5", 0.2, 72),
    (1, "logs-staging", "PRESTABLE", "standard", "observability", "daily:01:00", 5, 14),
    (1, "logs-archive", "PRODUCTION", "standard", "observability", "weekly:SAT:23:00", 400, 8),
    (1, "metrics-prod", "PRODUCTION", "critical", "observability", "hourly:30", 0.6, 48),
    (1, "metrics-staging", "PRESTABLE", "standard", "observability", "daily:00:30", 18, 14),
    (1, "traces-prod", "PRODUCTION", "critical", "observability", "daily:05:00", 30, 14),
    (1, "audit-prod", "PRODUCTION", "critical", "security", "daily:00:00", 9, 30),
    (1, "audit-staging", "PRESTABLE", "standard", "security", "weekly:MON:03:00", 70, 8),
    (1, "security-events", "PRODUCTION", "critical", "security", "hourly:20", 3.2, 48),
    (1, "alerts-history", "PRESTABLE", "standard", "observability", None, 20, 10),
    (2, "catalog-prod-eu", "PRODUCTION", "critical", "commerce", "hourly:10", 0.5, 48),
    (2, "catalog-prod-us", "PRODUCTION", "critical", "commerce", "hourly:40", 1.2, 48),
    (2, "catalog-staging", "PRESTABLE", "standard", "commerce", "daily:03:00", 12, 14),
    (2, "orders-prod", "PRODUCTION", "critical", "commerce", "daily:02:30", 4, 30),
    (2, "orders-staging", "PRESTABLE", "standard", "commerce", "daily:02:30", 80, 14),
    (2, "reviews-prod", "PRODUCTION", "standard", "commerce", "daily:06:00", 14, 14),
    (2, "recommendations-prod", "PRODUCTION", "standard", "ml", "weekly:WED:04:00", 100, 8),
    (2, "payments-audit", "PRODUCTION", "critical", "payments", "daily:01:30", 6, 14),
    (2, "checkout-events", "PRODUCTION", "critical", "commerce", "hourly:50", 0.7, 48),
    (2, "promo-search", "PRESTABLE", "standard", "marketing", None, 40, 10),
)
_DEMO_FOLDERS = ("search-platform", "observability", "commerce")
#: The demo organization's second cloud: folders being deleted, and an ACTIVE one the bot may not
#: read; none of them holds a cluster the bot can see.
_SANDBOX_FOLDERS = (
    ("legacy-reports", "DELETING", False),
    ("old-analytics", "PENDING_DELETION", False),
    ("finance-restricted", "ACTIVE", True),
)
_STOPPED = frozenset({"logs-archive"})
_UNREADABLE = frozenset({"payments-audit"})
#: (status, health) of the clusters that are not RUNNING and ALIVE (besides the stopped one).
_STATES = {
    "vector-search-prod": ("ERROR", "DEAD"),
    "security-events": ("RUNNING", "DEGRADED"),
    "search-staging": ("UPDATING", "ALIVE"),
}
#: The demo's failed backups: every slot since the newest backup failed with this message.
_FAILING = {
    "traces-prod": (
        "Snapshot failed: [yc-managed-backups] access denied to the backup bucket "
        "(Object Storage: 403 AccessDenied)"
    ),
    "search-prod-asia": (
        "Snapshot failed: [yc-managed-backups] Object Storage is throttling requests "
        "(503 SlowDown); the snapshot was aborted"
    ),
}


def _parse_schedule(spec: str | None, rng: random.Random) -> SimSchedule | None:
    if spec is None:
        return None
    kind, _, rest = spec.partition(":")
    parts = rest.split(":")
    max_age = rng.choice((7, 14, 30))
    if kind == "hourly":
        return SimSchedule(kind="hourly", minute=int(parts[0]), max_age_days=max_age)
    if kind == "daily":
        return SimSchedule(
            kind="daily", hour=int(parts[0]), minute=int(parts[1]), max_age_days=max_age
        )
    return SimSchedule(
        kind="weekly", day=parts[0], hour=int(parts[1]), minute=int(parts[2]), max_age_days=60
    )


def demo_fleet(now: datetime) -> Fleet:
    """The demo's realistic fleet: 3 folders and 30 clusters, as seen at ``now``.

    Some clusters are stale, ``search-dev`` has no backups, ``payments-audit`` is unreadable
    (403 on its backups) and ``logs-archive`` is stopped. Why some are late: the last backup
    attempts of ``traces-prod`` (its last two) and ``search-prod-asia`` failed,
    ``vector-search-prod`` is DEAD, ``security-events`` DEGRADED, ``search-staging`` UPDATING;
    ``catalog-prod-eu``'s newest backup would not fit a restore, ``orders-prod`` has maintenance
    planned over its backup window; ``vector-search-staging`` is scheduled by a retention policy
    and ``alerts-history`` is offered none.
    """
    rng = random.Random(20261120)
    fleet = Fleet()
    for name in _DEMO_FOLDERS:
        fleet.folders.append(SimFolder(id=make_id("b1g", rng), name=name))
    for folder_index, name, env, tier, team, spec, age_hours, count in _DEMO:
        folder = fleet.folders[folder_index]
        status, health = _STATES.get(name, ("RUNNING", "ALIVE"))
        cluster = fleet.add_cluster(
            SimCluster(
                id=make_id("c9q", rng),
                folder_id=folder.id,
                name=name,
                description=f"{team} team, {env.lower()}",
                created_at=now - timedelta(days=rng.randint(60, 1200)),
                environment=env,
                labels={"tier": tier, "team": team},
                status="STOPPED" if name in _STOPPED else status,
                health="HEALTH_UNKNOWN" if name in _STOPPED else health,
                version=rng.choice(("2.12", "2.15", "2.17")),
                schedule=_parse_schedule(spec, rng),
                unreadable=name in _UNREADABLE,
            )
        )
        if age_hours is None or count == 0:
            continue
        if name.startswith(("logs", "metrics", "traces", "audit", "security")):
            base_size = rng.randint(800, 6000) * GIB
            cluster.node_groups = default_node_groups(4 * TIB)
        else:
            base_size = rng.randint(5, 700) * GIB
        age = timedelta(hours=age_hours)
        schedule = cluster.schedule
        # A scheduled cluster's backups start at its slots; one meant to be fresh has the backup
        # of its latest slot that had time to finish.
        on_time = schedule is not None and age < schedule.interval
        _make_backups(
            fleet,
            cluster,
            rng,
            newest=now if on_time else now - age,
            count=count,
            base_size=base_size,
            now=now,
        )
    _demo_explanations(fleet, now, rng)
    _demo_organization(fleet, now)
    return fleet


def _demo_organization(fleet: Fleet, now: datetime) -> None:
    """The demo's organization: the three folders in the cloud ``platform``, and a cloud
    ``sandbox`` with folders of every status. Ids from a generator of their own, so that the
    folders', clusters' and backups' stay what they were."""
    rng = random.Random(20261121)
    organization = make_id("bpf", rng)
    platform = SimResourceCloud(
        id=make_id("b1g", rng),
        name="platform",
        organization_id=organization,
        created_at=now - timedelta(days=1500),
    )
    sandbox = SimResourceCloud(
        id=make_id("b1g", rng),
        name="sandbox",
        organization_id=organization,
        created_at=now - timedelta(days=400),
    )
    fleet.clouds.extend((platform, sandbox))
    for folder in fleet.folders:
        folder.cloud_id = platform.id
    for name, status, unreadable in _SANDBOX_FOLDERS:
        fleet.folders.append(
            SimFolder(
                id=make_id("b1g", rng),
                name=name,
                cloud_id=sandbox.id,
                status=status,
                unreadable=unreadable,
                created_at=now - timedelta(days=rng.randint(30, 300)),
            )
        )


def new_folder(fleet: Fleet, now: datetime, *, cloud_id: str = "", name: str = "") -> SimFolder:
    """A folder created now in ``cloud_id`` (default: the first cloud), with one new cluster
    ``search-eu`` whose newest backup is two hours old: what a team does between two sweeps
    (the demo's ``:newfolder``, the coverage tests)."""
    rng = random.Random(f"new-folder:{len(fleet.folders)}")
    cloud = cloud_id or (fleet.clouds[0].id if fleet.clouds else "")
    count = sum(1 for f in fleet.folders if f.name.startswith("team-search"))
    folder = SimFolder(
        id=make_id("b1g", rng),
        name=name or ("team-search" if count == 0 else f"team-search-{count + 1}"),
        cloud_id=cloud,
        created_at=now,
    )
    fleet.folders.append(folder)
    suffix = "" if count == 0 else f"-{count + 1}"
    cluster = fleet.add_cluster(
        SimCluster(
            id=make_id("c9q", rng),
            folder_id=folder.id,
            name=f"search-eu{suffix}",
            description="search team, production",
            created_at=now - timedelta(days=2),
            labels={"tier": "critical", "team": "search"},
            schedule=SimSchedule(kind="daily", hour=(now.hour - 2) % 24, minute=0),
            version="2.17",
        )
    )
    _make_backups(
        fleet,
        cluster,
        rng,
        newest=now - timedelta(hours=2),
        count=3,
        base_size=40 * GIB,
    )
    return folder


def _demo_explanations(fleet: Fleet, now: datetime, rng: random.Random) -> None:
    """What the demo's "why" shows: failed attempts, a backup that would not fit a restore,
    planned maintenance, retention policies (and a cluster without them), other operations."""
    for name, message in _FAILING.items():
        cluster = fleet.cluster_by_name(name)
        newest = fleet.newest_backup(cluster.id)
        if cluster.schedule is None or newest is None:
            continue
        slot = last_slot(cluster.schedule, newest.started_at) + cluster.schedule.interval
        last = slot
        while slot <= now - timedelta(minutes=10):
            cluster.operations.append(_failed(rng, slot, message))
            last, slot = slot, slot + cluster.schedule.interval
        if cluster.schedule.kind == "daily" and last + timedelta(hours=4) < now:
            # Someone pressed "Start backup now" after the scheduled one failed: it failed too.
            cluster.operations.append(_failed(rng, last + timedelta(hours=4, minutes=12), message))
    # A newest backup that needs more free space than a cluster of this shape has.
    tight = fleet.cluster_by_name("catalog-prod-eu")
    newest = fleet.newest_backup(tight.id)
    if newest is not None:
        newest.free_space_required_bytes = max(newest.free_space_required_bytes, 60 * GIB)
        per_host = max(GIB, newest.free_space_required_bytes // 6)
        tight.node_groups = [
            SimNodeGroup("hot", per_host, 3, ("DATA",)),
            SimNodeGroup("managers", 10 * GIB, 3, ("MANAGER",), preset="s3-c2-m8"),
        ]
    # A maintenance the cloud delayed into the next backup window of orders-prod.
    orders = fleet.cluster_by_name("orders-prod")
    if orders.schedule is not None:
        window = last_slot(orders.schedule, now) + orders.schedule.interval
        orders.maintenance = SimMaintenance(
            "Upgrade OpenSearch to 2.17.1 and restart the hosts one by one",
            delayed_until=window - timedelta(minutes=30),
            latest=now - timedelta(days=41),
        )
        orders.operations.append(
            SimClusterOperation(
                id=make_id("c9q", rng),
                created_at=now - timedelta(days=3, hours=2),
                modified_at=now - timedelta(days=3, hours=1, minutes=40),
                description="Update OpenSearch cluster",
                metadata_type="UpdateClusterMetadata",
            )
        )
    # Retention policies: the schedule of a cluster without snapshot management, and a cluster
    # the cloud offers none for (404).
    fleet.cluster_by_name("vector-search-staging").policies = [
        SimPolicy(
            "pol" + make_id("", rng),
            "nightly-7d",
            minute="0",
            hour="4",
            retain_for_days=7,
            created_at=now - timedelta(days=90),
            description="every night, kept a week",
        )
    ]
    fleet.cluster_by_name("alerts-history").policies = None


def _failed(rng: random.Random, at: datetime, message: str) -> SimClusterOperation:
    return SimClusterOperation(
        id=make_id("c9q", rng),
        created_at=at + timedelta(seconds=rng.randint(1, 40)),
        modified_at=at + timedelta(minutes=rng.randint(3, 25)),
        error_code=13,
        error_message=message,
    )
