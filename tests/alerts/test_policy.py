"""The alert state machine: one post per incident, reminders on the interval, ack and snooze,
and one resolution."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.model import AlertEntry, AlertStatus
from bot.alerts.policy import (
    Action,
    ActionKind,
    Decision,
    Reason,
    acknowledge,
    evaluate,
    outage_duration,
    retire,
    snooze,
    unacknowledge,
    unsnooze,
)
from bot.config import AlertRoute
from bot.errors import UsageError
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
MAX_AGE = MaxAge(timedelta(hours=26), MaxAgeSource.SCHEDULE, "daily at 03:00 UTC")
ROUTE = AlertRoute(channel="C0ONCALL", mention=["S0ONCALL"], repeat=timedelta(hours=4))
KEY = "alert:C0ONCALL:44136fa3"
LAST_BACKUP = NOW - timedelta(hours=30)  # stale since NOW - 4h


def report(state: FreshnessState, *, at: datetime | None = LAST_BACKUP) -> FreshnessReport:
    if state in (FreshnessState.NEVER, FreshnessState.UNKNOWN):
        at = None
    return FreshnessReport(
        cluster_id="c9qcluster1",
        state=state,
        max_age=MAX_AGE,
        newest_backup_id="b-last" if at is not None else None,
        newest_backup_at=at,
        reason="timeout" if state == FreshnessState.UNKNOWN else "",
    )


STALE = report(FreshnessState.STALE)
NEVER = report(FreshnessState.NEVER)
UNKNOWN = report(FreshnessState.UNKNOWN)
STOPPED = report(FreshnessState.STOPPED)
UNSCHEDULED = report(FreshnessState.UNSCHEDULED)


def fresh(at: datetime) -> FreshnessReport:
    return report(FreshnessState.FRESH, at=at)


def run(
    entry: AlertEntry | None,
    rep: FreshnessReport,
    at: datetime,
    route: AlertRoute = ROUTE,
) -> Decision:
    return evaluate(entry, rep, route=route, route_key=KEY, now=at)


def kinds(decision: Decision) -> list[ActionKind]:
    return [action.kind for action in decision.actions]


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def posted(decision: Decision, ts: str = "1710000000.000100") -> AlertEntry:
    """What the sweep saves after posting the alert: the message's ts."""
    return replace(decision.entry, message_ts=ts)


# --- the calendar ------------------------------------------------------------------------------


def test_an_incident_walks_from_firing_to_resolved() -> None:
    # 09:00 stale: the alert is posted once.
    d = run(None, STALE, NOW)
    assert d.actions == (Action(ActionKind.POST_ALERT, Reason.NEW_INCIDENT),)
    assert d.entry.status == AlertStatus.FIRING
    assert d.entry.opened_at == NOW
    assert d.entry.stale_since == LAST_BACKUP + MAX_AGE.value
    assert d.entry.channel == "C0ONCALL"
    entry = posted(d)

    # 09:15 ... 12:45: still stale, nothing to say before the repeat interval.
    for minutes in range(15, 240, 15):
        d = run(entry, STALE, NOW + timedelta(minutes=minutes))
        assert d.actions == ()
        entry = d.entry

    # 13:00: four hours on, a reminder in the thread.
    d = run(entry, STALE, NOW + hours(4))
    assert d.actions == (Action(ActionKind.POST_REMINDER, Reason.REPEAT_INTERVAL),)
    assert d.entry.last_notified_at == NOW + hours(4)
    entry = d.entry

    # 13:30: acknowledged; the message is updated, and no more reminders...
    d = acknowledge(entry, user="U0ALICE", now=NOW + hours(4.5))
    assert d.actions == (Action(ActionKind.UPDATE_ALERT, Reason.ACKNOWLEDGED),)
    assert d.entry.acknowledged_by == "U0ALICE"
    entry = d.entry
    for h in (5, 9, 13, 20):
        d = run(entry, STALE, NOW + hours(h))
        assert d.actions == ()
        assert d.entry.status == AlertStatus.ACKNOWLEDGED
        entry = d.entry

    # ...and it does not fire again by itself. 05:00 next day: snoozed for 4 hours.
    d = snooze(entry, until=NOW + hours(24), user="U0BOB", now=NOW + hours(20))
    assert d.actions == (Action(ActionKind.UPDATE_ALERT, Reason.SNOOZED),)
    assert d.entry.status == AlertStatus.SNOOZED
    assert d.entry.acknowledged_by is None
    entry = d.entry
    d = run(entry, STALE, NOW + hours(23.75))
    assert d.actions == ()
    entry = d.entry

    # 09:00 next day: the snooze ends and it is still stale: firing again, with a reminder.
    d = run(entry, STALE, NOW + hours(24))
    assert d.actions == (
        Action(ActionKind.UPDATE_ALERT, Reason.SNOOZE_EXPIRED),
        Action(ActionKind.POST_REMINDER, Reason.SNOOZE_EXPIRED),
    )
    assert d.entry.status == AlertStatus.FIRING
    assert d.entry.snoozed_until is None
    entry = d.entry

    # 10:00: a fresh backup landed at 09:40; resolved, message updated, notice posted.
    landed = NOW + hours(24) + timedelta(minutes=40)
    d = run(entry, fresh(landed), NOW + hours(25))
    assert d.actions == (
        Action(ActionKind.UPDATE_ALERT, Reason.RECOVERED),
        Action(ActionKind.POST_RESOLVED, Reason.RECOVERED),
    )
    assert d.entry.status == AlertStatus.RESOLVED
    assert d.entry.resolved_at == NOW + hours(25)
    # The same message throughout the incident.
    assert d.entry.message_ts == "1710000000.000100"
    assert d.entry.opened_at == NOW
    # Stale from 05:00 the first day until the backup landed at 09:40 the next.
    assert outage_duration(d.entry, NOW + hours(99)) == timedelta(hours=28, minutes=40)
    entry = d.entry

    # Afterwards, fresh sweeps say nothing.
    assert run(entry, fresh(landed), NOW + hours(26)).actions == ()


