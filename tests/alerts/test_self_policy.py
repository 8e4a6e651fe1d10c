"""The bot's own incidents: blind (cannot read the cloud) and a channel that refuses the bot.

Each opens once, is announced once, keeps its start, and closes on the first sign of health;
a decision that changes nothing is not saved (``changed`` is False), so a quiet sweep writes
nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.alerts.model import BotIncident, BotIncidentStatus
from bot.alerts.self_policy import (
    BLIND,
    Announce,
    SelfDecision,
    channel_key,
    evaluate_blind,
    evaluate_channel,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LAST_OK = NOW - timedelta(minutes=40)


def _blind(incident: BotIncident | None, *, can_see: bool, failures: int, **kw: object):
    args: dict[str, object] = {
        "blind_after": 3,
        "last_ok": LAST_OK,
        "reason": "the cloud answers 503",
        "now": NOW,
    }
    args.update(kw)
    return evaluate_blind(incident, can_see=can_see, failures=failures, **args)  # type: ignore[arg-type]


def test_the_bot_is_not_blind_until_the_set_number_of_sweeps_in_a_row_failed() -> None:
    for failures in (0, 1, 2):
        decision = _blind(None, can_see=False, failures=failures)
        assert decision.announce is Announce.NOTHING
        assert not decision.changed
        assert not decision.incident.is_open
        assert decision.incident.key == BLIND == "blind"


def test_at_the_threshold_it_opens_once_since_the_last_sweep_that_could_see() -> None:
    stale = BotIncident(key=BLIND, messages=(("C1", "pold"),), detail="old", version=4)
    decision = _blind(stale, can_see=False, failures=3)
    assert decision.announce is Announce.OPENED
    assert decision.changed
    opened = decision.incident
    assert opened.status is BotIncidentStatus.OPEN
    assert opened.since == LAST_OK
    assert opened.detail == "the cloud answers 503"
    assert opened.messages == ()  # the last episode's notices are not this one's
    assert opened.version == 4  # the store's guard is kept
    # Past the threshold too (a restart may find the count already higher).
    assert _blind(None, can_see=False, failures=7).announce is Announce.OPENED


def test_a_bot_that_never_saw_the_cloud_is_blind_since_now() -> None:
    decision = _blind(None, can_see=False, failures=3, last_ok=None)
    assert decision.incident.since == NOW


def test_while_blind_it_is_not_announced_again_and_only_a_new_reason_is_saved() -> None:
    opened = _blind(None, can_see=False, failures=3).incident
    opened = replace(opened, messages=(("C1", "p1"),))
    same = _blind(opened, can_see=False, failures=9)
    assert same.announce is Announce.NOTHING
    assert not same.changed
    assert same.incident == opened
    other = _blind(opened, can_see=False, failures=10, reason="DNS fails")
    assert other.announce is Announce.NOTHING
    assert other.changed
    assert other.incident.detail == "DNS fails"
    assert other.incident.since == opened.since
    assert other.incident.messages == (("C1", "p1"),)


def test_the_first_sweep_that_sees_closes_it_and_keeps_the_notices_for_their_all_clear() -> None:
    opened = replace(_blind(None, can_see=False, failures=3).incident, messages=(("C1", "p1"),))
    decision = _blind(opened, can_see=True, failures=0)
    assert decision.announce is Announce.CLOSED
    assert decision.changed
    assert decision.incident.status is BotIncidentStatus.CLOSED
    assert decision.incident.messages == (("C1", "p1"),)
    assert decision.incident.since == opened.since


def test_seeing_while_not_blind_changes_nothing() -> None:
    for incident in (None, BotIncident(key=BLIND)):
        decision = _blind(incident, can_see=True, failures=0)
        assert decision.announce is Announce.NOTHING
        assert not decision.changed
        assert not decision.incident.is_open


def test_a_refusing_channel_opens_one_incident_of_its_own_and_says_so_once() -> None:
    assert channel_key("C42") == "channel:C42"
    decision = evaluate_channel(None, "C42", refused="not_in_channel", now=NOW)
    assert decision.announce is Announce.OPENED
    assert decision.changed
    incident = decision.incident
    assert incident.key == "channel:C42"
    assert incident.status is BotIncidentStatus.OPEN
    assert incident.since == NOW
    assert incident.detail == "not_in_channel"
    assert incident.messages == ()
    again = evaluate_channel(
        incident, "C42", refused="channel_not_found", now=NOW + timedelta(hours=1)
    )
    assert again.announce is Announce.NOTHING
    assert not again.changed
    assert again.incident == incident


def test_a_channel_that_takes_a_post_again_closes_it_and_a_healthy_one_changes_nothing() -> None:
    old = BotIncident(key="channel:C42", messages=(("C1", "p9"),), detail="gone", version=2)
    reopened = evaluate_channel(old, "C42", refused="is_archived", now=NOW)
    assert reopened.incident.messages == ()
    assert reopened.incident.version == 2
    opened = replace(reopened.incident, messages=(("C1", "p1"),))
    closed = evaluate_channel(opened, "C42", refused=None, now=NOW)
    assert closed.announce is Announce.CLOSED
    assert closed.changed
    assert closed.incident.status is BotIncidentStatus.CLOSED
    assert closed.incident.messages == (("C1", "p1"),)
    for incident in (None, closed.incident):
        quiet = evaluate_channel(incident, "C42", refused=None, now=NOW)
        assert quiet.announce is Announce.NOTHING
        assert not quiet.changed
        assert not quiet.incident.is_open
        assert quiet.incident.key == "channel:C42"


def test_a_decision_by_default_announces_nothing_and_saves_nothing() -> None:
    decision = SelfDecision(BotIncident(key=BLIND))
    assert decision.announce is Announce.NOTHING
    assert decision.changed is False
