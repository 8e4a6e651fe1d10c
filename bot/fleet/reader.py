"""Reading the watched fleet: which clusters, where each one's backups stand, and why.

One reading serves a sweep or a digest. It keeps only what they need of each cluster (the newest
completed backup, the one before it, how many there are, the sizes and durations of the last
few, and for the freshness ledger each backup's id, times and size), never whole Backup values,
so that a fleet of 1,000 clusters with 60 backups each stays small. Every cluster's backups are
listed at once; the client's limiter bounds the requests in
flight, and the caller's lane (background for the sweep and the digests) is the reads' lane.

What else is read, and when (each request costs, and a sweep of a fresh fleet should cost none):

- the cluster's backup retention policies, when they could set its maximum age (it has no
  snapshot schedule and no override matches), or always for one cluster shown in ``full``;
  where two or more clusters of a folder want them, the folder's are listed in one request
  (ListByFolder), else (or where the cloud does not list them by folder) one per cluster;
  where the cloud offers none (404, 501) the client remembers it, so that costs one request per
  process;
- its operations (Cluster.listOperations, every page), only when its freshness is in question
  (stale, never backed up, or past a slot with no backup), or always in ``full``: they hold the
  failed backup attempts a Backup cannot show;
- the versions the service lists, once per ``full`` reading (for restore readiness);
- the names of the read clusters' folders not found in a watched cloud (Folder.get, kept
  5 minutes by :class:`bot.fleet.discovery.FolderDirectory`), while the clusters are read.

:meth:`ClusterReading.report` turns a reading into its freshness report, explanation attached.
"""

from __future__ import annotations

import asyncio
import heapq
import reprlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from bot import clock
from bot.cloud.client import CloudClient
from bot.cloud.models import (
    Backup,
    Cluster,
    Operation,
    RetentionPolicy,
    SkippedItem,
    SlimBackup,
    Version,
    backup_of,
    newest_first_key,
    slim_int,
    slim_time,
)
from bot.config import BotConfig, Freshness, Match
from bot.errors import BotError, CloudError
from bot.fleet.discovery import Discovery, directory_for
from bot.fleet.match import excluded_folder, matches, watched
from bot.fleet.seen import EMPTY, PackedSeen
from bot.freshness.attempts import AttemptHistory, backup_attempts, is_backup_operation
from bot.freshness.explain import TREND_LENGTH, TrendPoint, explain
from bot.freshness.model import FreshnessReport, MaxAgeSource
from bot.freshness.policy import classify, in_question, max_age_for, missed_slot, schedule_for
from bot.i18n.catalog import _

#: Page size of every list call: the API's maximum, to keep the number of requests down.
PAGE_SIZE = 1000
#: Clusters read at once: a bounded pool of readers, not one task per cluster gathered at once
#: (10,000 waiting tasks hold 10,000 coroutines and their pages); the client's limiter still
#: bounds the requests in flight, so more readers than that buy nothing.
READERS = 32

_T = TypeVar("_T")


def _short_repr(value: object, **fields: object) -> str:
    """``Name(key=value, ...)`` of a few fields, each cut to 200 characters."""
    said = ", ".join(f"{key}={reprlib.repr(field)[:200]}" for key, field in fields.items())
    return f"{type(value).__name__}({said})"


