"""The alert state machine under a silence: pure, with no I/O; which silence holds a cluster."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.alerts.model import AlertStatus
from bot.alerts.policy import ActionKind, Reason, evaluate, snooze
from bot.cloud.models import Cluster
from bot.fleet.match import parse_match
from bot.silences.model import Silence
from bot.silences.policy import silence_for
from tests.alerts.test_policy import KEY, NOW, ROUTE, STALE, fresh

HOLD = Silence(1, "folder:b1gf", "U0LEAD", NOW - timedelta(hours=1), NOW + timedelta(hours=2))


def test_a_silenced_cluster_opens_its_incident_without_a_post() -> None:
    decision = evaluate(None, STALE, route=ROUTE, route_key=KEY, now=NOW, silence=HOLD)
    assert decision.actions == ()
    entry = decision.entry
    assert (entry.status, entry.silence_id, entry.silenced_until) == (
        AlertStatus.FIRING,
        1,
        HOLD.ends_at,
    )


def test_no_reminder_while_silenced_and_a_snooze_that_ends_meanwhile_just_ends() -> None:
    opened = evaluate(None, STALE, route=ROUTE, route_key=KEY, now=NOW).entry
    posted = replace(opened, message_id="p1")
    held = evaluate(posted, STALE, route=ROUTE, route_key=KEY, now=NOW, silence=HOLD)
    assert [a.reason for a in held.actions] == [Reason.SILENCED]  # the alert says it
    later = NOW + timedelta(hours=5)
    longer = replace(HOLD, ends_at=later + timedelta(hours=1))
    quiet = evaluate(held.entry, STALE, route=ROUTE, route_key=KEY, now=later, silence=longer)
    assert not quiet.has(ActionKind.POST_REMINDER)
    snoozed = snooze(held.entry, until=NOW + timedelta(hours=1), user="U0B", now=NOW).entry
    woke = evaluate(snoozed, STALE, route=ROUTE, route_key=KEY, now=later, silence=longer)
    assert woke.entry.status == AlertStatus.FIRING
    assert not woke.has(ActionKind.POST_REMINDER)


def test_the_end_of_a_silence_is_said_once_and_a_recovery_forgets_it() -> None:
    held = evaluate(None, STALE, route=ROUTE, route_key=KEY, now=NOW, silence=HOLD).entry
    after = NOW + timedelta(hours=3)
    over = evaluate(held, STALE, route=ROUTE, route_key=KEY, now=after)
    assert [(a.kind, a.reason) for a in over.actions] == [
        (ActionKind.POST_ALERT, Reason.SILENCE_ENDED)
    ]
    assert over.entry.silence_id is None
    # Its alert is first posted now: the escalation clock starts here; the outage does not.
    assert (over.entry.opened_at, over.entry.stale_since) == (after, held.stale_since)
    posted = replace(held, message_id="p1")
    over = evaluate(posted, STALE, route=ROUTE, route_key=KEY, now=after)
    assert [a.kind for a in over.actions] == [ActionKind.UPDATE_ALERT, ActionKind.POST_REMINDER]
    again = evaluate(over.entry, STALE, route=ROUTE, route_key=KEY, now=after)
    assert again.actions == ()
    resolved = evaluate(posted, fresh(after), route=ROUTE, route_key=KEY, now=after, silence=HOLD)
    assert resolved.entry.status == AlertStatus.RESOLVED
    assert resolved.entry.silence_id is None


@pytest.mark.parametrize(
    ("match", "holds"),
    [
        ("folder:b1gf", True),
        ("folder:b1gother", False),
        ("label:team=search", True),
        ("label:team=shop", False),
        ("environment:production", True),
        ("environment:PRESTABLE", False),
        ("logs-prod", True),
        ("c9qlogs", True),
        ("cluster:logs-prod", True),
        ("other-prod", False),
        ("label:broken", False),  # cannot be read: holds nothing
    ],
)
def test_a_silence_holds_the_clusters_its_match_takes_in(match: str, holds: bool) -> None:
    cluster = Cluster.model_validate(
        {
            "id": "c9qlogs",
            "name": "logs-prod",
            "folderId": "b1gf",
            "labels": {"team": "search"},
            "environment": "PRODUCTION",
        }
    )
    silence = replace(HOLD, match=match)
    assert (silence_for([silence], cluster, NOW) is not None) is holds
    lifted = replace(silence, lifted_at=NOW, lifted_by="U0X")
    assert silence_for([lifted], cluster, NOW) is None
    assert silence_for([silence], cluster, HOLD.ends_at) is None


def test_the_match_parser_reads_the_configs_terms() -> None:
    assert parse_match("label:team=search").labels == {"team": "search"}
    assert parse_match("environment:prestable").environment == "PRESTABLE"
    assert parse_match("logs-prod").cluster == "logs-prod"
    for bad, says in (
        ("label:x", "name=value"),
        ("environment:MARS", "unknown environment"),
        ("zone:a", "unknown match kind"),
        ("folder:", "nothing after"),
    ):
        with pytest.raises(ValueError, match=says):
            parse_match(bad)