def test_a_persistent_stale_state_posts_exactly_one_alert() -> None:
    entry: AlertEntry | None = None
    alerts = reminders = 0
    for step in range(24 * 4 * 7):  # a week of 15-minute sweeps
        d = run(entry, STALE, NOW + timedelta(minutes=15 * step))
        alerts += kinds(d).count(ActionKind.POST_ALERT)
        reminders += kinds(d).count(ActionKind.POST_REMINDER)
        entry = d.entry
    assert alerts == 1
    assert reminders == 7 * 24 // 4 - 1


def test_a_never_backed_up_cluster_fires_and_its_outage_counts_from_the_alert() -> None:
    d = run(None, NEVER, NOW)
    assert kinds(d) == [ActionKind.POST_ALERT]
    assert d.entry.stale_since == NOW
    assert outage_duration(d.entry, NOW + hours(5)) == hours(5)


def test_never_turning_into_stale_updates_the_open_alert_without_a_new_post() -> None:
    entry = run(None, NEVER, NOW).entry
    d = run(entry, STALE, NOW + hours(1))
    assert d.actions == (Action(ActionKind.UPDATE_ALERT, Reason.STATE_CHANGED),)
    assert d.entry.last_state == FreshnessState.STALE


def test_a_reminder_is_due_exactly_at_the_repeat_interval() -> None:
    entry = run(None, STALE, NOW).entry
    assert run(entry, STALE, NOW + hours(4) - timedelta(seconds=1)).actions == ()
    assert kinds(run(entry, STALE, NOW + hours(4))) == [ActionKind.POST_REMINDER]


def test_fresh_with_send_resolved_off_only_updates_the_message() -> None:
    quiet = ROUTE.model_copy(update={"send_resolved": False})
    entry = run(None, STALE, NOW, quiet).entry
    d = run(entry, fresh(NOW + hours(1)), NOW + hours(1), quiet)
    assert d.actions == (Action(ActionKind.UPDATE_ALERT, Reason.RECOVERED),)
    assert d.entry.status == AlertStatus.RESOLVED


@pytest.mark.parametrize(
    ("rep", "reason"),
    [(STOPPED, Reason.CLUSTER_STOPPED), (UNSCHEDULED, Reason.SCHEDULE_REMOVED)],
)
def test_a_stopped_or_unscheduled_cluster_resolves_with_its_own_reason(
    rep: FreshnessReport, reason: Reason
) -> None:
    entry = run(None, STALE, NOW).entry
    d = run(entry, rep, NOW + hours(1))
    assert d.entry.status == AlertStatus.RESOLVED
    assert d.entry.last_state == rep.state
    assert d.actions == (
        Action(ActionKind.UPDATE_ALERT, reason),
        Action(ActionKind.POST_RESOLVED, reason),
    )