@dataclass(frozen=True, slots=True, repr=False)
class ClusterReading:
    """One cluster and where its backups stand. Its repr is one short line, whatever the
    cluster holds (a reading's repr may end up in a log line or an exception)."""

    cluster: Cluster
    newest: Backup | None  # the newest completed backup
    previous: Backup | None  # the completed backup before it (for the digest's shrink check)
    count: int | None  # how many backups the cluster has; None when they could not be read
    error: str | None  # why the backups could not be read, for a person; None when read
    #: Backups the cloud sent that could not be read and were left out, for a person.
    skipped: tuple[str, ...] = ()
    #: The newest completed backups' sizes and durations, oldest first (at most 14).
    trend: tuple[TrendPoint, ...] = ()
    #: Its backup attempts, from its operations; None when they were not read.
    attempts: AttemptHistory | None = None
    operations_error: str = ""  # why its operations could not be read
    #: Its backup retention policies; None when not read, or not offered here.
    policies: tuple[RetentionPolicy, ...] | None = None
    policies_offered: bool | None = None  # None: not asked
    policies_error: str = ""  # why they could not be read
    #: The versions the service lists (a ``full`` reading only); None when not read.
    versions: tuple[Version, ...] | None = None
    #: Every completed backup listed, as the freshness ledger keeps it (id, times, size),
    #: packed; empty when the reading was asked not to keep them (a digest needs none).
    seen: PackedSeen = EMPTY

    def __repr__(self) -> str:
        newest = self.newest.id if self.newest is not None else None
        return _short_repr(
            self, cluster=self.cluster.id, count=self.count, newest=newest, error=self.error
        )

    @property
    def backups(self) -> list[Backup] | None:
        """The newest two completed backups (newest first), or None when they could not be read.

        Enough for :func:`bot.freshness.policy.classify`, which looks at the newest one only.
        """
        if self.error is not None or self.count is None:
            return None
        return [b for b in (self.newest, self.previous) if b is not None]

    def report(
        self, freshness: Freshness, *, now: datetime, had_schedule: bool = False
    ) -> FreshnessReport:
        """The cluster's freshness at ``now``, with what the cloud says of why attached.

        The maximum age counts its retention policies as a schedule when it has no snapshot
        schedule; when they could set it but could not be read, the freshness is UNKNOWN
        (a guessed maximum could open or close an incident for nothing).
        """
        cluster = self.cluster
        policies = self.policies or ()
        max_age = max_age_for(cluster, freshness, policies)
        error = self.error
        if error is None and self.policies_error and max_age.source == MaxAgeSource.DEFAULT:
            error = self.policies_error
        report = classify(
            cluster,
            self.backups,
            max_age=max_age,
            now=now,
            read_error=error,
            had_schedule=had_schedule,
        )
        schedule = schedule_for(cluster, policies)
        explanation = explain(
            cluster,
            newest=self.newest,
            now=now,
            schedule=schedule,
            attempts=self.attempts,
            operations_error=self.operations_error,
            policies=self.policies,
            policies_offered=self.policies_offered,
            policies_error=self.policies_error,
            versions=self.versions,
            trend=self.trend,
            missed=missed_slot(schedule, self.newest, now),
        )
        return replace(report, explanation=explanation)


@dataclass(frozen=True, slots=True, repr=False)
class FleetReading:
    """Every watched cluster's reading, and what could not be listed at all. Its repr counts
    them: the repr of every reading of 10,000 clusters is some 100 MB of text."""

    #: Every cluster's reading, by name then id; empty when the reading was folded (``folded``).
    clusters: tuple[ClusterReading, ...]
    #: Folders or clusters that could not be listed at all, and items of a listing that could
    #: not be read and were left out (the reading is incomplete either way).
    errors: tuple[str, ...]
    requests: int  # cloud requests this reading made (for benches)
    #: What ``watch.clouds`` and ``watch.organization`` gave (empty when the config names none).
    discovery: Discovery = field(default_factory=Discovery)
    #: Folders whose clusters could not be listed this time: what is in them is unknown.
    unlisted: frozenset[str] = frozenset()
    #: The names of the read clusters' folders, by id, where known (found in a watched cloud,
    #: or read by id and cached: :meth:`bot.fleet.discovery.FolderDirectory.folder_names`).
    folder_names: Mapping[str, str] = field(default_factory=dict)
    #: What ``read_fleet``'s ``fold`` made of each cluster's reading, in the same order as
    #: ``clusters`` would be (then ``clusters`` is empty: each reading was let go once folded).
    folded: tuple[object, ...] = ()

    def __repr__(self) -> str:
        return _short_repr(
            self,
            clusters=len(self.clusters) or len(self.folded),
            errors=len(self.errors),
            requests=self.requests,
        )

    @property
    def found_folders(self) -> frozenset[str] | None:
        """The folders found in the watched clouds; None when none are watched (then
        :func:`bot.fleet.match.watched` needs no list)."""
        return self.discovery.folder_ids() if self.discovery.clouds else None

    def by_id(self) -> dict[str, ClusterReading]:
        return {reading.cluster.id: reading for reading in self.clusters}


