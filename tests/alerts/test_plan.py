"""The sweep's plan, pure: from alert decisions to the store changes and posts they call for.

No cloud, no Slack, no store: the decisions come from the real state machine
(:func:`bot.alerts.policy.evaluate`), and each sweep's changes are applied to the view the way the
store would, so a second sweep sees what the first one saved. What is checked is what on-call
would see: how many top-level posts and pings, in which thread each reply goes, and what each
incident remembers of its message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.alerts import policy as alerts
from bot.alerts.model import (
    AlertEntry,
    AlertGroup,
    AlertStatus,
    BotIncident,
    BotIncidentStatus,
    Seen,
)
from bot.alerts.plan import RouteView, Step, cluster_of, plan_route, plan_self
from bot.alerts.policy import Action, ActionKind, Decision, Reason
from bot.alerts.self_policy import Announce, SelfDecision
from bot.chat.card import Card
from bot.cloud.models import Cluster
from bot.config import AlertRoute
from bot.freshness.attempts import AttemptHistory, AttemptOutcome, BackupAttempt
from bot.freshness.explain import Condition, Explanation
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.outbox.change import Change
from bot.outbox.posts import Method, OutboundPost, PostKind
from bot.slack.blocks import SLACK

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ROUTE_KEY = "route-1"
CONSOLE = "https://console.example"
MAX_AGE = MaxAge(timedelta(hours=26), MaxAgeSource.DEFAULT, "default")
ONCALL = "S0ONCALL"


def route(**kw: object) -> AlertRoute:
    args: dict[str, object] = {"channel": "C1", "mention": [ONCALL], "group_after": 2}
    args.update(kw)
    return AlertRoute.model_validate(args)


def cluster(n: int, team: str = "search", **kw: object) -> Cluster:
    args: dict[str, object] = {
        "id": f"c9q{n:06d}",
        "name": f"db-{n}",
        "folder_id": "b1gfolder",
        "labels": {"team": team},
    }
    args.update(kw)
    return Cluster.model_validate(args)


#: The newest backup of every stale cluster: 30 h before the first sweep, 4 h past its max age.
STALE_BACKUP_AT = NOW - timedelta(hours=30)


def report(
    c: Cluster, state: FreshnessState, now: datetime = NOW, newest: datetime | None = None
) -> FreshnessReport:
    if newest is None:
        newest = STALE_BACKUP_AT if state.fires else now - timedelta(hours=1)
    return FreshnessReport(
        cluster_id=c.id,
        state=state,
        max_age=MAX_AGE,
        newest_backup_id="b-" + c.id,
        newest_backup_at=newest,
        age=now - newest,
    )


STALE = FreshnessState.STALE
FRESH = FreshnessState.FRESH


class Fleet:
    """The store as the plan sees it: one route's incidents and groups, kept across sweeps."""

    def __init__(self, alert_route: AlertRoute) -> None:
        self.route = alert_route
        self.entries: dict[str, AlertEntry] = {}
        self.groups: dict[str, AlertGroup] = {}

    def sweep(
        self,
        readings: Iterable[tuple[Cluster, FreshnessState]],
        now: datetime = NOW,
        newest: datetime | None = None,
    ) -> list[Change]:
        seen = {}
        steps = []
        for c, state in readings:
            r = report(c, state, now, newest)
            seen[c.id] = (c, r)
            before = self.entries.get(c.id)
            decision = alerts.evaluate(before, r, route=self.route, route_key=ROUTE_KEY, now=now)
            # As the sweep does: a cluster with no incident and nothing to post is not planned.
            if decision.actions or before is not None:
                steps.append(Step(c, r, before, decision))
        view = RouteView(self.route, ROUTE_KEY, dict(self.entries), seen, dict(self.groups))
        changes = plan_route(view, steps, chat=SLACK, console_url=CONSOLE, now=now)
        for post in posts(changes):
            # Every post goes to the route's channel and says what it is about, for the logs.
            assert post.channel == self.route.channel
            assert isinstance(post.subject, str)
            assert post.subject
        for change in changes:
            for entry in change.alerts:
                self.entries[entry.cluster_id] = replace(entry, version=entry.version + 1)
            for group in change.groups:
                self.groups[group.id] = group
        return changes


def posts(changes: Iterable[Change]) -> list[OutboundPost]:
    return [post for change in changes for post in change.posts]


def of_kind(changes: Iterable[Change], kind: PostKind) -> list[OutboundPost]:
    return [post for post in posts(changes) if post.kind is kind]