@pytest.mark.parametrize("rep", [fresh(NOW), STOPPED, UNSCHEDULED, UNKNOWN])
def test_nothing_opens_an_incident_but_stale_or_never(rep: FreshnessReport) -> None:
    d = run(None, rep, NOW)
    assert d.actions == ()
    assert not d.entry.status.is_open


def test_blindness_neither_opens_nor_resolves_nor_reminds() -> None:
    entry = run(None, STALE, NOW).entry
    d = run(entry, UNKNOWN, NOW + hours(10))
    assert d.actions == ()
    assert d.entry == entry


def test_a_snooze_that_ends_while_blind_waits_for_a_real_answer() -> None:
    entry = snooze(run(None, STALE, NOW).entry, until=NOW + hours(1), user="U1", now=NOW).entry
    assert run(entry, UNKNOWN, NOW + hours(2)).entry.status == AlertStatus.SNOOZED


def test_a_snoozed_incident_that_recovers_resolves_without_waking() -> None:
    entry = snooze(run(None, STALE, NOW).entry, until=NOW + hours(8), user="U1", now=NOW).entry
    d = run(entry, fresh(NOW + hours(2)), NOW + hours(2))
    assert d.entry.status == AlertStatus.RESOLVED
    assert ActionKind.POST_REMINDER not in kinds(d)
    assert d.entry.snoozed_until is None
    assert d.entry.snoozed_by is None


def test_a_stale_cluster_after_resolution_opens_a_new_incident() -> None:
    first = posted(run(None, STALE, NOW))
    first = acknowledge(first, user="U0ALICE", now=NOW + hours(1)).entry
    resolved = run(first, fresh(NOW + hours(2)), NOW + hours(2)).entry
    later = NOW + hours(40)
    d = run(resolved, report(FreshnessState.STALE, at=NOW + hours(2)), later)
    assert d.actions == (Action(ActionKind.POST_ALERT, Reason.NEW_INCIDENT),)
    assert d.entry.opened_at == later
    assert d.entry.message_ts is None
    assert d.entry.acknowledged_by is None
    assert d.entry.resolved_at is None
    assert d.entry.stale_since == NOW + hours(2) + MAX_AGE.value


def test_the_version_is_carried_for_the_store_to_check() -> None:
    entry = replace(run(None, STALE, NOW).entry, version=7)
    assert run(entry, STALE, NOW + hours(4)).entry.version == 7
    assert acknowledge(entry, user="U1", now=NOW).entry.version == 7


def test_an_entry_for_another_cluster_or_route_is_refused() -> None:
    entry = run(None, STALE, NOW).entry
    with pytest.raises(ValueError, match="evaluated with a report"):
        evaluate(entry, STALE, route=ROUTE, route_key="alert:C1:00000000", now=NOW)
    other_cluster = replace(STALE, cluster_id="c9qcluster2")
    with pytest.raises(ValueError, match=r"c9qcluster1/.* evaluated with .* for c9qcluster2/"):
        evaluate(entry, other_cluster, route=ROUTE, route_key=KEY, now=NOW)


# --- people ------------------------------------------------------------------------------------


def test_acknowledging_twice_changes_nothing_the_second_time() -> None:
    entry = acknowledge(run(None, STALE, NOW).entry, user="U0ALICE", now=NOW).entry
    d = acknowledge(entry, user="U0BOB", now=NOW + hours(1))
    assert d.actions == ()
    assert d.entry.acknowledged_by == "U0ALICE"


def test_acknowledging_a_snoozed_incident_clears_the_snooze() -> None:
    entry = snooze(run(None, STALE, NOW).entry, until=NOW + hours(4), user="U1", now=NOW).entry
    d = acknowledge(entry, user="U2", now=NOW)
    assert d.entry.status == AlertStatus.ACKNOWLEDGED
    assert d.entry.snoozed_until is None
    assert d.entry.snoozed_by is None


def test_unacknowledging_fires_again_and_reminds_a_repeat_after_it() -> None:
    entry = acknowledge(run(None, STALE, NOW).entry, user="U0ALICE", now=NOW).entry
    d = unacknowledge(entry, now=NOW + hours(6))
    assert d.actions == (Action(ActionKind.UPDATE_ALERT, Reason.UNACKNOWLEDGED),)
    assert (d.entry.status, d.entry.acknowledged_by, d.entry.acknowledged_at) == (
        AlertStatus.FIRING,
        None,
        None,
    )
    assert run(d.entry, STALE, NOW + hours(9)).actions == ()
    assert kinds(run(d.entry, STALE, NOW + hours(10))) == [ActionKind.POST_REMINDER]
    assert unacknowledge(d.entry, now=NOW + hours(7)).actions == ()


