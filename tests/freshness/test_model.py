"""The core's vocabulary: which states are problems, which fire, which incidents are open, and
what a blank entry or report holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.alerts.model import AlertEntry, AlertGroup, AlertStatus, BotIncident, BotIncidentStatus
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource


def test_stale_never_and_unknown_are_problems_and_only_stale_and_never_fire() -> None:
    problems = {state for state in FreshnessState if state.is_problem}
    firing = {state for state in FreshnessState if state.fires}
    assert problems == {FreshnessState.STALE, FreshnessState.NEVER, FreshnessState.UNKNOWN}
    assert firing == {FreshnessState.STALE, FreshnessState.NEVER}


def test_firing_acknowledged_and_snoozed_incidents_are_open() -> None:
    assert {status for status in AlertStatus if status.is_open} == {
        AlertStatus.FIRING,
        AlertStatus.ACKNOWLEDGED,
        AlertStatus.SNOOZED,
    }


def test_a_blank_entry_has_no_incident_and_nothing_posted() -> None:
    entry = AlertEntry(cluster_id="c9qcluster1", route_key="alert:C1:00000000")
    assert entry.status == AlertStatus.OK
    assert entry.channel == ""
    assert entry.version == 0
    # None means "not yet" to the store and the renderers: no message, no times, no people.
    assert [
        entry.message_ts,
        entry.opened_at,
        entry.stale_since,
        entry.last_notified_at,
        entry.acknowledged_by,
        entry.acknowledged_at,
        entry.snoozed_until,
        entry.snoozed_by,
        entry.resolved_at,
        entry.last_state,
        entry.newest_backup_at,
        entry.message_id,
        entry.group_id,
    ] == [None] * 13
    # Not yet read: no name or folder to show (the renderers fall back to the id).
    assert (entry.cluster_name, entry.folder_id) == ("", "")


def test_a_bare_report_knows_no_backup_and_gives_no_reason() -> None:
    max_age = MaxAge(timedelta(hours=26), MaxAgeSource.DEFAULT)
    report = FreshnessReport(cluster_id="c1", state=FreshnessState.NEVER, max_age=max_age)
    assert (report.newest_backup_id, report.newest_backup_at, report.age) == (None, None, None)
    assert report.reason == ""
    assert max_age.detail == ""


def test_a_new_group_is_open_not_yet_reminded_nor_posted() -> None:
    opened = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    group = AlertGroup(
        id="g1",
        route_key="alert:C1:00000000",
        group_key="*",
        label="all clusters",
        channel="C1",
        message_id="p1",
        opened_at=opened,
    )
    assert group.is_open
    assert [group.last_reminded_at, group.resolved_at, group.message_ts] == [None] * 3
    assert group.version == 0
    assert not replace(group, resolved_at=opened).is_open


def test_a_bot_incident_starts_closed_with_nothing_said() -> None:
    incident = BotIncident(key="blind")
    assert incident.status is BotIncidentStatus.CLOSED
    assert not incident.is_open
    assert incident.since is None
    assert incident.detail == ""
    assert incident.messages == ()
    assert incident.version == 0
    assert replace(incident, status=BotIncidentStatus.OPEN).is_open