def text(post: OutboundPost) -> str:
    return str(post.payload.get("text", "")) + repr(post.payload.get("blocks", ""))


def pings(changes: Iterable[Change]) -> int:
    """New posts that mention on-call (a post's text and blocks both carry the mention; an edit
    of a message, chat.update, notifies nobody)."""
    return sum(
        f"<!subteam^{ONCALL}>" in text(post)
        for post in posts(changes)
        if post.method is Method.POST
    )


# --- single incidents ---------------------------------------------------------------------------


def test_up_to_group_after_new_stale_clusters_each_get_an_alert_of_their_own() -> None:
    fleet = Fleet(route(group_after=2))
    changes = fleet.sweep([(cluster(1), STALE), (cluster(2), STALE), (cluster(3), FRESH)])
    assert len(changes) == 2
    for change, n in zip(changes, (1, 2), strict=True):
        (entry,) = change.alerts
        (post,) = change.posts
        assert post.kind is PostKind.ALERT
        assert post.method is Method.POST
        assert post.channel == "C1"
        assert not post.threaded
        assert post.subject == f"c9q{n:06d} [new_incident]"
        assert entry.cluster_id == f"c9q{n:06d}"
        assert entry.message_id == post.id
        assert entry.message_ts is None
        assert entry.group_id is None
        assert entry.status is AlertStatus.FIRING
        assert entry.cluster_name == f"db-{n}"
        assert entry.folder_id == "b1gfolder"
        assert f"db-{n}" in text(post)
    # One ping per route per sweep: the first alert mentions on-call, the second says why not.
    assert pings(changes) == 1
    first, second = (text(c.posts[0]) for c in changes)
    assert f"<!subteam^{ONCALL}>" in first
    assert "same sweep as the post above that mentioned on-call" not in first
    assert "*FIRING* · same sweep as the post above that mentioned on-call" in second


def test_a_second_sweep_that_sees_the_same_thing_plans_nothing() -> None:
    fleet = Fleet(route())
    fleet.sweep([(cluster(1), STALE), (cluster(2), FRESH)])
    assert (
        fleet.sweep([(cluster(1), STALE), (cluster(2), FRESH)], NOW + timedelta(minutes=15)) == []
    )


def test_a_reminder_after_the_repeat_interval_updates_the_alert_and_replies_in_its_thread() -> None:
    fleet = Fleet(route(repeat="4h"))
    (first,) = fleet.sweep([(cluster(1), STALE)])
    alert_id = first.posts[0].id
    assert fleet.sweep([(cluster(1), STALE)], NOW + timedelta(hours=3, minutes=59)) == []
    (change,) = fleet.sweep([(cluster(1), STALE)], NOW + timedelta(hours=4))
    update, reminder = change.posts
    assert update.kind is PostKind.ALERT_UPDATE
    assert update.method is Method.UPDATE
    assert update.parent_id == alert_id
    assert not update.threaded
    assert reminder.kind is PostKind.REMINDER
    assert reminder.threaded
    assert reminder.parent_id == alert_id
    assert reminder.parent_ts is None
    assert reminder.subject == "c9q000001 [repeat_interval]"
    assert f"<!subteam^{ONCALL}>" in text(reminder)  # a reminder pings on-call again
    assert change.alerts[0].last_notified_at == NOW + timedelta(hours=4)


def test_a_recovery_updates_the_alert_and_posts_the_resolved_notice_in_its_thread() -> None:
    fleet = Fleet(route())
    (first,) = fleet.sweep([(cluster(1), STALE)])
    (change,) = fleet.sweep([(cluster(1), FRESH)], NOW + timedelta(hours=1))
    update, resolved = change.posts
    assert update.kind is PostKind.ALERT_UPDATE
    assert update.parent_id == first.posts[0].id
    assert resolved.kind is PostKind.RESOLVED
    assert resolved.parent_id == first.posts[0].id
    assert resolved.subject == "c9q000001 [recovered]"
    assert change.alerts[0].status is AlertStatus.RESOLVED


def test_without_send_resolved_a_recovery_only_updates_the_alert() -> None:
    fleet = Fleet(route(send_resolved=False))
    fleet.sweep([(cluster(1), STALE)])
    (change,) = fleet.sweep([(cluster(1), FRESH)], NOW + timedelta(hours=1))
    assert [p.kind for p in change.posts] == [PostKind.ALERT_UPDATE]
    assert change.alerts[0].status is AlertStatus.RESOLVED