def test_unsnoozing_fires_again_and_reminds_on_the_usual_interval() -> None:
    entry = run(None, STALE, NOW).entry
    entry = snooze(entry, until=NOW + hours(24), user="U1", now=NOW + hours(1)).entry
    d = unsnooze(entry, now=NOW + hours(2))
    assert d.actions == (Action(ActionKind.UPDATE_ALERT, Reason.UNSNOOZED),)
    assert d.entry.status == AlertStatus.FIRING
    assert run(d.entry, STALE, NOW + hours(3)).actions == ()
    assert kinds(run(d.entry, STALE, NOW + hours(4))) == [ActionKind.POST_REMINDER]


@pytest.mark.parametrize("status", [AlertStatus.OK, AlertStatus.RESOLVED])
def test_ack_and_snooze_of_an_incident_that_is_not_open_say_so(status: AlertStatus) -> None:
    entry = AlertEntry(cluster_id="c9qcluster1", route_key=KEY, status=status)
    with pytest.raises(UsageError, match="cannot acknowledge this alert"):
        acknowledge(entry, user="U1", now=NOW)
    with pytest.raises(UsageError, match="cannot snooze this alert"):
        snooze(entry, until=NOW + hours(1), user="U1", now=NOW)
    with pytest.raises(UsageError, match="not snoozed"):
        unsnooze(entry, now=NOW)


def test_unsnoozing_an_incident_that_is_not_snoozed_says_so() -> None:
    with pytest.raises(UsageError, match="it is firing"):
        unsnooze(run(None, STALE, NOW).entry, now=NOW)


def test_a_snooze_must_end_in_the_future() -> None:
    with pytest.raises(UsageError, match="future"):
        snooze(run(None, STALE, NOW).entry, until=NOW, user="U1", now=NOW)


def test_the_outage_of_an_open_incident_runs_until_now() -> None:
    entry = run(None, STALE, NOW).entry
    assert outage_duration(entry, NOW + hours(2)) == hours(6)
    assert outage_duration(AlertEntry(cluster_id="c", route_key="k"), NOW) == timedelta(0)


def test_the_outage_of_a_stopped_incident_ends_at_its_resolution() -> None:
    entry = run(run(None, STALE, NOW).entry, STOPPED, NOW + hours(3)).entry
    assert outage_duration(entry, NOW + hours(50)) == hours(7)


# --- properties --------------------------------------------------------------------------------

_STATES = [FreshnessState.STALE, FreshnessState.NEVER, FreshnessState.FRESH]
_STATES += [FreshnessState.UNKNOWN, FreshnessState.STOPPED, FreshnessState.UNSCHEDULED]

_step = st.tuples(
    st.integers(min_value=0, max_value=600),  # minutes since the previous step
    st.sampled_from(["sweep", "sweep", "sweep", "ack", "snooze", "unsnooze"]),
    st.sampled_from(_STATES),
    st.integers(min_value=1, max_value=48),  # snooze hours
)


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(_step, max_size=60),
    send_resolved=st.booleans(),
    repeat_hours=st.integers(min_value=1, max_value=12),
)
def test_any_history_posts_one_alert_per_incident_and_resolves_only_open_ones(
    steps: list[tuple[int, str, FreshnessState, int]], send_resolved: bool, repeat_hours: int
) -> None:
    route = ROUTE.model_copy(update={"send_resolved": send_resolved, "repeat": hours(repeat_hours)})
    entry: AlertEntry | None = None
    at = NOW
    for minutes, what, state, snooze_hours in steps:
        at += timedelta(minutes=minutes)
        before = entry
        was_open = before is not None and before.status.is_open
        try:
            if what == "sweep":
                d = run(before, report(state, at=at - hours(30)), at, route)
            elif before is None:
                continue
            elif what == "ack":
                d = acknowledge(before, user="U1", now=at)
            elif what == "snooze":
                d = snooze(before, until=at + hours(snooze_hours), user="U1", now=at)
            else:
                d = unsnooze(before, now=at)
        except UsageError:
            assert before is not None
            assert not before.status.is_open or what == "unsnooze"
            continue
        got = kinds(d)
        assert got.count(ActionKind.POST_ALERT) <= 1
        if ActionKind.POST_ALERT in got:
            assert not was_open, "a second alert for an open incident"
            assert d.entry.status == AlertStatus.FIRING
            assert d.entry.opened_at == at
        if ActionKind.POST_RESOLVED in got:
            assert was_open, "a resolved notice without an incident"
            assert send_resolved
        if d.entry.status == AlertStatus.RESOLVED and was_open:
            assert ActionKind.UPDATE_ALERT in got
        if ActionKind.POST_REMINDER in got:
            assert was_open
            assert before is not None
            assert before.status != AlertStatus.ACKNOWLEDGED
        if was_open and d.entry.status.is_open:
            assert before is not None
            # Within one incident: the same opening, the same message.
            assert d.entry.opened_at == before.opened_at
            assert d.entry.message_ts == before.message_ts
        if not was_open and ActionKind.POST_ALERT not in got:
            assert got == [], "actions for an incident that is not open"
        entry = d.entry
        if ActionKind.POST_ALERT in got:
            entry = posted(d, ts=f"{at.timestamp():.6f}")