class _Counter:
    """Counts the API calls of one reading (pages, not retries)."""

    def __init__(self) -> None:
        self.requests = 0


@dataclass(frozen=True, slots=True)
class _Depth:
    """What one reading reads besides the backups (see the module docstring)."""

    freshness: Freshness
    now: datetime
    full: bool = False
    ledger: bool = True  # keep every listed backup for the freshness ledger (``seen``)
    trend: bool = True  # keep the newest backups' sizes and durations (``trend``)


def _depth(
    freshness: Freshness | None,
    now: datetime | None,
    full: bool,
    ledger: bool = True,
    trend: bool = True,
) -> _Depth:
    return _Depth(freshness or Freshness(), now or clock.now(), full, ledger, trend)


async def read_fleet(
    cloud: CloudClient,
    config: BotConfig,
    *,
    match: Match | None = None,
    now: datetime | None = None,
    ledger: bool = True,
    trend: bool = True,
    fold: Callable[[ClusterReading], object] | None = None,
) -> FleetReading:
    """Read every watched cluster (the folders of ``watch.clouds``, ``watch.folders`` and
    ``watch.clusters``) that passes ``watch.only``, ``watch.exclude`` and the optional
    ``match``, and the state of its backups; the clusters come by name (then id), whatever
    order the cloud lists them in. ``now`` (default: the clock) decides whose freshness is in
    question, and so whose operations are read. ``ledger=False`` keeps no ``seen`` and
    ``trend=False`` no ``trend`` (a digest shows neither: at 10,000 clusters they are most of
    a reading's memory). With ``fold``, each cluster's reading is turned into what the caller
    keeps of it as soon as it is read, and the reading (and the listed cluster) let go: the
    result's ``folded`` holds those, its ``clusters`` nothing (a digest of 10,000 clusters
    keeps a few values of each, not every cluster's models until the end)."""
    depth = _depth(config.freshness, now, False, ledger, trend)
    counter = _Counter()
    errors: list[str] = []

    discovery = await directory_for(cloud).discover(cloud, config.watch, now=depth.now)
    counter.requests += discovery.requests
    errors.extend(discovery.problems())
    found_folders = discovery.folder_ids() if discovery.clouds else None
    folders = [
        folder
        for folder in dict.fromkeys([*config.watch.folders, *(f.id for f in discovery.folders)])
        if not excluded_folder(config, folder)
    ]
    unlisted: set[str] = set()
    found = await _found(cloud, config, folders, counter, errors, unlisted)
    # By name, then id: the API lists in no particular order, and the sweep posts its alerts
    # in the reading's order, which must not change from one listing to the next.
    selected = sorted(
        (
            cluster
            for cluster in found.values()
            if watched(config, cluster, found_folders)
            and (match is None or matches(match, cluster))
        ),
        key=lambda cluster: (cluster.display_name, cluster.id),
    )
    # The listing's models are let go as the pool reads them (it empties ``selected``): a
    # cluster's config is most of its memory, and only its reading needs it.
    del found
    directory = directory_for(cloud)

    def keep(reading: ClusterReading) -> tuple[tuple[str, ...], object]:
        """What the reading's skipped backups say, and what is kept of the reading."""
        of = _("of {cluster}, {item}")
        name = reading.cluster.display_name
        told = tuple(of.format(cluster=name, item=item) for item in reading.skipped)
        return told, (reading if fold is None else fold(reading))

    names, kept = await asyncio.gather(
        directory.folder_names(
            cloud, [c.folder_id for c in selected if c.folder_id], now=depth.now
        ),
        _read_in_pool(cloud, selected, counter, depth, keep),
    )
    counter.requests += names.requests
    for told, _value in kept:
        errors.extend(told)
    values = [value for _told, value in kept]
    return FleetReading(
        clusters=tuple(v for v in values if isinstance(v, ClusterReading)) if fold is None else (),
        folded=tuple(values) if fold is not None else (),
        errors=tuple(errors),
        requests=counter.requests,
        discovery=discovery,
        unlisted=frozenset(unlisted),
        folder_names={
            **{f.id: f.name for f in discovery.folders if f.name},
            **names.names,
        },
    )