def test_a_newer_but_still_stale_backup_updates_the_alert_without_a_reply() -> None:
    fleet = Fleet(route())
    c = cluster(1)
    fleet.sweep([(c, STALE)])
    newer = STALE_BACKUP_AT + timedelta(hours=1)
    (change,) = fleet.sweep([(c, STALE)], NOW + timedelta(hours=1), newest=newer)
    assert [p.kind for p in change.posts] == [PostKind.ALERT_UPDATE]
    assert change.posts[0].subject == "c9q000001 [state_changed]"
    assert change.alerts[0].newest_backup_at == newer


def test_a_saved_move_without_a_post_is_still_saved() -> None:
    # Acknowledged, then the newest backup moves: nothing to post, but the entry changed... and
    # an entry that did not change is not written at all.
    c = cluster(1)
    r = report(c, STALE)
    entry = alerts.evaluate(None, r, route=route(), route_key=ROUTE_KEY, now=NOW).entry
    entry = replace(
        entry,
        message_id=None,
        message_ts=None,
        group_id="g-gone",
        cluster_name=c.name,
        folder_id=c.folder_id,
        seen=Seen.of(r),  # as an incident saved by a sweep remembers its reading
    )
    decision = Decision(replace(entry, acknowledged_by="U1"), ())
    view = RouteView(route(), ROUTE_KEY, {c.id: entry}, {c.id: (c, r)})
    (change,) = plan_route(
        view, [Step(c, r, entry, decision)], chat=SLACK, console_url=CONSOLE, now=NOW
    )
    assert change.posts == []
    assert change.alerts[0].acknowledged_by == "U1"
    same = Decision(entry, ())
    assert (
        plan_route(view, [Step(c, r, entry, same)], chat=SLACK, console_url=CONSOLE, now=NOW) == []
    )


def test_an_open_incident_whose_alert_never_reached_slack_is_posted_now() -> None:
    c = cluster(1)
    r = report(c, STALE)
    opened = alerts.evaluate(None, r, route=route(), route_key=ROUTE_KEY, now=NOW).entry
    assert opened.message_id is None
    assert opened.message_ts is None
    later = NOW + timedelta(minutes=15)
    decision = alerts.evaluate(opened, r, route=route(), route_key=ROUTE_KEY, now=later)
    view = RouteView(route(), ROUTE_KEY, {c.id: opened}, {c.id: (c, r)})
    (change,) = plan_route(
        view, [Step(c, r, opened, decision)], chat=SLACK, console_url=CONSOLE, now=later
    )
    (post,) = change.posts
    assert post.kind is PostKind.ALERT
    assert not post.threaded
    assert change.alerts[0].message_id == post.id


def test_an_incident_from_before_the_outbox_is_named_by_its_ts() -> None:
    c = cluster(1)
    r = report(c, STALE)
    opened = alerts.evaluate(None, r, route=route(), route_key=ROUTE_KEY, now=NOW).entry
    legacy = replace(opened, message_ts="1700000000.000100")
    decision = alerts.evaluate(
        legacy, report(c, FRESH), route=route(), route_key=ROUTE_KEY, now=NOW
    )
    view = RouteView(route(), ROUTE_KEY, {c.id: legacy}, {})
    (change,) = plan_route(
        view,
        [Step(c, report(c, FRESH), legacy, decision)],
        chat=SLACK,
        console_url=CONSOLE,
        now=NOW,
    )
    for post in change.posts:
        assert post.parent_id is None
        assert post.parent_ts == "1700000000.000100"
    # Both names known: the outbox id wins and the ts is not carried.
    both = replace(legacy, message_id="pabc")
    decision = alerts.evaluate(both, report(c, FRESH), route=route(), route_key=ROUTE_KEY, now=NOW)
    (change,) = plan_route(
        view, [Step(c, report(c, FRESH), both, decision)], chat=SLACK, console_url=CONSOLE, now=NOW
    )
    assert {(p.parent_id, p.parent_ts) for p in change.posts} == {("pabc", None)}


