"""The freshness ledger, pure: how much of a period a cluster was within its maximum age.

At any instant t a cluster is within its objective when t minus the completion time of its
newest backup before t is at most the maximum age in force at t. From the backups the bot has
seen, the maximum age over time and the cluster's states, the time within the objective over a
period is a sum of intervals, exact, whatever the bot was doing in between, as long as it saw
those backups. Time the bot cannot vouch for (outside its spans) is *unknown*, never good;
stopped time is excluded from what is observed, and said. Nothing here reads a clock.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.cloud.models import Cluster, ClusterHealth, ClusterStatus
from bot.drills.model import DrillOutcome, DrillRecord
from bot.freshness.model import MaxAge
from bot.ledger.model import (
    ClusterHistory,
    ClusterState,
    MaxAgeChange,
    Observation,
    SeenBackup,
    Span,
)

ZERO = timedelta(0)
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)

Interval = tuple[datetime, datetime]


# --- what a read adds ----------------------------------------------------------------------------


def next_span(latest: Span | None, seen: Observation) -> Span | None:
    """The span ``seen`` leaves the cluster with: ``latest`` extended to this read when the
    cloud still lists a backup from before its end (nothing in between can have been missed), or
    a new span from the oldest backup listed (or this read, when none is) after a gap nobody
    saw. None when ``seen`` adds nothing (an older read arriving late)."""
    oldest = seen.oldest_listed
    if latest is None:
        return Span(min(oldest, seen.at) if oldest is not None else seen.at, seen.at)
    if seen.at <= latest.end:
        return None
    if oldest is None or oldest <= latest.end:
        return Span(latest.start, seen.at)
    return Span(min(oldest, seen.at), seen.at)


# --- the figures ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Breach:
    """A stretch of observed time outside the objective."""

    start: datetime
    end: datetime
    #: It ended with the cluster back within its objective (else the period, or what was
    #: observed of it, ended first).
    recovered: bool

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Gap:
    """The time between two backups (or from the last one to the end of what was observed)."""

    start: datetime
    end: datetime
    open: bool = False  # no backup has ended it yet

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class ClusterLedger:
    """One cluster's figures for one period."""

    cluster_id: str
    name: str
    folder_id: str
    start: datetime
    end: datetime
    target: float  # the share aimed at, 0..1 (``slo.target``)
    observed: timedelta = ZERO  # the time the bot can vouch for, stopped time excluded
    within: timedelta = ZERO  # of it, the time within the objective
    stopped: timedelta = ZERO
    unknown: timedelta = ZERO  # time the bot cannot vouch for (of the period so far)
    #: The period's length still ahead of ``now`` (for a month to date).
    ahead: timedelta = ZERO
    breaches: tuple[Breach, ...] = ()
    longest_gap: Gap | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.cluster_id

    @property
    def outside(self) -> timedelta:
        """Observed time outside the objective: what the error budget is spent on."""
        return self.observed - self.within

    @property
    def share(self) -> float | None:
        """The share of the observed time within the objective; None when nothing was."""
        if self.observed <= ZERO:
            return None
        return self.within / self.observed

    @property
    def budget(self) -> timedelta:
        """The error budget of the period: the share not aimed at of the period's time that is
        neither stopped nor unknown (the time still ahead counted in)."""
        counted = self.observed + self.ahead
        return timedelta(seconds=(1 - self.target) * counted.total_seconds())

    @property
    def budget_remaining(self) -> timedelta:
        """The error budget left (negative: overspent)."""
        return self.budget - self.outside

    @property
    def recoveries(self) -> tuple[timedelta, ...]:
        """The time to recover of each breach that ended within the period."""
        return tuple(b.duration for b in self.breaches if b.recovered)

    @property
    def meets_target(self) -> bool | None:
        share = self.share
        return None if share is None else share >= self.target


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return _merge((max(a, start), min(b, end)) for a, b in intervals)