async def _found(
    cloud: CloudClient,
    config: BotConfig,
    folders: Sequence[str],
    counter: _Counter,
    errors: list[str],
    unlisted: set[str],
) -> dict[str, Cluster]:
    """The clusters of ``folders`` and of ``watch.clusters``, by id; what could not be listed
    goes to ``errors`` (and such folders to ``unlisted``)."""
    found: dict[str, Cluster] = {}
    listed = await asyncio.gather(*(_list_folder(cloud, f, counter) for f in folders))
    for folder_id, result in zip(folders, listed, strict=True):
        if isinstance(result, str):
            unlisted.add(folder_id)
            said = _("the clusters of folder {folder} could not be listed: {reason}")
            errors.append(said.format(folder=folder_id, reason=result))
            continue
        clusters, skipped = result
        where = _("in folder {folder}, {item}")
        errors.extend(where.format(folder=folder_id, item=item) for item in skipped)
        for cluster in clusters:
            found.setdefault(cluster.id, cluster)

    extra = [c for c in dict.fromkeys(config.watch.clusters) if c not in found]
    named = {cluster.name for cluster in found.values() if cluster.name}
    extra = [c for c in extra if c not in named]
    fetched = await asyncio.gather(*(_get_cluster(cloud, c, counter) for c in extra))
    for cluster_id, got in zip(extra, fetched, strict=True):
        if isinstance(got, str):
            errors.append(
                _("cluster {cluster} could not be read: {reason}").format(
                    cluster=cluster_id, reason=got
                )
            )
            continue
        found.setdefault(got.id, got)

    return found


async def read_cluster(
    cloud: CloudClient,
    cluster_id: str,
    *,
    freshness: Freshness | None = None,
    now: datetime | None = None,
    full: bool = False,
) -> ClusterReading:
    """Read one cluster again, and its backups (and, as the module docstring says, what else
    ``freshness`` and ``full`` call for). Never raises a cloud error: a cluster that cannot be
    read comes back with ``error`` set (and only its id known)."""
    depth = _depth(freshness, now, full)
    counter = _Counter()
    result = await _get_cluster(cloud, cluster_id, counter)
    if isinstance(result, str):
        return ClusterReading(
            cluster=Cluster(id=cluster_id),
            newest=None,
            previous=None,
            count=None,
            error=_("cluster {cluster} could not be read: {reason}").format(
                cluster=cluster_id, reason=result
            ),
        )
    if not depth.full:
        return await _read(cloud, result, counter, depth)
    versions, reading = await asyncio.gather(
        _read_versions(cloud, counter), _read(cloud, result, counter, depth)
    )
    return replace(reading, versions=versions)


async def read_clusters(
    cloud: CloudClient,
    clusters: Sequence[Cluster],
    *,
    freshness: Freshness | None = None,
    now: datetime | None = None,
    full: bool = False,
) -> list[ClusterReading]:
    """The backups of clusters already listed, read concurrently (errors kept per cluster),
    and what else ``freshness`` and ``full`` call for."""
    depth = _depth(freshness, now, full)
    counter = _Counter()
    reads = _read_in_pool(cloud, list(clusters), counter, depth, lambda reading: reading)
    if not depth.full:
        return list(await reads)
    versions, readings = await asyncio.gather(_read_versions(cloud, counter), reads)
    return [replace(r, versions=versions) for r in readings]


def newest_two(backups: Sequence[Backup]) -> tuple[Backup | None, Backup | None]:
    """The newest and second newest completed backups (by completion time, then id)."""
    newest: Backup | None = None
    previous: Backup | None = None
    for backup in backups:
        newest, previous = _keep_newest_two(newest, previous, backup)
    return newest, previous


# --- helpers -------------------------------------------------------------------------------------