def test_a_retired_incident_is_closed_on_its_message_or_quietly_without_one() -> None:
    c = cluster(1)
    fleet = Fleet(route())
    fleet.sweep([(c, STALE)])
    entry = fleet.entries[c.id]
    view = RouteView(route(), ROUTE_KEY, dict(fleet.entries), {})
    decision = alerts.retire(entry, route=route(), now=NOW)
    (change,) = plan_route(
        view, [Step(c, None, entry, decision)], chat=SLACK, console_url=CONSOLE, now=NOW
    )
    update, resolved = change.posts
    assert update.kind is PostKind.ALERT_UPDATE
    assert update.parent_id == entry.message_id
    assert resolved.kind is PostKind.RESOLVED
    assert resolved.subject.endswith("[no_longer_watched]")
    assert change.alerts[0].status is AlertStatus.RESOLVED
    quiet = alerts.retire(entry, route=route(send_resolved=False), now=NOW)
    (change,) = plan_route(
        view, [Step(c, None, entry, quiet)], chat=SLACK, console_url=CONSOLE, now=NOW
    )
    assert [p.kind for p in change.posts] == [PostKind.ALERT_UPDATE]
    bare = replace(entry, message_id=None)
    decision = alerts.retire(bare, route=route(), now=NOW)
    (change,) = plan_route(
        view, [Step(c, None, bare, decision)], chat=SLACK, console_url=CONSOLE, now=NOW
    )
    assert change.posts == []
    assert change.alerts[0].status is AlertStatus.RESOLVED


def test_the_incident_remembers_the_name_and_folder_it_was_last_read_with() -> None:
    fleet = Fleet(route())
    fleet.sweep([(cluster(1), STALE)])
    renamed = cluster(1, name="orders-prod", folder_id="b1gother")
    newer = STALE_BACKUP_AT + timedelta(hours=1)
    fleet.sweep([(renamed, STALE)], NOW + timedelta(hours=1), newest=newer)
    entry = fleet.entries["c9q000001"]
    assert (entry.cluster_name, entry.folder_id) == ("orders-prod", "b1gother")
    # A reading without a name keeps the remembered one.
    fleet.sweep(
        [(cluster(1, name="", folder_id=""), STALE)],
        NOW + timedelta(hours=2),
        newest=newer + timedelta(hours=1),
    )
    entry = fleet.entries["c9q000001"]
    assert (entry.cluster_name, entry.folder_id) == ("orders-prod", "b1gother")
    shown = cluster_of(entry)
    assert (shown.id, shown.name, shown.folder_id) == ("c9q000001", "orders-prod", "b1gother")


# --- grouped alerts -----------------------------------------------------------------------------


def storm(fleet: Fleet, ids: Iterable[int], team: str = "search", now: datetime = NOW):
    return fleet.sweep([(cluster(n, team), STALE) for n in ids], now)


def test_a_storm_is_one_post_one_ping_and_the_rest_of_its_rows_in_the_thread() -> None:
    fleet = Fleet(route(group_after=2))
    changes = storm(fleet, range(1, 41))
    (change,) = changes
    top, *thread = change.posts
    assert top.kind is PostKind.GROUP_ALERT
    assert not top.threaded
    assert top.subject == "group all clusters [new_incident]"
    assert thread
    assert {p.kind for p in thread} == {PostKind.GROUP_REPLY}
    assert {p.parent_id for p in thread} == {top.id}
    assert pings(changes) == 1
    assert f"<!subteam^{ONCALL}>" in text(top)
    (group,) = change.groups
    assert group.id.startswith("g")
    assert len(group.id) == 33
    assert group.message_id == top.id
    assert (group.opened_at, group.last_reminded_at, group.resolved_at) == (NOW, NOW, None)
    assert (group.route_key, group.channel, group.label) == (ROUTE_KEY, "C1", "all clusters")
    assert len(change.alerts) == 40
    for entry in change.alerts:
        assert entry.group_id == group.id
        assert entry.message_id is None
        assert entry.status is AlertStatus.FIRING
    everything = "".join(text(p) for p in change.posts)
    assert all(f"c9q{n:06d}" in everything for n in range(1, 41))


def test_group_after_is_the_most_that_still_get_alerts_of_their_own() -> None:
    assert len(of_kind(storm(Fleet(route(group_after=3)), range(1, 4)), PostKind.ALERT)) == 3
    four = storm(Fleet(route(group_after=3)), range(1, 5))
    assert [p.kind for p in posts(four)] == [PostKind.GROUP_ALERT]


def test_each_group_of_the_route_gets_its_own_post_and_a_small_group_stays_single() -> None:
    fleet = Fleet(route(group_by=["label:team"], group_after=2))
    readings = [(cluster(n, "search"), STALE) for n in range(1, 4)]
    readings += [(cluster(n, "logs"), STALE) for n in range(10, 14)]
    readings += [(cluster(20, "billing"), STALE), (cluster(21, "billing"), STALE)]
    changes = fleet.sweep(readings)
    groups = of_kind(changes, PostKind.GROUP_ALERT)
    assert sorted(p.subject for p in groups) == [
        "group team=logs [new_incident]",
        "group team=search [new_incident]",
    ]
    assert {p.subject for p in of_kind(changes, PostKind.ALERT)} == {
        "c9q000020 [new_incident]",
        "c9q000021 [new_incident]",
    }
    assert pings(changes) == 1  # two grouped alerts and two single ones, one mention
    assert sorted(g.label for g in fleet.groups.values()) == ["team=logs", "team=search"]


