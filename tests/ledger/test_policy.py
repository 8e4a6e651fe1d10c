"""The ledger, pure: the share of a period within the objective, breaches, the longest gap, the
time to recover, the error budget, stopped and unknown time; with the properties the issue
names checked over generated histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ledger.model import (
    ClusterHistory,
    ClusterState,
    MaxAgeChange,
    Observation,
    SeenBackup,
    Span,
    StateChange,
)
from bot.ledger.policy import (
    ZERO,
    FleetLedger,
    daily_shares,
    ledger_of,
    month_period,
    next_span,
)

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
H = timedelta(hours=1)
DAY = timedelta(days=1)
MAX_AGE = 26 * H


def _history(
    backups: list[datetime],
    *,
    max_ages: list[tuple[datetime, timedelta]] | None = None,
    states: list[tuple[datetime, ClusterState]] | None = None,
    spans: list[tuple[datetime, datetime]] | None = None,
) -> ClusterHistory:
    return ClusterHistory(
        cluster_id="c1",
        name="orders-prod",
        backups=tuple(SeenBackup(f"b{i}", b) for i, b in enumerate(sorted(backups))),
        max_ages=tuple(
            MaxAgeChange(since, age, "schedule")
            for since, age in (max_ages or [(START - 30 * DAY, MAX_AGE)])
        ),
        states=tuple(StateChange(since, state) for since, state in states or []),
        spans=tuple(Span(a, b) for a, b in (spans or [(START - 30 * DAY, END)])),
    )


def _every(
    step: timedelta, *, first: datetime = START - DAY, last: datetime = END
) -> list[datetime]:
    out = []
    t = first
    while t <= last:
        out.append(t)
        t += step
    return out


def test_a_cluster_backed_up_on_time_is_within_its_objective_all_month() -> None:
    figures = ledger_of(_history(_every(DAY)), start=START, end=END, now=END, target=0.995)
    assert figures.share == 1.0
    assert figures.observed == END - START
    assert figures.breaches == ()
    assert figures.budget_remaining == timedelta(seconds=0.005 * (END - START).total_seconds())


def test_a_missed_night_is_one_breach_with_its_time_to_recover() -> None:
    backups = [b for b in _every(DAY) if b != START + 10 * DAY]
    figures = ledger_of(_history(backups), start=START, end=END, now=END, target=0.995)
    # The backup of day 9 was 26 h old at day 10 + 2 h; day 11's ended it.
    [breach] = figures.breaches
    assert breach.start == START + 9 * DAY + MAX_AGE
    assert breach.end == START + 11 * DAY
    assert breach.recovered
    assert figures.recoveries == (22 * H,)
    assert figures.outside == 22 * H
    assert figures.longest_gap is not None
    assert (figures.longest_gap.start, figures.longest_gap.duration) == (START + 9 * DAY, 2 * DAY)
    assert figures.budget_remaining == figures.budget - 22 * H


def test_stopped_time_is_excluded_and_said() -> None:
    backups = [b for b in _every(DAY) if not START + 5 * DAY < b < START + 12 * DAY]
    history = _history(
        backups,
        states=[
            (START - 30 * DAY, ClusterState.RUNNING),
            (START + 5 * DAY + H, ClusterState.STOPPED),
            (START + 12 * DAY, ClusterState.RUNNING),
        ],
    )
    figures = ledger_of(history, start=START, end=END, now=END, target=0.995)
    assert figures.stopped == 7 * DAY - H
    assert figures.observed == END - START - figures.stopped
    # Started again with a backup that very moment: nothing outside.
    assert figures.share == 1.0


def test_a_cluster_restarted_without_a_backup_is_outside_until_its_next_one() -> None:
    backups = [b for b in _every(DAY) if not START + 5 * DAY < b < START + 13 * DAY]
    history = _history(
        backups,
        states=[
            (START + 5 * DAY + H, ClusterState.STOPPED),
            (START + 12 * DAY, ClusterState.RUNNING),
        ],
    )
    figures = ledger_of(history, start=START, end=END, now=END, target=0.995)
    assert figures.outside == DAY
    [breach] = figures.breaches
    assert (breach.start, breach.end, breach.recovered) == (
        START + 12 * DAY,
        START + 13 * DAY,
        True,
    )


def test_time_the_bot_cannot_vouch_for_is_unknown_never_good() -> None:
    # First seen on the 10th, the oldest backup then listed from the 8th; away from the 20th to
    # the 25th, long enough that the listing no longer reached back.
    history = _history(
        _every(DAY),
        spans=[(START + 7 * DAY, START + 20 * DAY), (START + 25 * DAY, END)],
    )
    figures = ledger_of(history, start=START, end=END, now=END, target=0.995)
    assert figures.unknown == 7 * DAY + 5 * DAY
    assert figures.observed == END - START - figures.unknown
    assert figures.share == 1.0


def test_a_month_to_date_counts_the_rest_of_the_month_into_the_budget() -> None:
    now = START + 10 * DAY
    figures = ledger_of(_history(_every(DAY)), start=START, end=END, now=now, target=0.99)
    assert figures.observed == 10 * DAY
    assert figures.ahead == END - now
    assert figures.budget == timedelta(seconds=0.01 * (END - START).total_seconds())


def test_a_change_of_maximum_age_applies_from_when_it_was_made() -> None:
    backups = _every(DAY)
    history = _history(backups, max_ages=[(START - 30 * DAY, MAX_AGE), (START + 10 * DAY, 6 * H)])
    figures = ledger_of(history, start=START, end=END, now=END, target=0.995)
    # From the 10th on, each day is 18 h outside (6 h allowed after each daily backup).
    assert figures.outside == 20 * 18 * H
    assert len(figures.breaches) == 20


def test_a_cluster_with_no_backup_is_outside_all_the_time_it_is_observed() -> None:
    history = _history([], spans=[(START + DAY, END)])
    figures = ledger_of(history, start=START, end=END, now=END, target=0.995)
    assert figures.share == 0.0
    [breach] = figures.breaches
    assert not breach.recovered
    assert figures.longest_gap is None


def test_nothing_observed_has_no_share() -> None:
    history = _history(_every(DAY), spans=[(START - 30 * DAY, START - DAY)])
    figures = ledger_of(history, start=START, end=END, now=END, target=0.995)
    assert figures.share is None
    assert figures.meets_target is None
    assert figures.unknown == END - START


def test_the_fleet_puts_clusters_below_target_worst_first() -> None:
    good = ledger_of(_history(_every(DAY)), start=START, end=END, now=END, target=0.995)
    one_gap = [b for b in _every(DAY) if b != START + 10 * DAY]
    bad = ledger_of(_history(one_gap), start=START, end=END, now=END, target=0.995)
    worse = ledger_of(_history(_every(2 * DAY)), start=START, end=END, now=END, target=0.995)
    fleet = FleetLedger(START, END, 0.995, (good, bad, worse))
    assert fleet.below_target() == [worse, bad]
    assert fleet.observed == 3 * (END - START)


def test_daily_shares_cover_each_day_up_to_now() -> None:
    one_gap = [b for b in _every(DAY) if b != START + 2 * DAY]
    shares = daily_shares(
        [_history(one_gap)], start=START, end=END, now=START + 4 * DAY + H, target=0.995
    )
    assert shares == [1.0, 1.0, 2 / 24, 1.0, 1.0]


def test_month_period_and_its_refusal() -> None:
    assert month_period("2026-12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_period("Nov")


# --- spans ---------------------------------------------------------------------------------------


def _seen(at: datetime, backups: list[datetime]) -> Observation:
    return Observation(
        cluster_id="c1",
        at=at,
        backups=tuple(SeenBackup(f"b{i}", b) for i, b in enumerate(backups)),
        max_age=MAX_AGE,
        max_age_source="schedule",
        state=ClusterState.RUNNING,
    )


def test_a_span_begins_at_the_oldest_backup_listed_at_first_sight() -> None:
    assert next_span(None, _seen(START, [START - 3 * DAY, START - DAY])) == Span(
        START - 3 * DAY, START
    )
    assert next_span(None, _seen(START, [])) == Span(START, START)


def test_a_span_goes_on_while_the_listing_reaches_back_to_it() -> None:
    span = Span(START - 3 * DAY, START)
    assert next_span(span, _seen(START + DAY, [START - DAY, START + H])) == Span(
        START - 3 * DAY, START + DAY
    )
    # Away for three weeks: the listing starts after the span ended; a new span.
    later = START + 21 * DAY
    assert next_span(span, _seen(later, [later - 14 * DAY])) == Span(later - 14 * DAY, later)
    # A read older than what is kept adds nothing.
    assert next_span(span, _seen(START - H, [START - DAY])) is None


# --- properties ----------------------------------------------------------------------------------

max_ages = st.integers(min_value=1, max_value=72).map(lambda h: timedelta(hours=h))
offsets = st.integers(min_value=0, max_value=30 * 24 * 60).map(lambda m: timedelta(minutes=m))


@settings(max_examples=60, deadline=None)
@given(max_age=max_ages, phase=offsets)
def test_backed_up_exactly_every_max_age_is_one_hundred_percent(
    max_age: timedelta, phase: timedelta
) -> None:
    first = START - max_age + phase % max_age
    history = _history(_every(max_age, first=first), max_ages=[(first, max_age)])
    figures = ledger_of(history, start=START, end=END, now=END, target=0.995)
    assert figures.share == 1.0
    assert figures.outside == ZERO


@settings(max_examples=60, deadline=None)
@given(
    max_age=max_ages,
    where=st.integers(min_value=0, max_value=20),
    extra=st.integers(min_value=1, max_value=5 * 24 * 60).map(lambda m: timedelta(minutes=m)),
)
def test_a_single_gap_of_g_beyond_the_objective_costs_exactly_g(
    max_age: timedelta, where: int, extra: timedelta
) -> None:
    before = _every(max_age, first=START - max_age, last=START + where * max_age)
    resume = before[-1] + max_age + extra
    after = _every(max_age, first=resume, last=END + max_age)
    history = _history(before + after, max_ages=[(START - max_age, max_age)])
    figures = ledger_of(history, start=START, end=END, now=END, target=0.995)
    breach_start = before[-1] + max_age
    expected = max(ZERO, min(resume, END) - max(breach_start, START))
    assert figures.outside == expected
    if breach_start >= START and resume <= END:
        [breach] = figures.breaches
        assert breach.duration == extra


@settings(max_examples=80, deadline=None)
@given(
    backups=st.lists(offsets, max_size=40),
    added=offsets,
    max_age=max_ages,
    gap=st.booleans(),
)
def test_adding_a_backup_never_lowers_the_share(
    backups: list[timedelta], added: timedelta, max_age: timedelta, gap: bool
) -> None:
    spans = [(START, START + 9 * DAY), (START + 12 * DAY, END)] if gap else [(START, END)]
    times = [START + b for b in backups]
    kwargs = {"max_ages": [(START, max_age)], "spans": spans}
    before = ledger_of(_history(times, **kwargs), start=START, end=END, now=END, target=0.99)
    after = ledger_of(
        _history([*times, START + added], **kwargs), start=START, end=END, now=END, target=0.99
    )
    assert after.observed == before.observed
    assert after.within >= before.within
    assert (after.share or 0.0) >= (before.share or 0.0)
