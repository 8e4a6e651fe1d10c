"""The daily digest as plain values: one row per cluster, worst first, with what changed since
the previous digest, and the rows in groups (by folder, or the route's ``group_by``).

"Worst" is one order for every view of the fleet (the digest, ``status``, ``clusters``), see
:func:`worst_first_key`: by state (UNKNOWN, NEVER, STALE, STOPPED, UNSCHEDULED, FRESH), and
within a state what has waited longest for a person first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.cloud.models import Backup, Cluster
from bot.drills.model import DrillOutcome, DrillRecord
from bot.fleet.grouping import group_key, group_label
from bot.freshness.model import FreshnessReport, FreshnessState
from bot.freshness.policy import backups_newest_first
from bot.silences.model import Silence


@dataclass(frozen=True, slots=True)
class ClusterFigures:
    """What a digest remembers of a cluster, to say what changed since the previous one."""

    cluster_id: str
    newest_backup_id: str | None
    newest_size_bytes: int | None
    newest_indices_total: int | None
    backup_count: int
    taken_at: datetime


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

#: A sort key: lower sorts first, that is, worse.
WorstKey = tuple[int, int, float, str, str]


#: The ``model_fields_set`` of every model a digest keeps, one empty set shared by all and never
#: changed (the models are frozen): a set of each model's own, as ``model_copy`` makes, is
#: some 360 bytes a model, a third of what a digest of 10,000 clusters keeps of them.
_NO_FIELDS_SET: set[str] = set()


def shown_cluster(cluster: Cluster) -> Cluster:
    """The cluster as a digest keeps it: without its config and planned maintenance (the
    reading's report has said what they mean), so that a digest of 10,000 clusters does not
    hold 10,000 configs until it is built. What a row, its group and its sort key read (name,
    id, folder, environment, labels, creation time) is kept."""
    values = {**cluster.__dict__, "config": None, "planned_operation": None}
    return Cluster.model_construct(_NO_FIELDS_SET, **values)


def shown_backup(backup: Backup) -> Backup:
    """A backup as a digest keeps it: without its list of indices (a row shows their count)."""
    return Backup.model_construct(_NO_FIELDS_SET, **{**backup.__dict__, "indices": ()})


def worst_first_key(cluster: Cluster, report: FreshnessReport, *, shrunk: bool = False) -> WorstKey:
    """Sort key putting the worst first: by state in :data:`STATE_ORDER`, then within it

    - UNKNOWN: by name (nothing is known of its backups to weigh);
    - NEVER: the oldest cluster first (it has gone without a backup the longest); clusters whose
      creation time is unknown after those whose is known;
    - STALE: the most overdue first (age minus its maximum age), so a cluster 1d 20h late comes
      before one 1d 2h late;
    - STOPPED, UNSCHEDULED: the longest since its newest backup first, none at all before any;
    - FRESH: one whose newest backup shrank (or would not fit a restore) first, then the nearest
      to going stale (the least time left before its maximum age).

    Ties go by name (case-insensitively), then id, so the order is total and repeatable.
    """
    state = report.state
    age = report.age.total_seconds() if report.age is not None else None
    limit = report.max_age.value.total_seconds()
    sub, number = 0, 0.0
    if state == FreshnessState.NEVER:
        created = cluster.created_at
        sub, number = (0, created.timestamp()) if created is not None else (1, 0.0)
    elif state == FreshnessState.STALE:
        number = -(age - limit) if age is not None else -math.inf
    elif state in (FreshnessState.STOPPED, FreshnessState.UNSCHEDULED):
        number = -age if age is not None else -math.inf
    elif state == FreshnessState.FRESH:
        sub = 0 if shrunk else 1
        number = limit - age if age is not None else math.inf
    return (_RANK[state], sub, number, cluster.display_name.casefold(), cluster.id)


@dataclass(frozen=True, slots=True)
class LastDrill:
    """A cluster's newest finished restore drill, as the digest shows it."""

    at: datetime  # when it started
    passed: bool
    restore_time: timedelta | None  # from the restore request to the restored cluster
    error: str = ""  # why it failed, in the cloud's (or the bot's) words


def last_drill(record: DrillRecord | None) -> LastDrill | None:
    """A finished drill as the digest shows it (None for none, or one not finished)."""
    if record is None or record.outcome is None:
        return None
    return LastDrill(
        at=record.started_at,
        passed=record.outcome == DrillOutcome.PASSED,
        restore_time=record.restore_time,
        error=record.error,
    )


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
    #: Its newest finished restore drill, if any; ``drilled`` says whether a ``drills:`` route
    #: covers it (only then does "never drilled" mean something).
    last_drill: LastDrill | None = None
    drilled: bool = False
    #: The silence that holds it now (bot.silences): its row says so.
    silence: Silence | None = None


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
    group: str = ""  # the key of its group (bot.fleet.grouping.group_key)
    last_drill: LastDrill | None = None
    drilled: bool = False  # a drills: route covers it

    @property
    def never_drilled(self) -> bool:
        """Drills are configured for it and none has finished yet."""
        return self.drilled and self.last_drill is None

    @property
    def drill_failed(self) -> bool:
        """Its newest finished drill failed."""
        return self.last_drill is not None and not self.last_drill.passed

    silence: Silence | None = None  # the silence that holds it now

    @property
    def restore_would_not_fit(self) -> bool:
        """The newest backup needs more free space than a cluster of this shape has."""
        explanation = self.report.explanation
        return (
            explanation is not None
            and explanation.restore is not None
            and explanation.restore.fits is False
        )

    @property
    def notable(self) -> bool:
        """Worth a row in the digest's top post: anything not fresh, a backup that shrank, or
        one that would not fit a restore."""
        return (
            self.report.state != FreshnessState.FRESH or self.shrunk or self.restore_would_not_fit
        )

    @property
    def worst_key(self) -> WorstKey:
        warned = self.shrunk or self.restore_would_not_fit
        return worst_first_key(self.cluster, self.report, shrunk=warned)

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
class DigestGroup:
    """The clusters of one group: its shown rows, worst first, and counts over all of them."""

    key: str
    label: str  # plain text, e.g. "folder b1g...", "team=search", "all clusters"
    rows: tuple[DigestRow, ...]
    counts: dict[FreshnessState, int]  # every state, over every cluster (also hidden ones)

    @property
    def cluster_count(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Digest:
    rows: tuple[DigestRow, ...]  # the rows to show, worst first (see worst_first_key)
    counts: dict[FreshnessState, int]  # every state, over every cluster (also hidden ones)
    total_size_bytes: int  # the sum of every cluster's newest backup size
    generated_at: datetime
    only_problems: bool
    #: What to remember for the next digest's deltas, for every cluster (also hidden ones).
    figures: tuple[ClusterFigures, ...] = ()
    #: Every group with at least one cluster: the group of the worst row first, then groups
    #: whose rows are all hidden, by label.
    groups: tuple[DigestGroup, ...] = ()
    group_by: tuple[str, ...] = ()
    #: Over every cluster (also hidden ones): drills configured and none finished yet, and
    #: the newest drill failed.
    never_drilled: int = 0
    drill_failed: int = 0
    #: Folder names by id, where known: a row names its cluster's folder by name.
    folder_names: Mapping[str, str] = field(default_factory=dict)

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
    group_by: Sequence[str] = (),
    folder_names: Mapping[str, str] | None = None,
) -> Digest:
    """Rows, counts, groups and figures for a digest.

    With ``only_problems`` the rows of FRESH clusters are left out unless their newest backup
    shrank or would not fit a restore; STOPPED and UNSCHEDULED rows stay (a person should know
    checking stopped). The counts, the total size and the figures always cover every cluster.
    ``group_by`` (keys of :mod:`bot.fleet.grouping`) sorts the clusters into groups; ``()``
    makes one group of all.
    """
    rows: list[DigestRow] = []
    figures: list[ClusterFigures] = []
    counts = dict.fromkeys(STATE_ORDER, 0)
    group_counts: dict[str, dict[FreshnessState, int]] = {}
    labels: dict[str, str] = {}
    total = 0
    never_drilled = drill_failed = 0
    for item in items:
        key = group_key(item.cluster, group_by)
        if key not in labels:
            labels[key] = group_label(item.cluster, group_by, folder_names)
            group_counts[key] = dict.fromkeys(STATE_ORDER, 0)
        row = _row(item, previous.get(item.cluster.id), shrink_threshold, key)
        counts[row.report.state] += 1
        never_drilled += row.never_drilled
        drill_failed += row.drill_failed
        group_counts[key][row.report.state] += 1
        if row.newest is not None:
            total += row.newest.size_bytes
        figure = _figures(item, row, now) if item.backups is not None else None
        # Blind today: keep yesterday's figures, so that tomorrow still has something to compare.
        if figure is None:
            figure = previous.get(item.cluster.id)
        if figure is not None:
            figures.append(figure)
        if only_problems and not row.notable:
            continue
        rows.append(row)
    rows.sort(key=lambda r: r.worst_key)
    return Digest(
        rows=tuple(rows),
        counts=counts,
        total_size_bytes=total,
        generated_at=now,
        only_problems=only_problems,
        figures=tuple(figures),
        groups=_groups(rows, group_counts, labels),
        group_by=tuple(group_by),
        never_drilled=never_drilled,
        drill_failed=drill_failed,
        folder_names=dict(folder_names or {}),
    )


def _groups(
    rows: Sequence[DigestRow],
    counts: Mapping[str, dict[FreshnessState, int]],
    labels: Mapping[str, str],
) -> tuple[DigestGroup, ...]:
    """Groups in the order of their worst row (``rows`` are worst first), then the groups with
    no row shown, by label."""
    by_key: dict[str, list[DigestRow]] = {}
    for row in rows:
        by_key.setdefault(row.group, []).append(row)
    quiet = sorted((k for k in counts if k not in by_key), key=lambda k: (labels[k].casefold(), k))
    return tuple(
        DigestGroup(key, labels[key], tuple(by_key.get(key, ())), counts[key])
        for key in [*by_key, *quiet]
    )


def figures_of(digest: Digest) -> list[ClusterFigures]:
    """What to store for the next digest's deltas."""
    return list(digest.figures)


def _row(
    item: DigestInput, before: ClusterFigures | None, threshold: float, group: str
) -> DigestRow:
    if item.backups is None:
        return DigestRow(
            item.cluster,
            item.report,
            None,
            None,
            None,
            None,
            None,
            None,
            False,
            group,
            last_drill=item.last_drill,
            drilled=item.drilled,
            silence=item.silence,
        )
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
        group=group,
        last_drill=item.last_drill,
        drilled=item.drilled,
        silence=item.silence,
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