def test_reminders_and_new_alerts_of_one_sweep_ping_once_and_the_next_sweep_pings_again() -> None:
    fleet = Fleet(route(repeat="4h", group_after=5))
    fleet.sweep([(cluster(1), STALE), (cluster(2), STALE)])
    later = NOW + timedelta(hours=4)
    # Two reminders due and a new alert, in one sweep.
    changes = fleet.sweep([(cluster(n), STALE) for n in (1, 2, 3)], later)
    assert len(of_kind(changes, PostKind.REMINDER)) == 2
    assert len(of_kind(changes, PostKind.ALERT)) == 1
    assert pings(changes) == 1
    (alert,) = of_kind(changes, PostKind.ALERT)
    assert f"<!subteam^{ONCALL}>" not in text(alert)
    # The next due reminders are a sweep of their own: on-call is mentioned again, once.
    again = fleet.sweep([(cluster(n), STALE) for n in (1, 2, 3)], later + timedelta(hours=4))
    assert len(of_kind(again, PostKind.REMINDER)) == 3
    assert pings(again) == 1


def test_a_second_sweep_of_a_storm_adds_no_post() -> None:
    fleet = Fleet(route())
    storm(fleet, range(1, 11))
    assert storm(fleet, range(1, 11), now=NOW + timedelta(minutes=15)) == []


def test_one_recovery_updates_the_group_post_and_says_so_in_its_thread() -> None:
    fleet = Fleet(route())
    (first,) = storm(fleet, range(1, 11))
    group = first.groups[0]
    readings = [(cluster(1), FRESH)] + [(cluster(n), STALE) for n in range(2, 11)]
    (change,) = fleet.sweep(readings, NOW + timedelta(minutes=15))
    update, recovered = change.posts
    assert update.kind is PostKind.GROUP_UPDATE
    assert update.method is Method.UPDATE
    assert update.parent_id == group.message_id
    assert "9 of 10 clusters" in text(update)
    assert recovered.kind is PostKind.RESOLVED
    assert recovered.parent_id == group.message_id
    assert recovered.subject == "group all clusters [recovered]"
    assert "1 cluster recovered; 9 still" in text(recovered)
    assert [e.cluster_id for e in change.alerts] == ["c9q000001"]
    assert change.groups[0].resolved_at is None
    assert pings([change]) == 0


def test_the_last_recovery_resolves_the_group_once() -> None:
    fleet = Fleet(route())
    storm(fleet, range(1, 4))
    later = NOW + timedelta(hours=2)
    (change,) = fleet.sweep([(cluster(n), FRESH) for n in range(1, 4)], later)
    kinds = [p.kind for p in change.posts]
    assert kinds == [PostKind.GROUP_UPDATE, PostKind.RESOLVED, PostKind.RESOLVED]
    assert "every one of the 3 clusters" in text(change.posts[-1])
    assert change.posts[-1].subject == "group all clusters [recovered]"
    assert "It lasted 2h" in text(change.posts[-1])
    assert change.groups[0].resolved_at == later
    # Resolved: nothing more, and the next storm of the same group is a new group.
    assert fleet.sweep([(cluster(n), FRESH) for n in range(1, 4)], later) == []
    (again,) = storm(fleet, range(1, 4), now=later + timedelta(hours=1))
    assert again.groups[0].id != change.groups[0].id
    assert [p.kind for p in again.posts] == [PostKind.GROUP_ALERT]


def test_without_send_resolved_the_group_post_is_only_updated() -> None:
    fleet = Fleet(route(send_resolved=False))
    storm(fleet, range(1, 4))
    (change,) = fleet.sweep([(cluster(n), FRESH) for n in range(1, 4)], NOW + timedelta(hours=1))
    assert [p.kind for p in change.posts] == [PostKind.GROUP_UPDATE]
    assert change.groups[0].resolved_at == NOW + timedelta(hours=1)


