"""What a drill does, decided from plain values: which period is due, which backup is restored,
the restore request (where, how big), what it costs at most, and which drill clusters the reaper
deletes. Pure: no I/O here."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cloud.models import Backup, Cluster, RestoreNodeGroup, RestoreRequest, newest_first
from bot.config import DRILL_MIN_DISK_GIB, DrillRoute
from bot.cron import cron_trigger, last_fire_within
from bot.drills.model import DRILL_LABEL, cluster_name, drill_labels
from bot.fleet.match import matches

GIB = 1024**3
#: Windows looked back through for a schedule's last fire: a frequent cron is found in the
#: first, a monthly one in the third, without stepping through a year of minutes.
_LOOK_BACK = (timedelta(hours=2), timedelta(days=2), timedelta(days=32), timedelta(days=367))


def period_start(route: DrillRoute, now: datetime) -> datetime | None:
    """When the route's schedule last fired at or before ``now`` (a cluster is drilled at most
    once per period, and the period names its drill); None if it never fired within a year."""
    trigger = cron_trigger(route.schedule, route.timezone)
    for window in _LOOK_BACK:
        fire = last_fire_within(trigger, now - window, now)
        if fire is not None:
            return fire
    return None


def choose_backup(
    backups: Iterable[Backup], route: DrillRoute, *, drill: str, now: datetime
) -> Backup | None:
    """The backup a drill restores: the newest, or (``backup: random``) one of those made within
    ``random_within`` chosen by the drill's id, so that a replica taking the drill over picks
    the same one. None when there is none to restore."""
    ordered = [b for b in newest_first(backups) if b.created_at is not None]
    if not ordered:
        return None
    if route.backup == "newest":
        return ordered[0]
    recent = [b for b in ordered if b.created_at and b.created_at >= now - route.random_within]
    if not recent:
        return ordered[0]
    pick = int(hashlib.sha256(drill.encode()).hexdigest(), 16) % len(recent)
    return recent[pick]


def disk_gib(route: DrillRoute, backup: Backup) -> int:
    """Disk per host: the route's, else what the backup says a restore needs (its
    ``freeSpaceRequiredBytes``, or its size with a fifth more when it says nothing), rounded up
    to whole GiB, at least the smallest disk."""
    if route.disk is not None:
        return route.disk
    needed = backup.free_space_required_bytes or int(backup.size_bytes * 1.2)
    return max(DRILL_MIN_DISK_GIB, math.ceil(needed / GIB))


def restore_request(
    route: DrillRoute,
    source: Cluster,
    backup: Backup,
    *,
    drill: str,
    admin_password: str,
    now: datetime,
) -> RestoreRequest:
    """The restore of ``backup`` into a throwaway cluster: named and labelled for the drill, in
    the route's folder, network and subnets, of its preset and disk, deletion protection off."""
    zones = tuple(route.subnets)
    group = RestoreNodeGroup(
        name="drill",
        preset=route.preset,
        disk_size=disk_gib(route, backup) * GIB,
        hosts_count=route.hosts,
        zone_ids=zones,
        subnet_ids=tuple(route.subnets[zone] for zone in zones),
        roles=("DATA", "MANAGER"),
        disk_type=route.disk_type,
    )
    return RestoreRequest(
        backup_id=backup.id,
        name=cluster_name(source.name or source.id, now),
        folder_id=route.folder,
        network_id=route.network,
        node_groups=(group,),
        admin_password=admin_password,
        version=route.version or backup.opensearch_version,
        labels=drill_labels(drill, source.id),
        description=f"Restore drill of {source.id} from {backup.id}; deleted by the bot",
        deletion_protection=False,
    )


@dataclass(frozen=True, slots=True)
class DrillCost:
    """The most a drill can cost, in the preset's own terms: hosts × preset × time limit."""

    hosts: int
    preset: str
    disk_gib: int
    disk_type: str
    time_limit: timedelta

    @property
    def host_hours(self) -> float:
        return self.hosts * self.time_limit.total_seconds() / 3600


def drill_cost(route: DrillRoute, backup: Backup | None) -> DrillCost:
    """What one drill of ``route`` may cost at most (the disk as the backup needs, if known)."""
    disk = disk_gib(route, backup) if backup is not None else route.disk or DRILL_MIN_DISK_GIB
    return DrillCost(route.hosts, route.preset, disk, route.disk_type, route.time_limit)


def route_for(routes: Sequence[DrillRoute], cluster: Cluster) -> DrillRoute | None:
    """The first drill route whose match fits the cluster; None when none does."""
    return next((route for route in routes if matches(route.match, cluster)), None)


def is_drill_cluster(cluster: Cluster) -> bool:
    """Whether a cluster is a drill's throwaway (never watched, never alerted about)."""
    return DRILL_LABEL in cluster.labels


def leftovers(
    clusters: Iterable[Cluster],
    *,
    limits: Mapping[str, timedelta],
    finished: set[str],
    default_limit: timedelta,
    now: datetime,
) -> list[Cluster]:
    """The drill clusters to delete now: those older than their drill's time limit (``limits``
    by drill id; ``default_limit`` for a drill the store does not know), and those whose drill
    is over (its delete failed or its replica died after the result). A cluster whose age the
    cloud does not say is deleted: a drill cluster is never worth keeping."""
    out = []
    for cluster in clusters:
        drill = cluster.labels.get(DRILL_LABEL)
        if drill is None:
            continue
        limit = limits.get(drill, default_limit)
        if drill in finished or cluster.created_at is None or now - cluster.created_at >= limit:
            out.append(cluster)
    return sorted(out, key=lambda c: c.id)