async def _in_pool(
    clusters: list[Cluster],
    read: Callable[[Cluster], Awaitable[ClusterReading]],
    keep: Callable[[ClusterReading], _T],
    readers: int = READERS,
) -> list[_T]:
    """``keep`` of ``read`` of every cluster, in their order, by at most ``readers`` tasks at
    once. It takes the clusters out of ``clusters`` (which it empties), and lets each cluster
    and its reading go once ``keep`` has made what is kept of it."""
    count = len(clusters)
    results: list[tuple[_T] | None] = [None] * count
    queue = deque(enumerate(clusters))
    clusters.clear()

    async def reader() -> None:
        while queue:  # shared: each cluster is taken by one reader
            index, cluster = queue.popleft()
            results[index] = (keep(await read(cluster)),)
            del cluster

    await asyncio.gather(*(reader() for _ in range(min(readers, count))))
    return [r[0] for r in results if r is not None]


def _keep_newest_two(
    newest: Backup | None, previous: Backup | None, backup: Backup
) -> tuple[Backup | None, Backup | None]:
    # The API's order means nothing: every backup is compared, in the order of
    # bot.cloud.models.newest_first (completion time, then id), the same as
    # bot.freshness.policy.newest_backup. Backups with no completion time are not counted as done.
    if backup.created_at is None:
        return newest, previous
    key = newest_first_key(backup)
    if newest is None or key > newest_first_key(newest):
        return backup, newest
    if previous is None or key > newest_first_key(previous):
        return newest, backup
    return newest, previous


def _slim_key(item: SlimBackup) -> tuple[datetime, str]:
    created = item.get("created_at")
    assert created is not None  # only completed backups are keyed
    return created, item["id"]


def _trend_point(item: SlimBackup) -> TrendPoint:
    created = slim_time(item["created_at"])
    started = item.get("started_at")
    duration = None
    if started is not None:
        duration = max(0.0, (created - slim_time(started)).total_seconds())
    return TrendPoint(created, slim_int(item.get("size_bytes", 0)), duration)


def _reason(exc: BotError) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


async def _list_folder(
    cloud: CloudClient, folder_id: str, counter: _Counter
) -> tuple[list[Cluster], list[SkippedItem]] | str:
    clusters: list[Cluster] = []
    skipped: list[SkippedItem] = []
    token = ""
    seen: set[str] = set()
    try:
        while True:
            counter.requests += 1
            page = await cloud.list_clusters_page(folder_id, page_size=PAGE_SIZE, page_token=token)
            clusters.extend(page.clusters)
            skipped.extend(page.skipped)
            token = page.next_page_token
            if not token:
                return clusters, skipped
            if token in seen:
                raise CloudError(_("the cloud sent the same page token twice"))
            seen.add(token)
    except BotError as exc:
        return _reason(exc)


async def _get_cluster(cloud: CloudClient, cluster_id: str, counter: _Counter) -> Cluster | str:
    try:
        counter.requests += 1
        return await cloud.get_cluster(cluster_id)
    except BotError as exc:
        return _reason(exc)


#: A cluster's retention policies as read: (policies, offered, error), as _read_policies says.
_Policies = tuple[tuple[RetentionPolicy, ...] | None, bool | None, str]


def _wants_policies(cluster: Cluster, depth: _Depth) -> bool:
    """Whether the cluster's retention policies are read (see the module docstring)."""
    return depth.full or (
        cluster.snapshot_schedule is None
        and max_age_for(cluster, depth.freshness).source == MaxAgeSource.DEFAULT
    )


async def _read_in_pool(
    cloud: CloudClient,
    clusters: list[Cluster],
    counter: _Counter,
    depth: _Depth,
    keep: Callable[[ClusterReading], _T],
) -> list[_T]:
    """What ``keep`` makes of every cluster's reading by the pool (which empties ``clusters``),
    the retention policies of a folder with two or more clusters that want them read first in
    one listing (ListByFolder) where the cloud offers it."""
    known = await _folder_policies(cloud, clusters, counter, depth)
    return await _in_pool(
        clusters, lambda c: _read(cloud, c, counter, depth, known.get(c.id)), keep
    )