def test_a_cluster_going_stale_during_a_storm_joins_it_without_a_ping() -> None:
    fleet = Fleet(route(group_after=2))
    (first,) = storm(fleet, range(1, 4))
    group = first.groups[0]
    later = NOW + timedelta(minutes=15)
    (change,) = storm(fleet, range(1, 5), now=later)
    update, joined = change.posts
    assert update.kind is PostKind.GROUP_UPDATE
    assert "4 of 4 clusters" in text(update)
    assert joined.kind is PostKind.GROUP_REPLY
    assert joined.parent_id == group.message_id
    assert joined.subject == "group all clusters [joined]"
    assert "1 more cluster joined" in text(joined)
    assert "c9q000004" in text(joined)
    (entry,) = change.alerts
    assert entry.cluster_id == "c9q000004"
    assert entry.group_id == group.id
    assert entry.message_id is None
    assert pings([change]) == 0


def test_a_recovered_member_going_stale_again_rejoins_and_is_counted_once() -> None:
    fleet = Fleet(route())
    storm(fleet, range(1, 4))
    fleet.sweep(
        [(cluster(1), FRESH), (cluster(2), STALE), (cluster(3), STALE)], NOW + timedelta(hours=1)
    )
    (change,) = storm(fleet, range(1, 4), now=NOW + timedelta(hours=2))
    update = of_kind([change], PostKind.GROUP_UPDATE)[0]
    assert "3 of 3 clusters" in text(update)


def test_the_storm_is_reminded_once_per_repeat_not_once_per_member() -> None:
    fleet = Fleet(route(repeat="4h"))
    (first,) = storm(fleet, range(1, 11))
    assert storm(fleet, range(1, 11), now=NOW + timedelta(hours=3)) == []
    later = NOW + timedelta(hours=4)
    (change,) = storm(fleet, range(1, 11), now=later)
    (reminder,) = of_kind([change], PostKind.REMINDER)
    assert reminder.parent_id == first.groups[0].message_id
    assert reminder.subject == "group all clusters [repeat_interval]"
    assert "10 clusters of this storm still have no fresh backup" in text(reminder)
    assert pings([change]) == 1
    assert change.groups[0].last_reminded_at == later


def test_a_member_due_a_reminder_waits_for_the_groups_own_repeat() -> None:
    fleet = Fleet(route(repeat="4h"))
    (first,) = storm(fleet, range(1, 4))
    group_id = first.groups[0].id
    # The group was reminded an hour ago (say, another member's snooze ran out then).
    fleet.groups[group_id] = replace(
        fleet.groups[group_id], last_reminded_at=NOW + timedelta(hours=3)
    )
    (change,) = storm(fleet, range(1, 4), now=NOW + timedelta(hours=4))
    assert of_kind([change], PostKind.REMINDER) == []
    assert change.groups[0].last_reminded_at == NOW + timedelta(hours=3)
    # A group never reminded is due at once.
    fleet.groups[group_id] = replace(fleet.groups[group_id], last_reminded_at=None)
    (change,) = storm(fleet, range(1, 4), now=NOW + timedelta(hours=8, minutes=1))
    assert len(of_kind([change], PostKind.REMINDER)) == 1


def test_a_snooze_running_out_reminds_the_storm_even_inside_its_repeat() -> None:
    fleet = Fleet(route(repeat="4h"))
    storm(fleet, range(1, 4))
    snoozed = fleet.entries["c9q000001"]
    fleet.entries[snoozed.cluster_id] = replace(
        snoozed, status=AlertStatus.SNOOZED, snoozed_until=NOW + timedelta(minutes=30)
    )
    (change,) = storm(fleet, range(1, 4), now=NOW + timedelta(hours=1))
    (reminder,) = of_kind([change], PostKind.REMINDER)
    assert reminder.subject.endswith("[repeat_interval]")
    assert change.groups[0].last_reminded_at == NOW + timedelta(hours=1)


def test_an_acknowledged_storm_has_no_ping_when_it_is_updated() -> None:
    fleet = Fleet(route())
    storm(fleet, range(1, 4))
    for cid, entry in list(fleet.entries.items()):
        fleet.entries[cid] = alerts.acknowledge(entry, user="U1", now=NOW).entry
    readings = [(cluster(1), FRESH), (cluster(2), STALE), (cluster(3), STALE)]
    (change,) = fleet.sweep(readings, NOW + timedelta(hours=5))
    assert of_kind([change], PostKind.REMINDER) == []
    assert pings([change]) == 0
    assert "*ACKNOWLEDGED* by <@U1>" in text(of_kind([change], PostKind.GROUP_UPDATE)[0])


