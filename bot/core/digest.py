"""The daily digest as plain values: one row per cluster, problems first, with what changed since
the previous digest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.freshness import backups_newest_first
from bot.core.types import ClusterFigures, FreshnessReport, FreshnessState
from bot.models import Backup, Cluster

#: Row order: what needs a person first.
STATE_ORDER: tuple[FreshnessState, ...] = (
    FreshnessState.UNKNOWN,
    FreshnessState.NEVER,
    FreshnessState.STALE,
    FreshnessState.STOPPED,
    FreshnessState.UNSCHEDULED,
    FreshnessState.FRESH,
)
_RANK = {state: rank for rank, state in enumerate(STATE_ORDER)}


@dataclass(frozen=True, slots=True)
class DigestInput:
    """One watched cluster as the sweep saw it. ``backups`` is None when they could not be read.

    ``backups`` need only hold the newest two completed backups (all the digest looks at) when
    ``backup_count`` says how many there are; without it, ``len(backups)`` is the count.
    """

    cluster: Cluster
    report: FreshnessReport
    backups: Sequence[Backup] | None
    backup_count: int | None = None


@dataclass(frozen=True, slots=True)
class DigestRow:
    cluster: Cluster
    report: FreshnessReport
    newest: Backup | None
    previous_backup: Backup | None  # the backup before ``newest``, for the shrink check
    backup_count: int | None  # None when the backups could not be read
    size_delta: int | None  # newest size now minus at the previous digest
    indices_delta: int | None
    count_delta: int | None
    shrunk: bool  # newest is much smaller than the backup before it

    @property
    def shrink_ratio(self) -> float | None:
        """How much smaller the newest backup is than the one before it (0.4 = 40 % smaller)."""
        if self.newest is None or self.previous_backup is None:
            return None
        before = self.previous_backup.size_bytes
        if before <= 0:
            return None
        return (before - self.newest.size_bytes) / before


@dataclass(frozen=True, slots=True)
class Digest:
    rows: tuple[DigestRow, ...]  # the rows to show, problems first, by name within a state
    counts: dict[FreshnessState, int]  # every state, over every cluster (also hidden ones)
    total_size_bytes: int  # the sum of every cluster's newest backup size
    generated_at: datetime
    only_problems: bool
    #: What to remember for the next digest's deltas, for every cluster (also hidden ones).
    figures: tuple[ClusterFigures, ...] = ()

    @property
    def cluster_count(self) -> int:
        return sum(self.counts.values())

    @property
    def hidden_count(self) -> int:
        return self.cluster_count - len(self.rows)


def build_digest(
    items: Sequence[DigestInput],
    previous: Mapping[str, ClusterFigures],
    *,
    now: datetime,
    shrink_threshold: float = 0.3,
    only_problems: bool = False,
) -> Digest:
    """Rows, counts and figures for a digest.

    With ``only_problems`` the rows of FRESH clusters are left out unless their newest backup
    shrank; STOPPED and UNSCHEDULED rows stay (a person should know checking stopped). The counts,
    the total size and the figures always cover every cluster.
    """
    rows: list[DigestRow] = []
    figures: list[ClusterFigures] = []
    counts = dict.fromkeys(STATE_ORDER, 0)
    total = 0
    for item in items:
        row = _row(item, previous.get(item.cluster.id), shrink_threshold)
        counts[row.report.state] += 1
        if row.newest is not None:
            total += row.newest.size_bytes
        figure = _figures(item, row, now) if item.backups is not None else None
        # Blind today: keep yesterday's figures, so that tomorrow still has something to compare.
        if figure is None:
            figure = previous.get(item.cluster.id)
        if figure is not None:
            figures.append(figure)
        if only_problems and row.report.state == FreshnessState.FRESH and not row.shrunk:
            continue
        rows.append(row)
    rows.sort(key=_sort_key)
    return Digest(
        rows=tuple(rows),
        counts=counts,
        total_size_bytes=total,
        generated_at=now,
        only_problems=only_problems,
        figures=tuple(figures),
    )


def figures_of(digest: Digest) -> list[ClusterFigures]:
    """What to store for the next digest's deltas."""
    return list(digest.figures)


def _row(item: DigestInput, before: ClusterFigures | None, threshold: float) -> DigestRow:
    if item.backups is None:
        return DigestRow(item.cluster, item.report, None, None, None, None, None, None, False)
    ordered = backups_newest_first(item.backups)
    newest = ordered[0] if ordered else None
    prior = ordered[1] if len(ordered) > 1 else None
    count = item.backup_count if item.backup_count is not None else len(item.backups)
    size_delta = indices_delta = count_delta = None
    if before is not None:
        count_delta = count - before.backup_count
        if newest is not None and before.newest_size_bytes is not None:
            size_delta = newest.size_bytes - before.newest_size_bytes
        if newest is not None and before.newest_indices_total is not None:
            indices_delta = newest.indices_total - before.newest_indices_total
    return DigestRow(
        cluster=item.cluster,
        report=item.report,
        newest=newest,
        previous_backup=prior,
        backup_count=count,
        size_delta=size_delta,
        indices_delta=indices_delta,
        count_delta=count_delta,
        shrunk=_shrunk(newest, prior, threshold),
    )


def _shrunk(newest: Backup | None, prior: Backup | None, threshold: float) -> bool:
    if newest is None or prior is None or prior.size_bytes <= 0:
        return False
    if newest.size_bytes >= prior.size_bytes:
        return False
    return (prior.size_bytes - newest.size_bytes) / prior.size_bytes >= threshold


def _figures(item: DigestInput, row: DigestRow, now: datetime) -> ClusterFigures:
    return ClusterFigures(
        cluster_id=item.cluster.id,
        newest_backup_id=row.newest.id if row.newest is not None else None,
        newest_size_bytes=row.newest.size_bytes if row.newest is not None else None,
        newest_indices_total=row.newest.indices_total if row.newest is not None else None,
        backup_count=row.backup_count or 0,
        taken_at=now,
    )


def _sort_key(row: DigestRow) -> tuple[int, str, str]:
    return (_RANK[row.report.state], row.cluster.display_name.casefold(), row.cluster.id)
