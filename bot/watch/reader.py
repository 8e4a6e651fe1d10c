"""Reading the watched fleet: which clusters, and where each one's backups stand.

One reading serves a sweep or a digest. It keeps only what they need of each cluster (the newest
completed backup, the one before it and how many there are), never whole backup lists, so that a
fleet of 1,000 clusters with 60 backups each stays small. Every cluster's backups are listed at
once; the client's limiter bounds the requests in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bot.cloud.client import CloudClient
from bot.config import BotConfig, Match
from bot.core.match import matches, watched
from bot.errors import BotError, CloudError
from bot.models import Backup, Cluster, SkippedItem, newest_first_key

#: Page size of every list call: the API's maximum, to keep the number of requests down.
PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ClusterReading:
    """One cluster and where its backups stand."""

    cluster: Cluster
    newest: Backup | None  # the newest completed backup
    previous: Backup | None  # the completed backup before it (for the digest's shrink check)
    count: int | None  # how many backups the cluster has; None when they could not be read
    error: str | None  # why the backups could not be read, for a person; None when read
    #: Backups the cloud sent that could not be read and were left out, for a person.
    skipped: tuple[str, ...] = ()

    @property
    def backups(self) -> list[Backup] | None:
        """The newest two completed backups (newest first), or None when they could not be read.

        Enough for :func:`bot.core.freshness.classify`, which looks at the newest one only.
        """
        if self.error is not None or self.count is None:
            return None
        return [b for b in (self.newest, self.previous) if b is not None]


@dataclass(frozen=True, slots=True)
class FleetReading:
    """Every watched cluster's reading, and what could not be listed at all."""

    clusters: tuple[ClusterReading, ...]
    #: Folders or clusters that could not be listed at all, and items of a listing that could
    #: not be read and were left out (the reading is incomplete either way).
    errors: tuple[str, ...]
    requests: int  # cloud requests this reading made (for benches)

    def by_id(self) -> dict[str, ClusterReading]:
        return {reading.cluster.id: reading for reading in self.clusters}


class _Counter:
    """Counts the API calls of one reading (pages, not retries)."""

    def __init__(self) -> None:
        self.requests = 0


async def read_fleet(
    cloud: CloudClient, config: BotConfig, *, match: Match | None = None
) -> FleetReading:
    """Read every watched cluster (``watch.folders`` and ``watch.clusters``) that passes
    ``watch.only`` and the optional ``match``, and the state of its backups; the clusters come
    by name (then id), whatever order the cloud lists them in."""
    counter = _Counter()
    errors: list[str] = []
    found: dict[str, Cluster] = {}

    folders = list(dict.fromkeys(config.watch.folders))
    listed = await asyncio.gather(*(_list_folder(cloud, f, counter) for f in folders))
    for folder_id, result in zip(folders, listed, strict=True):
        if isinstance(result, str):
            errors.append(f"the clusters of folder {folder_id} could not be listed: {result}")
            continue
        clusters, skipped = result
        errors.extend(f"in folder {folder_id}, {item}" for item in skipped)
        for cluster in clusters:
            found.setdefault(cluster.id, cluster)

    extra = [c for c in dict.fromkeys(config.watch.clusters) if c not in found]
    named = {cluster.name for cluster in found.values() if cluster.name}
    extra = [c for c in extra if c not in named]
    fetched = await asyncio.gather(*(_get_cluster(cloud, c, counter) for c in extra))
    for cluster_id, got in zip(extra, fetched, strict=True):
        if isinstance(got, str):
            errors.append(f"cluster {cluster_id} could not be read: {got}")
            continue
        found.setdefault(got.id, got)

    # By name, then id: the API lists in no particular order, and the sweep posts its alerts
    # in the reading's order, which must not change from one listing to the next.
    selected = sorted(
        (
            cluster
            for cluster in found.values()
            if watched(config, cluster) and (match is None or matches(match, cluster))
        ),
        key=lambda cluster: (cluster.display_name, cluster.id),
    )
    readings = await asyncio.gather(*(_read_backups(cloud, c, counter) for c in selected))
    for reading in readings:
        errors.extend(f"of {reading.cluster.display_name}, {item}" for item in reading.skipped)
    return FleetReading(clusters=tuple(readings), errors=tuple(errors), requests=counter.requests)


async def read_cluster(cloud: CloudClient, cluster_id: str) -> ClusterReading:
    """Read one cluster again, and its backups. Never raises a cloud error: a cluster that
    cannot be read comes back with ``error`` set (and only its id known)."""
    counter = _Counter()
    result = await _get_cluster(cloud, cluster_id, counter)
    if isinstance(result, str):
        return ClusterReading(
            cluster=Cluster(id=cluster_id),
            newest=None,
            previous=None,
            count=None,
            error=f"cluster {cluster_id} could not be read: {result}",
        )
    return await _read_backups(cloud, result, counter)


async def read_clusters(cloud: CloudClient, clusters: Sequence[Cluster]) -> list[ClusterReading]:
    """The backups of clusters already listed, read concurrently (errors kept per cluster)."""
    counter = _Counter()
    return list(await asyncio.gather(*(_read_backups(cloud, c, counter) for c in clusters)))


def newest_two(backups: Sequence[Backup]) -> tuple[Backup | None, Backup | None]:
    """The newest and second newest completed backups (by completion time, then id)."""
    newest: Backup | None = None
    previous: Backup | None = None
    for backup in backups:
        newest, previous = _keep_newest_two(newest, previous, backup)
    return newest, previous


# --- helpers -------------------------------------------------------------------------------------


def _keep_newest_two(
    newest: Backup | None, previous: Backup | None, backup: Backup
) -> tuple[Backup | None, Backup | None]:
    # The API's order means nothing: every backup is compared, in the order of
    # bot.models.newest_first (completion time, then id), the same as
    # bot.core.freshness.newest_backup. Backups with no completion time are not counted as done.
    if backup.created_at is None:
        return newest, previous
    key = newest_first_key(backup)
    if newest is None or key > newest_first_key(newest):
        return backup, newest
    if previous is None or key > newest_first_key(previous):
        return newest, backup
    return newest, previous


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
                raise CloudError("the cloud sent the same page token twice")
            seen.add(token)
    except BotError as exc:
        return _reason(exc)


async def _get_cluster(cloud: CloudClient, cluster_id: str, counter: _Counter) -> Cluster | str:
    try:
        counter.requests += 1
        return await cloud.get_cluster(cluster_id)
    except BotError as exc:
        return _reason(exc)


async def _read_backups(cloud: CloudClient, cluster: Cluster, counter: _Counter) -> ClusterReading:
    newest: Backup | None = None
    previous: Backup | None = None
    count = 0
    skipped: list[str] = []
    token = ""
    seen: set[str] = set()
    try:
        while True:
            counter.requests += 1
            page = await cloud.list_cluster_backups_page(
                cluster.id, page_size=PAGE_SIZE, page_token=token
            )
            for backup in page.backups:
                count += 1
                newest, previous = _keep_newest_two(newest, previous, backup)
            skipped.extend(str(item) for item in page.skipped)
            token = page.next_page_token
            if not token:
                break
            if token in seen:
                raise CloudError("the cloud sent the same page token twice")
            seen.add(token)
    except BotError as exc:
        return ClusterReading(
            cluster=cluster,
            newest=None,
            previous=None,
            count=None,
            error=f"the backups of {cluster.display_name} could not be read: {_reason(exc)}",
        )
    return ClusterReading(
        cluster=cluster,
        newest=newest,
        previous=previous,
        count=count,
        error=None,
        skipped=tuple(skipped),
    )
