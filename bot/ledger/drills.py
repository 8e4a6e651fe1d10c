"""What the monthly report says of restore drills: which clusters were proven restorable in the
month (a drill of theirs passed) and their restore times against the drill route's
``rto_target``. The ledger keeps no copy of the drills: the drills table already holds each
finished drill (its cluster, start, restore time and outcome), and the report reads it. Pure:
records and routes in, figures out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.drills.model import DrillOutcome, DrillRecord


@dataclass(frozen=True, slots=True)
class ClusterDrills:
    """One cluster's drills that finished in the month."""

    cluster_id: str
    name: str
    passed: int
    failed: int
    #: The restore times of the drills that passed, in the order they finished.
    restore_times: tuple[timedelta, ...]
    #: The target its drill route sets (``drills.rto_target``), if any.
    rto_target: timedelta | None
    #: The last drill of the month passed.
    last_passed: bool

    @property
    def proven(self) -> bool:
        """Proven restorable in the month: at least one drill passed."""
        return self.passed > 0

    @property
    def slowest(self) -> timedelta | None:
        return max(self.restore_times, default=None)

    @property
    def within_target(self) -> bool | None:
        """Every passed drill restored within the target; None without a target or a pass."""
        slowest = self.slowest
        if self.rto_target is None or slowest is None:
            return None
        return slowest <= self.rto_target

    @property
    def display_name(self) -> str:
        return self.name or self.cluster_id


@dataclass(frozen=True, slots=True)
class MonthDrills:
    """The month's drills of a report's clusters, and the clusters a drill route covers that
    had none."""

    clusters: tuple[ClusterDrills, ...]
    undrilled: tuple[str, ...] = ()  # display names

    @property
    def proven(self) -> tuple[ClusterDrills, ...]:
        return tuple(c for c in self.clusters if c.proven)

    @property
    def unproven(self) -> tuple[ClusterDrills, ...]:
        """Drilled in the month, and no drill passed."""
        return tuple(c for c in self.clusters if not c.proven)

    @property
    def over_target(self) -> tuple[ClusterDrills, ...]:
        return tuple(c for c in self.clusters if c.within_target is False)

    def worst_first(self) -> list[ClusterDrills]:
        """Not proven first, then over target, then the slowest restore first, then by name."""

        def key(c: ClusterDrills) -> tuple[int, float, str, str]:
            rank = 0 if not c.proven else 1 if c.within_target is False else 2
            slowest = c.slowest
            return (
                rank,
                -(slowest.total_seconds() if slowest is not None else 0.0),
                c.display_name.casefold(),
                c.cluster_id,
            )

        return sorted(self.clusters, key=key)

    def of(self, cluster_id: str) -> ClusterDrills | None:
        return next((c for c in self.clusters if c.cluster_id == cluster_id), None)

    def __bool__(self) -> bool:
        return bool(self.clusters or self.undrilled)


def month_drills(
    records: Iterable[DrillRecord],
    clusters: Sequence[tuple[str, str]],
    *,
    rto_target: Callable[[str], timedelta | None],
    covered: Callable[[str], bool],
) -> MonthDrills:
    """The month's finished ``records`` of ``clusters`` (``(id, name)`` pairs: the report's
    clusters; drills of others are left out), each with ``rto_target(cluster_id)``; and the
    clusters that ``covered(cluster_id)`` (a drill route covers them) without any drill."""
    names = dict(clusters)
    by_cluster: dict[str, list[DrillRecord]] = {}
    for record in records:
        if record.outcome is not None and record.cluster_id in names:
            by_cluster.setdefault(record.cluster_id, []).append(record)
    out = []
    for cluster_id, drills in by_cluster.items():
        drills.sort(key=lambda r: (r.finished_at or r.started_at, r.id))
        passed = [r for r in drills if r.outcome == DrillOutcome.PASSED]
        out.append(
            ClusterDrills(
                cluster_id=cluster_id,
                name=names[cluster_id] or drills[-1].cluster_name,
                passed=len(passed),
                failed=len(drills) - len(passed),
                restore_times=tuple(r.restore_time for r in passed if r.restore_time is not None),
                rto_target=rto_target(cluster_id),
                last_passed=drills[-1].outcome == DrillOutcome.PASSED,
            )
        )
    undrilled = tuple(
        sorted(
            (
                names[cluster_id] or cluster_id
                for cluster_id in names
                if cluster_id not in by_cluster and covered(cluster_id)
            ),
            key=str.casefold,
        )
    )
    return MonthDrills(tuple(out), undrilled)