def test_a_members_incident_of_a_group_no_longer_open_is_planned_on_its_own() -> None:
    c = cluster(1)
    r = report(c, STALE)
    entry = alerts.evaluate(None, r, route=route(), route_key=ROUTE_KEY, now=NOW).entry
    entry = replace(entry, group_id="g-closed", message_id=None)
    later = NOW + timedelta(hours=4)
    decision = alerts.evaluate(entry, r, route=route(), route_key=ROUTE_KEY, now=later)
    closed = AlertGroup(
        id="g-closed",
        route_key=ROUTE_KEY,
        group_key="*",
        label="all clusters",
        channel="C1",
        message_id="pgroup",
        opened_at=NOW,
        resolved_at=NOW + timedelta(hours=1),
    )
    view = RouteView(route(), ROUTE_KEY, {c.id: entry}, {c.id: (c, r)}, {"g-closed": closed})
    (change,) = plan_route(
        view, [Step(c, r, entry, decision)], chat=SLACK, console_url=CONSOLE, now=later
    )
    assert change.groups == []
    assert all(p.kind in (PostKind.ALERT_UPDATE, PostKind.REMINDER) for p in change.posts) or (
        change.posts == []
    )


# --- the bot about itself -----------------------------------------------------------------------

OPENED = Card("I cannot read the cloud")
CLOSED = Card("I can read the cloud again")


def test_a_self_incident_opening_posts_one_notice_per_channel_and_remembers_each() -> None:
    incident = BotIncident(key="blind", status=BotIncidentStatus.OPEN, since=NOW)
    decision = SelfDecision(incident, Announce.OPENED, changed=True)
    change = plan_self(
        decision, chat=SLACK, channels=["C1", "C2", "C1"], opened=OPENED, closed=CLOSED
    )
    assert [(p.kind, p.channel, p.threaded) for p in change.posts] == [
        (PostKind.SELF_ALERT, "C1", False),
        (PostKind.SELF_ALERT, "C2", False),
    ]
    assert {p.subject for p in change.posts} == {"blind"}
    assert change.posts[0].payload["text"] == "I cannot read the cloud"
    (saved,) = change.incidents
    assert saved.messages == (("C1", change.posts[0].id), ("C2", change.posts[1].id))


def test_a_self_incident_closing_replies_in_each_notices_thread_and_forgets_them() -> None:
    incident = BotIncident(
        key="channel:C9",
        status=BotIncidentStatus.CLOSED,
        messages=(("C1", "pone"), ("C2", "ptwo")),
    )
    decision = SelfDecision(incident, Announce.CLOSED, changed=True)
    change = plan_self(decision, chat=SLACK, channels=["C3"], opened=OPENED, closed=CLOSED)
    assert [(p.kind, p.channel, p.parent_id) for p in change.posts] == [
        (PostKind.SELF_REPLY, "C1", "pone"),
        (PostKind.SELF_REPLY, "C2", "ptwo"),
    ]
    assert {p.subject for p in change.posts} == {"channel:C9"}
    assert change.posts[0].payload["text"] == "I can read the cloud again"
    assert change.incidents[0].messages == ()


def test_a_self_incident_that_changed_without_news_is_saved_quietly_and_none_is_not_saved() -> None:
    incident = BotIncident(key="blind", status=BotIncidentStatus.OPEN, detail="new reason")
    change = plan_self(
        SelfDecision(incident, Announce.NOTHING, changed=True),
        chat=SLACK,
        channels=["C1"],
        opened=OPENED,
        closed=CLOSED,
    )
    assert change.incidents == [incident]
    assert change.posts == []
    unchanged = plan_self(
        SelfDecision(incident, Announce.OPENED, changed=False),
        chat=SLACK,
        channels=["C1"],
        opened=OPENED,
        closed=CLOSED,
    )
    assert not unchanged


def test_a_steps_reason_names_each_reason_once_in_a_stable_order() -> None:
    c = cluster(1)
    entry = AlertEntry(cluster_id=c.id, route_key=ROUTE_KEY)
    actions = (
        Action(ActionKind.UPDATE_ALERT, Reason.SNOOZE_EXPIRED),
        Action(ActionKind.POST_REMINDER, Reason.SNOOZE_EXPIRED),
        Action(ActionKind.UPDATE_ALERT, Reason.REPEAT_INTERVAL),
    )
    step = Step(c, None, None, Decision(entry, actions))
    assert step.reason == "repeat_interval,snooze_expired"
    assert step.cluster_id == c.id