async def _folder_policies(
    cloud: CloudClient, clusters: Sequence[Cluster], counter: _Counter, depth: _Depth
) -> dict[str, _Policies]:
    """The policies of the clusters whose folder lists them in one request (by cluster id).

    A folder is listed when two or more of ``clusters`` in it want their policies, so that
    this never costs more requests than one per cluster. Where the cloud does not list by
    folder (404 for the folder, 501 for any: learnt once), its clusters are left out and read
    one by one; another error is each of its clusters' error, as a per-cluster read's would be.
    """
    by_folder: dict[str, list[Cluster]] = {}
    for cluster in clusters:
        if cluster.folder_id and _wants_policies(cluster, depth):
            by_folder.setdefault(cluster.folder_id, []).append(cluster)
    folders = [
        f
        for f, members in by_folder.items()
        if len(members) > 1 and cloud.may_offer_folder_retention_policies(f)
    ]
    listed = await asyncio.gather(*(_list_folder_policies(cloud, f, counter) for f in folders))
    known: dict[str, _Policies] = {}
    for folder_id, result in zip(folders, listed, strict=True):
        if result is None:
            continue  # not offered by folder: read per cluster
        for cluster in by_folder[folder_id]:
            if isinstance(result, str):
                said = _("the retention policies of {cluster} could not be read: {reason}")
                known[cluster.id] = (
                    None,
                    None,
                    said.format(cluster=cluster.display_name, reason=result),
                )
            else:
                owned = tuple(p for p in result if p.cluster_id == cluster.id)
                known[cluster.id] = (owned, True, "")
    return known


async def _list_folder_policies(
    cloud: CloudClient, folder_id: str, counter: _Counter
) -> tuple[RetentionPolicy, ...] | str | None:
    """A folder's policies; None where not listed by folder; the reason when not read."""
    counter.requests += 1
    try:
        page = await cloud.all_folder_retention_policies(folder_id, page_size=PAGE_SIZE)
    except BotError as exc:
        return _reason(exc)
    return page.policies if page is not None else None


async def _read(
    cloud: CloudClient,
    cluster: Cluster,
    counter: _Counter,
    depth: _Depth,
    known: _Policies | None = None,
) -> ClusterReading:
    """The cluster's backups (and policies, when they could set its maximum age: ``known``
    when its folder's listing had them), then its operations when its freshness is in
    question."""
    wants_policies = _wants_policies(cluster, depth)
    if wants_policies and known is not None:
        reading = await _read_backups(cloud, cluster, counter, depth.ledger, depth.trend)
        reading = replace(
            reading, policies=known[0], policies_offered=known[1], policies_error=known[2]
        )
    elif wants_policies:
        reading, policies = await asyncio.gather(
            _read_backups(cloud, cluster, counter, depth.ledger, depth.trend),
            _read_policies(cloud, cluster, counter),
        )
        reading = replace(
            reading, policies=policies[0], policies_offered=policies[1], policies_error=policies[2]
        )
    else:
        reading = await _read_backups(cloud, cluster, counter, depth.ledger, depth.trend)
    if reading.error is not None:
        return reading
    if not depth.full:
        report = reading.report(depth.freshness, now=depth.now)
        explanation = report.explanation
        missed = explanation.missed_slot if explanation is not None else None
        if not in_question(report, missed):
            return reading
    attempts, error = await _read_attempts(cloud, cluster, counter)
    return replace(reading, attempts=attempts, operations_error=error)


async def _read_policies(cloud: CloudClient, cluster: Cluster, counter: _Counter) -> _Policies:
    """(policies, offered, error): the policies, or None with offered False where the cloud
    offers none, or None with the error for a person."""
    if cloud.may_offer_retention_policies(cluster.id):
        counter.requests += 1
    try:
        page = await cloud.all_retention_policies(cluster.id, page_size=PAGE_SIZE)
    except BotError as exc:
        reason = _reason(exc)
        return (
            None,
            None,
            _("the retention policies of {cluster} could not be read: {reason}").format(
                cluster=cluster.display_name, reason=reason
            ),
        )
    if page is None:
        return None, False, ""
    return page.policies, True, ""


