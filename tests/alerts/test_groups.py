"""Grouped alerts end to end: a storm of stale clusters in one folder becomes one post, updated
in place as its clusters recover or join, with the rest in its thread, and buttons that act on
the whole storm. The simulated cloud, the fake Slack, the store on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.alerts import policy as alerts
from bot.alerts.model import AlertGroup, AlertStatus
from bot.alerts.sweep import Sweeper, alert_route_key
from bot.app.wiring import Features
from bot.chat.actions import Invocation
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.fleet import SimCluster, SimSchedule
from bot.demo.simcloud.server import SimCloud
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.posts import PostKind
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.world import (
    CONSOLE_URL,
    FOLDER,
    IDS,
    NOW,
    ONCALL_CHANNEL,
    ONCALL_GROUP,
    deliver,
    kinds,
    make_config,
    make_features,
    mentions,
    replies,
    sweep_and_deliver,
    top_level,
)

#: Stale clusters added to the fleet; with orders-prod and new-cluster, 22 in the folder.
STORM = 20
#: The folder's name (Folder.get): the title names it, its id is in the context line.
LABEL = "folder watched"
GROUP = f"group {LABEL}"


def storm_ids(count: int = STORM) -> list[str]:
    return [f"c9qstorm{n:012d}" for n in range(1, count + 1)]


def add_cluster(sim: SimCloud, cluster_id: str, name: str, newest: datetime) -> None:
    """A PRODUCTION cluster of the watched folder, backed up daily, last at ``newest``."""
    sim.fleet.add_cluster(
        SimCluster(
            id=cluster_id,
            folder_id=FOLDER,
            name=name,
            created_at=NOW - timedelta(days=100),
            schedule=SimSchedule("daily", hour=3, minute=0),
        )
    )
    sim.add_backup(cluster_id, created_at=newest)


@pytest.fixture
def storm(sim: SimCloud) -> list[str]:
    """Twenty clusters whose newest backup is 30 h old (daily schedule: max 1d 2h); with the
    fleet's own orders-prod and new-cluster, every cluster of the storm, in fleet order."""
    for number, cluster_id in enumerate(storm_ids(), start=1):
        add_cluster(sim, cluster_id, f"storm-{number:02d}", NOW - timedelta(hours=30))
    return [IDS.stale, IDS.never, *storm_ids()]


@pytest.fixture
def config() -> BotConfig:
    return make_config(
        alerts=[
            {
                "channel": ONCALL_CHANNEL,
                "mention": [ONCALL_GROUP],
                "repeat": "4h",
                "send_resolved": True,
                "group_by": ["folder"],
                "group_after": 5,
                "match": {"environment": "PRODUCTION"},
            }
        ]
    )


@pytest.fixture
def sweeper(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> Sweeper:
    return Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="replica-a")