def _subtract(base: Sequence[Interval], cut: Sequence[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in base:
        pieces = [(a, b)]
        for c, d in cut:
            next_pieces = []
            for x, y in pieces:
                if d <= x or c >= y:
                    next_pieces.append((x, y))
                    continue
                if c > x:
                    next_pieces.append((x, c))
                if d < y:
                    next_pieces.append((d, y))
            pieces = next_pieces
        out.extend(pieces)
    return _merge(out)


def _length(intervals: Iterable[Interval]) -> timedelta:
    return sum((b - a for a, b in intervals), ZERO)


def _stopped(history: ClusterHistory, until: datetime) -> list[Interval]:
    out: list[Interval] = []
    states = sorted(history.states, key=lambda s: s.since)
    for i, change in enumerate(states):
        if change.state is not ClusterState.STOPPED:
            continue
        end = states[i + 1].since if i + 1 < len(states) else until
        # The state first seen applies to what the cloud listed then, as the maximum age does.
        out.append((change.since if i else _EARLIEST, end))
    return _merge(out)


def _max_age_at(changes: Sequence[MaxAgeChange], t: datetime) -> timedelta | None:
    """The maximum age in force at ``t``: the newest change at or before it, else the first
    one (the maximum age the bot first saw applies to what the cloud listed then)."""
    if not changes:
        return None
    found = changes[0]
    for change in changes:
        if change.since <= t:
            found = change
        else:
            break
    return found.max_age


def _bad_pieces(
    observed: Sequence[Interval],
    completions: Sequence[datetime],
    max_ages: Sequence[MaxAgeChange],
) -> list[Interval]:
    """The observed time outside the objective, as intervals."""
    bad: list[Interval] = []
    for a, b in observed:
        cuts = {a, b}
        cuts.update(t for t in completions if a < t < b)
        cuts.update(m.since for m in max_ages if a < m.since < b)
        points = sorted(cuts)
        for s, e in itertools.pairwise(points):
            i = bisect.bisect_right(completions, s)
            last = completions[i - 1] if i else None
            max_age = _max_age_at(max_ages, s)
            if last is None or max_age is None:
                bad.append((s, e))
                continue
            due = last + max_age
            if due < e:
                bad.append((max(s, due), e))
    return _merge(bad)


def _longest_gap(completions: Sequence[datetime], start: datetime, upto: datetime) -> Gap | None:
    gaps: list[Gap] = []
    for before, after in itertools.pairwise(completions):
        if after > start and before < upto:
            gaps.append(Gap(before, after))
    if completions and completions[-1] < upto:
        gaps.append(Gap(completions[-1], upto, open=True))
    return max(gaps, key=lambda g: (g.duration, g.start), default=None)


def ledger_of(
    history: ClusterHistory,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    target: float,
) -> ClusterLedger:
    """The figures of ``history`` for the period [start, end), as far as ``now``."""
    upto = max(start, min(end, now))
    known = _clip(((s.start, s.end) for s in history.spans), start, upto)
    stopped = _clip(_stopped(history, upto), start, upto)
    observed = _subtract(known, stopped)
    unknown = _subtract(_subtract([(start, upto)] if upto > start else [], known), stopped)
    completions = sorted(b.completed_at for b in history.backups)
    max_ages = sorted(history.max_ages, key=lambda m: m.since)
    bad = _bad_pieces(observed, completions, max_ages)
    observed_ends = {b for _, b in observed}
    breaches = tuple(Breach(a, b, recovered=b not in observed_ends) for a, b in bad)
    return ClusterLedger(
        cluster_id=history.cluster_id,
        name=history.name,
        folder_id=history.folder_id,
        start=start,
        end=end,
        target=target,
        observed=_length(observed),
        within=_length(observed) - _length(bad),
        stopped=_length(stopped),
        unknown=_length(unknown),
        ahead=max(ZERO, end - upto),
        breaches=breaches,
        longest_gap=_longest_gap(completions, start, upto) if observed else None,
    )


# --- a fleet, a month, the days --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FleetLedger:
    """The figures of several clusters for one period."""

    start: datetime
    end: datetime
    target: float
    clusters: tuple[ClusterLedger, ...]

    @property
    def observed(self) -> timedelta:
        return sum((c.observed for c in self.clusters), ZERO)

    @property
    def within(self) -> timedelta:
        return sum((c.within for c in self.clusters), ZERO)

    @property
    def share(self) -> float | None:
        observed = self.observed
        return None if observed <= ZERO else self.within / observed

    @property
    def budget_remaining(self) -> timedelta:
        return sum((c.budget_remaining for c in self.clusters), ZERO)

    def below_target(self) -> list[ClusterLedger]:
        """The clusters below their target, worst first (then by name)."""
        below = [c for c in self.clusters if c.meets_target is False]
        return sorted(below, key=lambda c: (c.share or 0.0, c.display_name))


def month_period(month: str) -> tuple[datetime, datetime]:
    """The UTC bounds [start, end) of ``YYYY-MM``; a ValueError for anything else."""
    try:
        year_text, month_text = month.split("-")
        year, number = int(year_text), int(month_text)
        start = datetime(year, number, 1, tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{month!r} is not a month; write it as YYYY-MM, e.g. 2026-11") from None
    end = datetime(year + 1, 1, 1, tzinfo=UTC) if number == 12 else start.replace(month=number + 1)
    return start, end


def month_of(now: datetime) -> str:
    """``YYYY-MM`` of ``now`` in UTC."""
    return now.astimezone(UTC).strftime("%Y-%m")


def daily_shares(
    histories: Sequence[ClusterHistory],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    target: float,
) -> list[float | None]:
    """The fleet's share within the objective per UTC day of [start, end), up to ``now``
    (None for a day with nothing observed)."""
    shares: list[float | None] = []
    day = start
    while day < end and day < now:
        next_day = min(day + timedelta(days=1), end)
        figures = [ledger_of(h, start=day, end=next_day, now=now, target=target) for h in histories]
        observed = sum((f.observed for f in figures), ZERO)
        within = sum((f.within for f in figures), ZERO)
        shares.append(None if observed <= ZERO else within / observed)
        day = next_day
    return shares


def observation_of(
    cluster: Cluster,
    *,
    at: datetime,
    backups: Iterable[SeenBackup],
    max_age: MaxAge,
    stopped: bool | None = None,
    dead: bool | None = None,
) -> Observation:
    """What one read saw of ``cluster``, as the ledger keeps it. Stopped and dead are the
    cluster's status and health as read, unless the caller knows better (a replayed past)."""
    if stopped is None:
        stopped = cluster.status in (ClusterStatus.STOPPED, ClusterStatus.STOPPING)
    if dead is None:
        dead = cluster.health == ClusterHealth.DEAD
    state = ClusterState.STOPPED if stopped else ClusterState.DEAD if dead else ClusterState.RUNNING
    return Observation(
        cluster_id=cluster.id,
        at=at,
        backups=tuple(sorted(backups, key=lambda b: (b.completed_at, b.backup_id))),
        max_age=max_age.value,
        max_age_source=max_age.source.value,
        state=state,
        name=cluster.name,
        folder_id=cluster.folder_id,
        labels=tuple(sorted(dict(cluster.labels).items())),
        environment=str(cluster.environment),
    )


# --- restore drills in the monthly report ------------------------------------------------------
#
# Which clusters were proven restorable in the month (a drill of theirs passed) and their restore
# times against the drill route's ``rto_target``. The ledger keeps no copy of the drills: the
# drills table already holds each finished drill (its cluster, start, restore time and outcome),
# and the report reads it.


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