def test_a_cluster_can_join_a_storm_in_a_sweep_that_read_none_of_its_members() -> None:
    # The members were not read this time (say, another folder's listing failed): the join
    # still updates the group's post, counting the members as stored.
    fleet = Fleet(route())
    (first,) = storm(fleet, range(1, 4))
    (change,) = storm(fleet, [4], now=NOW + timedelta(minutes=15))
    update, joined = change.posts
    assert update.kind is PostKind.GROUP_UPDATE
    assert "4 of 4 clusters" in text(update)
    assert joined.kind is PostKind.GROUP_REPLY
    assert [e.cluster_id for e in change.alerts] == ["c9q000004"]
    assert change.groups[0].id == first.groups[0].id


def test_a_group_members_quiet_change_is_saved_without_a_post() -> None:
    fleet = Fleet(route())
    storm(fleet, range(1, 4))
    c = cluster(1)
    r = report(c, STALE)
    before = fleet.entries[c.id]
    decision = Decision(replace(before, acknowledged_by="U1"), ())
    view = RouteView(route(), ROUTE_KEY, dict(fleet.entries), {c.id: (c, r)}, dict(fleet.groups))
    (change,) = plan_route(
        view, [Step(c, r, before, decision)], chat=SLACK, console_url=CONSOLE, now=NOW
    )
    assert change.posts == []
    assert [e.acknowledged_by for e in change.alerts] == ["U1"]
    assert change.groups[0].resolved_at is None


def test_a_step_with_no_incident_and_nothing_to_do_posts_nothing() -> None:
    c = cluster(1)
    r = report(c, FRESH)
    decision = alerts.evaluate(None, r, route=route(), route_key=ROUTE_KEY, now=NOW)
    view = RouteView(route(), ROUTE_KEY, {}, {c.id: (c, r)})
    changes = plan_route(
        view, [Step(c, r, None, decision)], chat=SLACK, console_url=CONSOLE, now=NOW
    )
    assert posts(changes) == []


def test_a_grouped_alert_reads_the_same_after_a_click_as_after_a_sweep() -> None:
    # A storm whose members' last attempts failed (the shared cause on-call needs to see).
    members = [cluster(n) for n in range(1, 5)]
    failed = Explanation(
        Condition("", ("health DEGRADED",)),
        AttemptHistory(
            BackupAttempt(
                "op", NOW - timedelta(hours=2), None, AttemptOutcome.FAILED, "503 SlowDown", 14
            ),
            failed_in_a_row=2,
        ),
    )

    def reading(c: Cluster, now: datetime) -> FreshnessReport:
        return replace(report(c, STALE, now), explanation=failed)

    fleet = Fleet(route())
    steps = [
        Step(
            c,
            reading(c, NOW),
            None,
            alerts.evaluate(None, reading(c, NOW), route=fleet.route, route_key=ROUTE_KEY, now=NOW),
        )
        for c in members
    ]
    view = RouteView(fleet.route, ROUTE_KEY, {}, {c.id: (c, reading(c, NOW)) for c in members})
    for change in plan_route(view, steps, chat=SLACK, console_url=CONSOLE, now=NOW):
        for entry in change.alerts:
            fleet.entries[entry.cluster_id] = entry
        for group in change.groups:
            fleet.groups[group.id] = group

    later = NOW + timedelta(minutes=5)
    acks = {
        e.cluster_id: alerts.acknowledge(e, user="U0ALICE", now=later)
        for e in fleet.entries.values()
    }

    def group_update(read: bool) -> dict[str, object]:
        """Acknowledge all, planned with the members read again (a sweep) or not (a click)."""
        planned = [
            Step(c, reading(c, later) if read else None, fleet.entries[c.id], acks[c.id])
            for c in members
        ]
        seen = {c.id: (c, reading(c, later)) for c in members} if read else {}
        view = RouteView(fleet.route, ROUTE_KEY, dict(fleet.entries), seen, dict(fleet.groups))
        (change,) = plan_route(view, planned, chat=SLACK, console_url=CONSOLE, now=later)
        (post,) = change.posts
        assert post.kind == PostKind.GROUP_UPDATE
        return post.payload

    clicked = group_update(read=False)
    assert clicked == group_update(read=True)
    # The reason is in every row, and who acknowledged them.
    assert str(clicked).count("last attempt failed") == len(members)
    # Each row names who acknowledged it, and so does the status line, once.
    assert str(clicked).count("<@U0ALICE>") == len(members) + 1
    head = clicked["blocks"][0]["text"]["text"]
    assert head.startswith(":eyes: *ACKNOWLEDGED* by <@U0ALICE>")
    assert ":x: 4 of 4: 503 SlowDown" in head