@pytest.fixture
async def watch(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> AsyncIterator[Features]:
    service = make_features(cloud, store, config)
    yield service
    await service.backups.aclose()


def the_post(slack: FakeSlack) -> dict[str, Any]:
    """The one top-level message of the on-call channel: the storm's post."""
    [post] = top_level(slack.messages(ONCALL_CHANNEL))
    return post


def thread(slack: FakeSlack) -> list[dict[str, Any]]:
    return replies(slack.messages(ONCALL_CHANNEL), the_post(slack)["ts"])


async def the_group(store: Store) -> AlertGroup:
    [group] = await store.incidents.list_groups()
    return group


async def test_a_storm_is_one_post_with_one_mention_naming_every_cluster_in_it_or_its_thread(
    storm: list[str],
    store: Store,
    fake_slack: FakeSlack,
    config: BotConfig,
    sweeper: Sweeper,
    executor: DeliveryExecutor,
) -> None:
    result = await sweep_and_deliver(sweeper, executor, now=NOW)

    assert kinds(result.posted) == [(PostKind.GROUP_ALERT, GROUP)]
    assert {kind for kind, _ in kinds(result.posts)} == {
        PostKind.GROUP_ALERT,
        PostKind.GROUP_REPLY,
    }
    post = the_post(fake_slack)
    assert post["text"] == (
        f"FIRING: 22 clusters in {LABEL} have no fresh backup <!subteam^{ONCALL_GROUP}>"
    )
    assert FOLDER not in post["text"]
    contexts = [b for b in post["blocks"] if b["type"] == "context"]
    assert any(f"folder id `{FOLDER}`" in str(b) for b in contexts)
    assert mentions(fake_slack.messages(ONCALL_CHANNEL)) == 1
    rest = thread(fake_slack)
    assert rest  # 15 rows fit the post; the other 7 are in its thread
    for cluster_id in storm:
        shown = [m for m in [post, *rest] if f"`{cluster_id}`" in str(m["blocks"])]
        assert len(shown) == 1, cluster_id  # every cluster named, once
    (actions,) = [b for b in post["blocks"] if b["type"] == "actions"]
    assert [b["action_id"] for b in actions["elements"]] == [
        "group_ack",
        "group_snooze_4h",
        "group_snooze_24h",
    ]
    # Each cluster keeps its own incident, in the group, with no message of its own.
    group = await the_group(store)
    assert (group.label, group.message_ts, group.is_open) == (LABEL, post["ts"], True)
    route = alert_route_key(config.alerts[0])
    entries = await store.incidents.list_alerts(route_key=route, open_only=True)
    assert sorted(e.cluster_id for e in entries) == sorted(storm)
    assert {(e.group_id, e.message_id, e.status) for e in entries} == {
        (group.id, None, AlertStatus.FIRING)
    }

    # The next sweep sees the same storm: nothing new anywhere.
    calls = len(fake_slack.calls)
    again = await sweep_and_deliver(sweeper, executor, now=NOW + timedelta(minutes=15))
    assert again.posts == ()
    assert len(fake_slack.calls) == calls


async def test_a_storm_below_group_after_stays_one_alert_per_cluster(
    sim: SimCloud,
    fake_slack: FakeSlack,
    sweeper: Sweeper,
    executor: DeliveryExecutor,
) -> None:
    # orders-prod, new-cluster and three more: five, not more than group_after.
    for number, cluster_id in enumerate(storm_ids(3), start=1):
        add_cluster(sim, cluster_id, f"storm-{number:02d}", NOW - timedelta(hours=30))

    result = await sweep_and_deliver(sweeper, executor, now=NOW)

    assert [kind for kind, _ in kinds(result.posts)] == [PostKind.ALERT] * 5
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 5
    assert mentions(fake_slack.messages(ONCALL_CHANNEL)) == 1  # one ping per route per sweep


async def test_recoveries_update_the_group_post_and_reply_in_its_thread_until_the_last_resolves(
    sim: SimCloud,
    storm: list[str],
    store: Store,
    fake_slack: FakeSlack,
    sweeper: Sweeper,
    executor: DeliveryExecutor,
) -> None:
    await sweep_and_deliver(sweeper, executor, now=NOW)
    post = the_post(fake_slack)
    first_thread = len(thread(fake_slack))

    # 09:10 storm-01 is backed up: the 09:15 sweep updates the post and says so in its thread.
    sim.add_backup(storm_ids()[0], created_at=NOW + timedelta(minutes=10))
    fake_slack.calls.clear()
    one = await sweep_and_deliver(sweeper, executor, now=NOW + timedelta(minutes=15))

    assert kinds(one.posts) == [(PostKind.GROUP_UPDATE, GROUP), (PostKind.RESOLVED, GROUP)]
    assert [(c.args["channel"], c.args["ts"]) for c in fake_slack.calls_to("chat.update")] == [
        (ONCALL_CHANNEL, post["ts"])
    ]
    assert the_post(fake_slack)["text"].startswith(f"FIRING: 21 clusters in {LABEL} ")
    assert "*21 of 22 clusters in" in str(the_post(fake_slack)["blocks"])
    recovered = thread(fake_slack)[first_thread:]
    assert [m["text"] for m in recovered] == [
        ":white_check_mark: 1 cluster recovered; 21 still without a fresh backup:"
    ]
    assert f"`{storm_ids()[0]}`" in str(recovered[0]["blocks"])

    # 09:25 storm-02 too: the post still counts the whole storm.
    sim.add_backup(storm_ids()[1], created_at=NOW + timedelta(minutes=25))
    await sweep_and_deliver(sweeper, executor, now=NOW + timedelta(minutes=30))
    assert "*20 of 22 clusters in" in str(the_post(fake_slack)["blocks"])

    # 10:40 every other cluster has a backup: the 10:45 sweep resolves the storm, once.
    for cluster_id in storm[:2] + storm_ids()[2:]:
        sim.add_backup(cluster_id, created_at=NOW + timedelta(hours=1, minutes=40))
    fake_slack.calls.clear()
    last = await sweep_and_deliver(sweeper, executor, now=NOW + timedelta(hours=1, minutes=45))

    assert kinds(last.posts) == [
        (PostKind.GROUP_UPDATE, GROUP),
        (PostKind.RESOLVED, GROUP),
        (PostKind.RESOLVED, GROUP),
    ]
    resolved = the_post(fake_slack)
    assert resolved["text"] == f"RESOLVED: 22 clusters in {LABEL} have fresh backups again"
    assert all(block["type"] != "actions" for block in resolved["blocks"])
    assert thread(fake_slack)[-1]["text"] == (
        ":white_check_mark: Resolved: every one of the 22 clusters of this storm has a fresh "
        "backup again. It lasted 1h 45m."
    )
    assert mentions(fake_slack.messages(ONCALL_CHANNEL)) == 0  # the post no longer pings
    assert (await the_group(store)).resolved_at == NOW + timedelta(hours=1, minutes=45)
    assert await store.incidents.list_alerts(open_only=True) == []
    after = await sweep_and_deliver(sweeper, executor, now=NOW + timedelta(hours=2))
    assert after.posts == ()


async def test_a_cluster_going_stale_later_joins_the_open_group_in_its_thread(
    sim: SimCloud,
    storm: list[str],
    store: Store,
    fake_slack: FakeSlack,
    sweeper: Sweeper,
    executor: DeliveryExecutor,
) -> None:
    # late-cluster was backed up 25 h 30 m before NOW: it goes stale at 09:30.
    late = "c9qlatecluster000007"
    add_cluster(sim, late, "late-cluster", NOW - timedelta(hours=25, minutes=30))
    await sweep_and_deliver(sweeper, executor, now=NOW)
    group = await the_group(store)
    before = len(thread(fake_slack))

    joined = await sweep_and_deliver(sweeper, executor, now=NOW + timedelta(minutes=45))

    assert kinds(joined.posts) == [(PostKind.GROUP_UPDATE, GROUP), (PostKind.GROUP_REPLY, GROUP)]
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 1  # no post of its own
    assert mentions(fake_slack.messages(ONCALL_CHANNEL)) == 1
    assert the_post(fake_slack)["text"].startswith(f"FIRING: 23 clusters in {LABEL} ")
    [reply] = thread(fake_slack)[before:]
    assert reply["text"] == ":heavy_plus_sign: 1 more cluster joined this storm:"
    assert f"`{late}`" in str(reply["blocks"])
    entry = await store.incidents.get_alert(late, group.route_key)
    assert entry is not None
    assert (entry.group_id, entry.message_id, entry.status) == (group.id, None, AlertStatus.FIRING)


async def test_a_storms_reminder_is_one_reply_in_its_thread_with_one_mention(
    storm: list[str],
    fake_slack: FakeSlack,
    sweeper: Sweeper,
    executor: DeliveryExecutor,
) -> None:
    await sweep_and_deliver(sweeper, executor, now=NOW)
    before = len(thread(fake_slack))

    due = await sweep_and_deliver(sweeper, executor, now=NOW + timedelta(hours=4))

    assert kinds(due.posts) == [(PostKind.GROUP_UPDATE, GROUP), (PostKind.REMINDER, GROUP)]
    [reminder] = thread(fake_slack)[before:]
    assert reminder["text"].startswith(
        ":alarm_clock: 22 clusters of this storm still have no fresh backup (22 not "
        "acknowledged); it started 4h ago."
    )
    assert mentions([reminder]) == 1
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 1


async def test_the_group_buttons_act_on_every_member_and_update_the_post_once(
    storm: list[str],
    store: Store,
    fake_slack: FakeSlack,
    sweeper: Sweeper,
    watch: Features,
    executor: DeliveryExecutor,
) -> None:
    await sweep_and_deliver(sweeper, executor, now=NOW)
    group = await the_group(store)
    post = the_post(fake_slack)
    at = NOW + timedelta(minutes=5)

    # "Acknowledge all": every incident acknowledged, the post updated once, no more pings.
    fake_slack.calls.clear()
    _, acknowledged = await watch.alerts.move_group(
        group.id, lambda e: alerts.acknowledge(e, user="U0ALICE", now=at), now=at
    )
    await deliver(executor)
    assert acknowledged == len(storm)
    assert [c.args["ts"] for c in fake_slack.calls_to("chat.update")] == [post["ts"]]
    assert fake_slack.calls_to("chat.postMessage") == []
    members = await store.incidents.list_alerts(group_id=group.id)
    assert {(e.status, e.acknowledged_by) for e in members} == {
        (AlertStatus.ACKNOWLEDGED, "U0ALICE")
    }
    head = the_post(fake_slack)["blocks"][0]["text"]["text"]
    assert head.startswith(":eyes: *ACKNOWLEDGED* by <@U0ALICE> <!date^")
    assert mentions([the_post(fake_slack)]) == 0

    # Pressed again by someone else: nothing left to change, nothing sent.
    fake_slack.calls.clear()
    _, again = await watch.alerts.move_group(
        group.id, lambda e: alerts.acknowledge(e, user="U0BOB", now=at), now=at
    )
    await deliver(executor)
    assert again == 0
    assert fake_slack.calls == []

    # "Snooze all 4 h": every incident snoozed, the post updated once.
    until = at + timedelta(hours=4)
    _, snoozed = await watch.alerts.move_group(
        group.id, lambda e: alerts.snooze(e, until=until, user="U0BOB", now=at), now=at
    )
    await deliver(executor)
    assert snoozed == len(storm)
    assert [c.args["ts"] for c in fake_slack.calls_to("chat.update")] == [post["ts"]]
    members = await store.incidents.list_alerts(group_id=group.id)
    assert {(e.status, e.snoozed_until) for e in members} == {(AlertStatus.SNOOZED, until)}

    # The snooze runs out with the storm still on: it fires again, with one reminder.
    fake_slack.calls.clear()
    woke = await sweep_and_deliver(sweeper, executor, now=until + timedelta(minutes=10))
    assert kinds(woke.posts) == [(PostKind.GROUP_UPDATE, GROUP), (PostKind.REMINDER, GROUP)]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert mentions(fake_slack.messages(ONCALL_CHANNEL)) == 2  # the post again, and its reminder


async def test_a_recovered_member_going_stale_again_rejoins_the_storm_counted_once(
    sim: SimCloud,
    storm: list[str],
    store: Store,
    fake_slack: FakeSlack,
    sweeper: Sweeper,
    executor: DeliveryExecutor,
) -> None:
    await sweep_and_deliver(sweeper, executor, now=NOW)
    first = storm_ids()[0]
    sim.add_backup(first, created_at=NOW + timedelta(minutes=10))
    await sweep_and_deliver(sweeper, executor, now=NOW + timedelta(minutes=15))
    assert "*21 of 22 clusters in" in str(the_post(fake_slack)["blocks"])

    # Its next backup does not come: stale again at 11:10 the next day, the storm still on; by
    # then logs-prod (backed up 3 h before NOW) went stale too, and joins with it.
    before = len(thread(fake_slack))
    again = await sweep_and_deliver(sweeper, executor, now=NOW + timedelta(hours=26, minutes=15))

    assert (PostKind.GROUP_REPLY, GROUP) in kinds(again.posts)
    assert len(top_level(fake_slack.messages(ONCALL_CHANNEL))) == 1
    assert "*23 of 23 clusters in" in str(the_post(fake_slack)["blocks"])  # not 24: once each
    [joined] = [m for m in thread(fake_slack)[before:] if "joined" in m["text"]]
    assert joined["text"] == ":heavy_plus_sign: 2 more clusters joined this storm:"
    assert f"`{first}`" in str(joined["blocks"])
    assert f"`{IDS.fresh}`" in str(joined["blocks"])
    group = await the_group(store)
    entry = await store.incidents.get_alert(first, group.route_key)
    assert entry is not None
    assert (entry.status, entry.group_id) == (AlertStatus.FIRING, group.id)


async def test_a_click_on_a_groups_button_goes_through_the_dispatcher_like_slack_sends_it(
    storm: list[str],
    cloud: CloudClient,
    store: Store,
    fake_slack: FakeSlack,
    sweeper: Sweeper,
    watch: Features,
    executor: DeliveryExecutor,
    config: BotConfig,
) -> None:
    await sweep_and_deliver(sweeper, executor, now=NOW)
    post = the_post(fake_slack)
    buttons = {
        element["action_id"]: element["value"]
        for block in post["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }
    assert set(buttons) == {"group_ack", "group_snooze_4h", "group_snooze_24h"}
    assert set(buttons) <= set(watch.router.action_ids)
    dispatcher = watch.router
    click = Invocation("U0ALICE", ONCALL_CHANNEL, message_ts=post["ts"])
    at = NOW + timedelta(minutes=5)

    reply = await dispatcher.run_action(
        "group_snooze_24h", buttons["group_snooze_24h"], click, now=at
    )
    await deliver(executor)

    assert f"Snoozed {len(storm)} clusters of the storm" in reply.messages[0].text
    members = await store.incidents.list_alerts(group_id=(await the_group(store)).id)
    assert {e.status for e in members} == {AlertStatus.SNOOZED}
    assert ":zzz:" in str(the_post(fake_slack)["blocks"])
    head = the_post(fake_slack)["blocks"][0]["text"]["text"]
    assert head.startswith(":zzz: *SNOOZED* until <!date^")
    assert head.split("\n")[0].endswith("by <@U0ALICE>")

    # Snoozed by mistake: Unsnooze takes Acknowledge all's place, and gives the storm back.
    snoozed = {
        element["action_id"]: element["value"]
        for block in the_post(fake_slack)["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }
    assert list(snoozed) == ["group_unsnooze", "group_snooze_4h", "group_snooze_24h"]
    woke = await dispatcher.run_action("group_unsnooze", snoozed["group_unsnooze"], click, now=at)
    await deliver(executor)
    assert f"Unsnoozed {len(storm)} clusters of the storm" in woke.messages[0].text
    members = await store.incidents.list_alerts(group_id=(await the_group(store)).id)
    assert {e.status for e in members} == {AlertStatus.FIRING}
    assert the_post(fake_slack)["blocks"][0]["text"]["text"].startswith(":rotating_light:")
    # A forged value is refused in words, and changes nothing.
    forged = await dispatcher.run_action("group_ack", '{"g": "../../etc"}', click, now=at)
    assert "not one the bot made" in forged.messages[0].text
    assert {e.status for e in await store.incidents.list_alerts(group_id=members[0].group_id)} == {
        AlertStatus.FIRING
    }


SLOWDOWN = "Object Storage is throttling requests (503 SlowDown)"


async def test_a_storm_names_its_shared_cause_and_who_acknowledged_it_and_can_be_given_back(
    sim: SimCloud,
    storm: list[str],
    store: Store,
    fake_slack: FakeSlack,
    sweeper: Sweeper,
    watch: Features,
    executor: DeliveryExecutor,
) -> None:
    # Four members failed their last attempt with 503 SlowDown, one with another error.
    for cluster_id in storm_ids()[:4]:
        sim.add_operation(cluster_id, created_at=NOW - timedelta(minutes=30), error=SLOWDOWN)
    sim.add_operation(storm_ids()[4], created_at=NOW - timedelta(minutes=30), error="disk full")
    await sweep_and_deliver(sweeper, executor, now=NOW)
    post = the_post(fake_slack)
    assert f":x: 4 of {len(storm)}: {SLOWDOWN}" in post["blocks"][0]["text"]["text"]

    def buttons() -> dict[str, str]:
        return {
            element["action_id"]: element["value"]
            for block in the_post(fake_slack)["blocks"]
            if block["type"] == "actions"
            for element in block["elements"]
        }

    failed_rows = str(post["blocks"]).count(":x: last attempt failed")
    assert failed_rows > 0
    click = Invocation("U0ALICE", ONCALL_CHANNEL, message_ts=post["ts"])
    at = NOW + timedelta(minutes=5)
    await watch.router.run_action("group_ack", buttons()["group_ack"], click, now=at)
    await deliver(executor)

    acked = the_post(fake_slack)
    head = acked["blocks"][0]["text"]["text"]
    assert head.startswith(":eyes: *ACKNOWLEDGED* by <@U0ALICE>")
    assert f"4 of {len(storm)}: {SLOWDOWN}" in head  # the cause stays
    # Every row keeps its reason after the click, although no cluster was read again.
    assert str(acked["blocks"]).count(":x: last attempt failed") == failed_rows
    assert set(buttons()) == {"group_unack", "group_snooze_4h", "group_snooze_24h"}

    reply = await watch.router.run_action("group_unack", buttons()["group_unack"], click, now=at)
    await deliver(executor)
    assert f"Unacknowledged {len(storm)} clusters of the storm" in reply.messages[0].text
    members = await store.incidents.list_alerts(group_id=(await the_group(store)).id)
    assert {(e.status, e.acknowledged_by) for e in members} == {(AlertStatus.FIRING, None)}
    assert set(buttons()) == {"group_ack", "group_snooze_4h", "group_snooze_24h"}
    assert the_post(fake_slack)["blocks"][0]["text"]["text"].startswith(":rotating_light: *FIRING*")