def test_an_open_incident_of_a_cluster_no_longer_watched_is_retired() -> None:
    never = FreshnessReport(cluster_id="c1", state=FreshnessState.NEVER, max_age=MAX_AGE)
    opened = evaluate(None, never, route=ROUTE, route_key=KEY, now=NOW).entry
    later = NOW + timedelta(hours=3)

    decision = retire(opened, route=ROUTE, now=later)

    assert decision.entry.status is AlertStatus.RESOLVED
    assert decision.entry.resolved_at == later
    assert decision.actions == (
        Action(ActionKind.UPDATE_ALERT, Reason.NO_LONGER_WATCHED),
        Action(ActionKind.POST_RESOLVED, Reason.NO_LONGER_WATCHED),
    )
    quiet = retire(opened, route=ROUTE.model_copy(update={"send_resolved": False}), now=later)
    assert quiet.actions == (Action(ActionKind.UPDATE_ALERT, Reason.NO_LONGER_WATCHED),)


def test_retiring_an_incident_that_is_not_open_is_a_usage_error() -> None:
    closed = AlertEntry(cluster_id="c1", route_key=KEY, status=AlertStatus.RESOLVED)
    with pytest.raises(UsageError):
        retire(closed, route=ROUTE, now=NOW)


def test_a_newer_backup_that_is_still_stale_updates_the_open_alert() -> None:
    entry = run(None, STALE, NOW).entry
    newer = report(FreshnessState.STALE, at=LAST_BACKUP + hours(1))
    d = run(entry, newer, NOW + hours(1))
    assert d.actions == (Action(ActionKind.UPDATE_ALERT, Reason.STATE_CHANGED),)
    assert d.entry.newest_backup_at == LAST_BACKUP + hours(1)
    # The incident keeps the moment it went stale, and its opening.
    assert d.entry.stale_since == entry.stale_since
    assert d.entry.opened_at == NOW


def test_an_outage_of_unknown_start_counts_from_the_alert() -> None:
    opened = AlertEntry(
        cluster_id="c9qcluster1", route_key=KEY, status=AlertStatus.FIRING, opened_at=NOW
    )
    assert outage_duration(opened, NOW + hours(3)) == hours(3)
    resolved = replace(opened, status=AlertStatus.RESOLVED, resolved_at=NOW + hours(5))
    assert outage_duration(resolved, NOW + hours(50)) == hours(5)


def test_a_decision_says_which_actions_it_holds() -> None:
    d = run(None, STALE, NOW)
    assert d.has(ActionKind.POST_ALERT)
    assert not d.has(ActionKind.POST_RESOLVED)
    assert not Decision(d.entry).has(ActionKind.POST_ALERT)


def test_a_cluster_with_no_incident_gets_a_blank_entry_for_this_route() -> None:
    d = run(None, fresh(NOW), NOW)
    assert d.actions == ()
    assert (d.entry.cluster_id, d.entry.route_key, d.entry.channel) == (
        "c9qcluster1",
        KEY,
        "C0ONCALL",
    )
    assert d.entry.status == AlertStatus.OK


def test_an_open_incident_saved_without_its_stale_moment_gets_it_on_the_next_sweep() -> None:
    entry = replace(run(None, STALE, NOW).entry, stale_since=None)
    d = run(entry, STALE, NOW + hours(1))
    assert d.entry.stale_since == LAST_BACKUP + MAX_AGE.value