async def _read_attempts(
    cloud: CloudClient, cluster: Cluster, counter: _Counter
) -> tuple[AttemptHistory | None, str]:
    """The cluster's backup attempts from every page of its operations, or why not."""
    backups: list[Operation] = []
    token = ""
    seen: set[str] = set()
    try:
        while True:
            counter.requests += 1
            page = await cloud.list_cluster_operations_page(
                cluster.id, page_size=PAGE_SIZE, page_token=token
            )
            # Only backup operations are kept: a busy cluster has many others.
            backups.extend(op for op in page.operations if is_backup_operation(op))
            token = page.next_page_token
            if not token:
                break
            if token in seen:
                raise CloudError(_("the cloud sent the same page token twice"))
            seen.add(token)
    except BotError as exc:
        return None, _reason(exc)
    return backup_attempts(backups), ""


async def _read_versions(cloud: CloudClient, counter: _Counter) -> tuple[Version, ...] | None:
    """The versions the service lists; None where it lists none or cannot be read (then
    nothing is said of a backup's version)."""
    if cloud.may_offer_versions():
        counter.requests += 1
    try:
        page = await cloud.all_versions(page_size=PAGE_SIZE)
    except BotError:
        return None
    return page.versions if page is not None else None


async def _read_backups(
    cloud: CloudClient,
    cluster: Cluster,
    counter: _Counter,
    ledger: bool = True,
    trend: bool = True,
) -> ClusterReading:
    """The cluster's backups, folded page by page into what a reading keeps (the newest two,
    the trend's newest few, the count, and for the ledger every completed one, packed); the
    pages are read slim (:meth:`CloudClient.list_cluster_backups_slim_page`) and let go."""
    newest: SlimBackup | None = None
    previous: SlimBackup | None = None
    newest_key: tuple[datetime, str] | None = None
    previous_key: tuple[datetime, str] | None = None
    kept: list[SlimBackup] = []  # the trend's candidates, at most TREND_LENGTH
    count = 0
    skipped: list[str] = []
    listed = PackedSeen() if ledger else EMPTY
    token = ""
    seen: set[str] = set()
    try:
        while True:
            counter.requests += 1
            page = await cloud.list_cluster_backups_slim_page(
                cluster.id, page_size=PAGE_SIZE, page_token=token
            )
            count += len(page.backups)
            done: list[SlimBackup] = []
            for item in page.backups:
                created = item.get("created_at")
                if created is None:  # not completed: not counted as done
                    continue
                if trend:
                    done.append(item)
                if ledger:
                    size = item.get("size_bytes", 0)
                    listed.add(item["id"], created, item.get("started_at"), slim_int(size))
                # The API's order means nothing: every backup is compared, in the order of
                # bot.cloud.models.newest_first (completion time, then id).
                key = (created, item["id"])
                if newest_key is None or key > newest_key:
                    previous, previous_key = newest, newest_key
                    newest, newest_key = item, key
                elif previous_key is None or key > previous_key:
                    previous, previous_key = item, key
            if trend:
                kept = heapq.nlargest(TREND_LENGTH, [*kept, *done], key=_slim_key)
            skipped.extend(str(item) for item in page.skipped)
            token = page.next_page_token
            if not token:
                break
            if token in seen:
                raise CloudError(_("the cloud sent the same page token twice"))
            seen.add(token)
    except BotError as exc:
        return ClusterReading(
            cluster=cluster,
            newest=None,
            previous=None,
            count=None,
            error=_("the backups of {cluster} could not be read: {reason}").format(
                cluster=cluster.display_name, reason=_reason(exc)
            ),
        )
    return ClusterReading(
        cluster=cluster,
        newest=backup_of(newest) if newest is not None else None,
        previous=backup_of(previous) if previous is not None else None,
        count=count,
        error=None,
        skipped=tuple(skipped),
        trend=tuple(_trend_point(item) for item in reversed(kept)),
        seen=listed.freeze() if ledger else EMPTY,
    )
