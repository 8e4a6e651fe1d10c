"""The alert's messages as Slack gets them: valid Block Kit within Slack's limits, escaped, and
saying the right thing in each state (the alert, its thread replies, the bot about itself)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.alerts.messages import (
    render_alert,
    render_reminder,
    render_resolved,
    render_retired,
    render_self_alert,
)
from bot.alerts.model import AlertEntry, AlertStatus
from bot.alerts.policy import acknowledge, evaluate, snooze
from bot.config import AlertRoute
from bot.freshness.explain import Condition, Explanation
from bot.freshness.model import FreshnessReport, FreshnessState
from bot.slack.blocks import SLACK
from bot.slack.budget import MAX_FIELD_TEXT
from tests.cards import (
    CONSOLE,
    HOSTILE,
    MAX_AGE,
    NOW,
    all_text,
    assert_no_broadcast,
    assert_valid,
    cluster,
    report,
)
from tests.slack.payload import Payload, slack

ROUTE = AlertRoute(channel="C0ONCALL", mention=["S0ONCALL", "U0LEAD"], repeat=timedelta(hours=4))
KEY = "alert:C0ONCALL:44136fa3"


def firing(rep: FreshnessReport | None = None) -> AlertEntry:
    decision = evaluate(
        None, rep or report(FreshnessState.STALE), route=ROUTE, route_key=KEY, now=NOW
    )
    return replace(decision.entry, message_ts="1741933800.000100")


def alert(entry: AlertEntry, rep: FreshnessReport | None = None, **kw: Any) -> Payload:
    message = slack(
        render_alert(
            entry,
            cluster=kw.get("cluster", cluster()),
            report=rep or report(FreshnessState.STALE),
            route=ROUTE,
            console_url=CONSOLE,
            limits=SLACK.limits,
            now=NOW,
        )
    )
    assert_valid(message)
    return message


def action_ids(message: Payload) -> list[str]:
    return [
        element["action_id"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_a_firing_alert_mentions_on_call_and_offers_every_button() -> None:
    message = alert(firing())
    headline = message.blocks[0]["text"]["text"]
    assert headline.startswith(":rotating_light: *FIRING* <!subteam^S0ONCALL> <@U0LEAD>")
    assert "|orders-prod>*: the newest backup is 1d 6h old; the maximum is 1d 2h" in headline
    assert "<!subteam^S0ONCALL>" in message.text
    fields = all_text([message])
    assert "PRODUCTION" in fields
    assert "`b1gfolder0000000001`" in fields
    assert "`b-0001`" in fields
    assert "snapshot schedule daily at 03:00 UTC, plus grace" in fields
    assert action_ids(message) == [
        "alert_ack",
        "alert_snooze_4h",
        "alert_snooze_24h",
        "alert_list",
        "alert_backup",
    ]


def test_an_alert_says_the_cluster_and_why_then_its_buttons_then_the_rest() -> None:
    rep = report(FreshnessState.STALE)
    message = alert(firing(rep), rep)
    assert [b["type"] for b in message.blocks] == ["section", "actions", "context"]
    facts = " ".join(e["text"] for e in message.blocks[2]["elements"])
    assert "*Cluster id* `c9qcluster000000001`" in facts
    assert "Max age from" in facts
    assert "Max age from" not in message.blocks[0]["text"]["text"]


@pytest.mark.parametrize(
    ("fields", "blocking"), [({"health": "DEAD"}, "DEAD"), ({"status": "ERROR"}, "ERROR")]
)
def test_a_cluster_whose_backups_cannot_run_is_not_offered_start_backup_and_says_why(
    fields: dict[str, str], blocking: str
) -> None:
    rep = replace(report(FreshnessState.STALE), explanation=Explanation(Condition(blocking, ())))
    message = alert(firing(rep), rep, cluster=cluster(**fields))
    assert "alert_backup" not in action_ids(message)
    assert "alert_list" in action_ids(message)
    assert ": backups cannot run; the newest backup is" in message.blocks[0]["text"]["text"]
    assert "alert_backup" in action_ids(alert(firing(rep), rep))  # a RUNNING one is offered it


def test_every_button_carries_the_cluster_and_the_route() -> None:
    message = alert(firing())
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    for element in actions["elements"]:
        assert json.loads(element["value"]) == {"c": "c9qcluster000000001", "r": KEY}
    backup_button = actions["elements"][-1]
    assert backup_button["confirm"]["confirm"]["text"] == "Start backup"
    assert "orders-prod" in backup_button["confirm"]["text"]["text"]


def test_an_acknowledged_alert_says_who_and_stops_mentioning() -> None:
    entry = acknowledge(firing(), user="U0ALICE", now=NOW).entry
    message = alert(entry)
    headline = message.blocks[0]["text"]["text"]
    assert headline.startswith(":eyes: *ACKNOWLEDGED* by <@U0ALICE>")
    assert "subteam" not in message.text + all_text([message])
    assert "alert_ack" not in action_ids(message)
    assert action_ids(message)[0] == "alert_unack"
    assert "alert_snooze_4h" in action_ids(message)


def test_a_snoozed_alert_says_until_when_in_the_readers_time_zone() -> None:
    entry = snooze(firing(), until=NOW + timedelta(hours=4), user="U0BOB", now=NOW).entry
    headline = alert(entry).blocks[0]["text"]["text"]
    stamp = int((NOW + timedelta(hours=4)).timestamp())
    assert f"*SNOOZED* until <!date^{stamp}^" in headline
    assert "|2025-03-14 10:30 UTC>" in headline
    assert "by <@U0BOB>" in headline


def test_a_resolved_alert_has_no_buttons_and_no_mentions() -> None:
    rep = report(FreshnessState.FRESH, 1)
    entry = evaluate(firing(), rep, route=ROUTE, route_key=KEY, now=NOW).entry
    message = alert(entry, rep)
    assert entry.status == AlertStatus.RESOLVED
    assert message.blocks[0]["text"]["text"].startswith(":white_check_mark: *RESOLVED*")
    assert "a fresh backup landed" in message.blocks[0]["text"]["text"]
    assert action_ids(message) == []
    assert "subteam" not in message.text + all_text([message])


def test_an_alert_for_a_cluster_never_backed_up_says_so() -> None:
    rep = report(FreshnessState.NEVER, None)
    message = alert(firing(rep), rep)
    assert "has no backup at all" in message.blocks[0]["text"]["text"]
    assert "*Newest backup* none" in all_text([message])


def test_an_alert_escapes_hostile_names_and_labels() -> None:
    hostile = cluster(HOSTILE, labels={"<!here>": "<!channel>"})
    message = alert(firing(), cluster=hostile)
    assert_no_broadcast(message)
    text = all_text([message])
    assert "&lt;!channel&gt;" in text
    assert "&lt;!here&gt;" in text
    assert "<!channel>" not in text


def test_many_long_hostile_labels_are_cut_to_fit_the_field_and_counted() -> None:
    labels = {f"<k{i:02d}>" + "&" * 60: "<!channel>" * 6 for i in range(14)}
    message = alert(firing(), cluster=cluster(labels=labels))
    [field] = [
        e["text"] for b in message.blocks for e in b.get("elements", []) if "*Labels*" in e["text"]
    ]
    # Each label escaped is over 300 characters: ten of them whole would be over 3,000.
    assert len(field) <= MAX_FIELD_TEXT
    assert field.count("`") // 2 == 10
    assert field.endswith(" and 4 more")
    assert "&lt;k00&gt;" in field
    assert_no_broadcast(message)


# --- thread replies and the bot itself ---------------------------------------------------------


def test_a_reminder_says_how_long_it_has_been_stale() -> None:
    message = slack(
        render_reminder(
            firing(), cluster=cluster(), report=report(FreshnessState.STALE, 34), now=NOW
        )
    )
    assert_valid(message)
    assert "*orders-prod* still has no fresh backup: the newest is 1d 10h old" in message.text
    # Stale since 30 h - 26 h = 4 h before NOW.
    assert "stale for 4h" in message.text


def test_a_reminder_can_mention_on_call_and_escapes_names() -> None:
    message = slack(
        render_reminder(
            firing(),
            cluster=cluster(HOSTILE),
            report=report(FreshnessState.NEVER, None),
            now=NOW,
            mention_ids=["S0ONCALL"],
        )
    )
    assert_valid(message)
    assert_no_broadcast(message)
    assert "still has no backup at all" in message.text
    assert message.text.endswith("<!subteam^S0ONCALL>")


def test_the_resolved_notice_says_when_the_fresh_backup_landed_and_how_long_it_took() -> None:
    landed = NOW + timedelta(hours=20)
    rep = FreshnessReport(
        cluster_id="c9qcluster000000001",
        state=FreshnessState.FRESH,
        max_age=MAX_AGE,
        newest_backup_id="b-0002",
        newest_backup_at=landed,
        age=timedelta(minutes=20),
    )
    later = landed + timedelta(minutes=20)
    entry = evaluate(firing(), rep, route=ROUTE, route_key=KEY, now=later).entry
    message = slack(render_resolved(entry, cluster=cluster(), report=rep, now=later))
    assert_valid(message)
    assert message.text.startswith(":white_check_mark: Resolved: a fresh backup landed at <!date^")
    assert "(`b-0002`)" in message.text
    assert "*orders-prod* went without a fresh backup for 1d" in message.text


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (FreshnessState.STOPPED, "Resolved: cluster stopped"),
        (FreshnessState.UNSCHEDULED, "snapshot schedule of *orders-prod* was removed"),
    ],
)
def test_the_resolved_notice_says_why_when_it_is_not_a_fresh_backup(
    state: FreshnessState, words: str
) -> None:
    rep = report(state)
    entry = evaluate(firing(), rep, route=ROUTE, route_key=KEY, now=NOW).entry
    message = slack(render_resolved(entry, cluster=cluster(), report=rep, now=NOW))
    assert_valid(message)
    assert words in message.text
    assert "fresh backup landed" not in message.text


def test_the_self_alert_says_how_many_sweeps_failed_and_since_when() -> None:
    message = slack(render_self_alert(3, NOW - timedelta(minutes=45), "timeout <!channel>", NOW))
    assert_valid(message)
    assert_no_broadcast(message)
    assert "could not read the cloud for 3 sweeps" in message.text
    body = all_text([message])
    assert "(45m ago)" in body
    assert "timeout &lt;!channel&gt;" in body


def test_the_self_alert_before_any_success_says_so() -> None:
    message = slack(render_self_alert(1, None, "refused", NOW))
    assert_valid(message)
    assert "1 sweep in a row" in message.text
    assert "No sweep has succeeded" in all_text([message])


def test_a_retired_incident_says_the_cluster_is_no_longer_watched_and_escapes_its_id() -> None:
    entry = AlertEntry(
        cluster_id="<!channel>&x",
        route_key="alert:C1:x",
        status=AlertStatus.RESOLVED,
        opened_at=NOW - timedelta(hours=5),
        stale_since=NOW - timedelta(hours=6),
        resolved_at=NOW,
    )
    message = slack(render_retired(entry, now=NOW))
    assert_valid(message)
    assert_no_broadcast(message)
    assert "no longer watched" in message.text
    assert "had gone without a fresh backup for 6h." in message.text
    assert "&lt;!channel&gt;&amp;x" in message.text