def test_a_snooze_that_ends_fires_again_as_if_just_notified() -> None:
    entry = snooze(run(None, STALE, NOW).entry, until=NOW + hours(2), user="U1", now=NOW).entry
    d = run(entry, STALE, NOW + hours(2))
    assert d.entry.status == AlertStatus.FIRING
    assert (d.entry.snoozed_until, d.entry.snoozed_by) == (None, None)
    assert d.entry.last_notified_at == NOW + hours(2)
    # The next reminder is one repeat interval after the wake-up, not at once.
    assert run(d.entry, STALE, NOW + hours(3)).actions == ()
    assert kinds(run(d.entry, STALE, NOW + hours(6))) == [ActionKind.POST_REMINDER]


def test_a_firing_incident_never_notified_is_reminded_at_once() -> None:
    entry = replace(run(None, STALE, NOW).entry, last_notified_at=None)
    d = run(entry, STALE, NOW + timedelta(minutes=1))
    assert kinds(d) == [ActionKind.POST_REMINDER]
    assert d.entry.last_notified_at == NOW + timedelta(minutes=1)


def test_people_acting_on_an_incident_are_remembered_with_the_time() -> None:
    entry = run(None, STALE, NOW).entry
    acked = acknowledge(entry, user="U0ALICE", now=NOW + hours(1)).entry
    assert (acked.acknowledged_by, acked.acknowledged_at) == ("U0ALICE", NOW + hours(1))
    snoozed = snooze(acked, until=NOW + hours(5), user="U0BOB", now=NOW + hours(2)).entry
    assert (snoozed.snoozed_by, snoozed.snoozed_until) == ("U0BOB", NOW + hours(5))
    assert (snoozed.acknowledged_by, snoozed.acknowledged_at) == (None, None)
    woken = unsnooze(snoozed, now=NOW + hours(3)).entry
    assert (woken.snoozed_by, woken.snoozed_until) == (None, None)


def test_a_retired_incident_forgets_its_snooze() -> None:
    entry = snooze(run(None, STALE, NOW).entry, until=NOW + hours(8), user="U1", now=NOW).entry
    assert retire(entry, route=ROUTE, now=NOW + hours(1)).entry.snoozed_until is None


def test_refusals_say_what_was_asked_and_why() -> None:
    closed = AlertEntry(cluster_id="c1", route_key=KEY, status=AlertStatus.RESOLVED)
    with pytest.raises(UsageError, match="retire") as caught:
        retire(closed, route=ROUTE, now=NOW)
    assert str(caught.value) == "cannot retire this alert: it is resolved, not open"
    quiet = AlertEntry(cluster_id="c1", route_key=KEY)
    with pytest.raises(UsageError, match="acknowledge") as caught:
        acknowledge(quiet, user="U1", now=NOW)
    assert str(caught.value) == "cannot acknowledge this alert: it is not firing, not open"
    firing = run(None, STALE, NOW).entry
    with pytest.raises(UsageError, match="unsnooze") as caught:
        unsnooze(firing, now=NOW)
    assert str(caught.value) == (
        "this alert is not snoozed (it is firing), so there is nothing to unsnooze"
    )
    with pytest.raises(UsageError, match="future") as caught:
        snooze(firing, until=NOW - hours(1), user="U1", now=NOW)
    assert str(caught.value) == "a snooze must end in the future"
    assert caught.value.hint == "for example: snooze 4h"


def test_a_new_incident_keeps_the_stored_version() -> None:
    resolved = replace(
        run(run(None, STALE, NOW).entry, fresh(NOW), NOW + hours(1)).entry, version=7
    )
    d = run(resolved, STALE, NOW + hours(30))
    assert kinds(d) == [ActionKind.POST_ALERT]
    assert d.entry.version == 7


def test_a_stopped_incident_ends_at_its_resolution_even_after_a_newer_backup() -> None:
    entry = run(None, STALE, NOW).entry  # stale since NOW - 4h
    stopped = report(FreshnessState.STOPPED, at=NOW - hours(1))
    resolved = run(entry, stopped, NOW + hours(2)).entry
    # Only a fresh backup ends an outage early; the cluster stopping ends it when noticed.
    assert outage_duration(resolved, NOW + hours(50)) == hours(6)


def test_a_fresh_backup_landing_as_the_cluster_went_stale_ends_the_outage_there() -> None:
    entry = run(None, STALE, NOW).entry
    start = entry.stale_since
    assert start is not None
    resolved = run(entry, fresh(start), NOW + hours(1)).entry
    assert outage_duration(resolved, NOW + hours(50)) == timedelta(0)
