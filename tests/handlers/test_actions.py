"""Buttons: Next page (also after a restart), the backup confirmation, the alert's buttons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.alerts.actions import ACKNOWLEDGE, SNOOZE_4H, SNOOZE_24H, START_BACKUP, AlertRef
from bot.backup.actions import CONFIRM
from bot.backup.messages import render_backup_confirm
from bot.chat.actions import Answer, BoundAction, Invocation
from bot.commands.grammar import BackupCmd, ClustersCmd, SnoozeCmd, StatusCmd, UnsnoozeCmd
from bot.commands.messages import render_ack
from bot.commands.router import CommandRoute
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.server import SimCloud
from tests.slack.harness import (
    LEAD,
    LOGS,
    OUTSIDE,
    all_text,
    assert_within_limits,
    backup_id,
    buttons,
    running_bot,
)


class RecordingFeature:
    """Stands in for the watcher's features (tested on their own in tests/alerts and
    tests/backup): it binds the same declared buttons and commands, and records what reaches it
    through Slack, the Bolt listeners and the router."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    async def _did(self, name: str, *args: Any, **kw: Any) -> Answer:
        self.calls.append((name, args, kw))
        return Answer([render_ack(f"{name} done")])

    def commands(self) -> Iterator[CommandRoute[Any]]:
        async def clusters(command: ClustersCmd, inv: Invocation, now: datetime) -> Answer:
            return await self._did("clusters_view", command.folder_id)

        async def status(command: StatusCmd, inv: Invocation, now: datetime) -> Answer:
            answer = await self._did("status_view", command.target)
            return Answer(answer.messages, ephemeral=not command.share)

        async def snooze(command: SnoozeCmd, inv: Invocation, now: datetime) -> Answer:
            return await self._did("snooze", command.cluster, command.duration, user=inv.user_id)

        async def unsnooze(command: UnsnoozeCmd, inv: Invocation, now: datetime) -> Answer:
            return await self._did("unsnooze", command.cluster, user=inv.user_id)

        async def backup(command: BackupCmd, inv: Invocation, now: datetime) -> Answer:
            # Asking starts nothing: it is answered with the confirmation, as the real one is.
            return Answer([render_backup_confirm(command.cluster, _IDS[command.cluster])])

        yield CommandRoute(BackupCmd, backup)
        yield CommandRoute(ClustersCmd, clusters)
        yield CommandRoute(StatusCmd, status)
        yield CommandRoute(SnoozeCmd, snooze)
        yield CommandRoute(UnsnoozeCmd, unsnooze)

    def actions(self) -> Iterator[BoundAction]:
        async def acknowledge(ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
            return await self._did("acknowledge", ref.cluster_id, ref.route_key, user=inv.user_id)

        def snoozer(duration: timedelta) -> Any:
            async def snooze(ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
                return await self._did(
                    "snooze_alert", ref.cluster_id, ref.route_key, duration, user=inv.user_id
                )

            return snooze

        async def start(ref: AlertRef | str, inv: Invocation, now: datetime) -> Answer:
            cluster = ref.cluster_id if isinstance(ref, AlertRef) else ref
            answer = await self._did(
                "start_backup",
                cluster,
                user=inv.user_id,
                channel=inv.channel_id,
                thread_ts=inv.message_ts if isinstance(ref, AlertRef) else None,
            )
            # The confirmation's button replaces the question with its answer.
            return Answer(answer.messages, replace_original=not isinstance(ref, AlertRef))

        yield ACKNOWLEDGE.bind(acknowledge)
        yield SNOOZE_4H.bind(snoozer(timedelta(hours=4)))
        yield SNOOZE_24H.bind(snoozer(timedelta(hours=24)))
        yield START_BACKUP.bind(start)
        yield CONFIRM.bind(start)


#: The clusters the recording feature knows by name.
_IDS = {"logs-prod": LOGS}


async def test_next_page_works_in_a_new_app_instance_from_the_button_value_alone(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url) as first:
        page1 = await first.ask("list logs-prod --limit 10")
    value = buttons(page1)["list_next_page"]
    async with running_bot(fake_slack, sim.url) as second:  # a restart: nothing kept in memory
        ack = await second.click("list_next_page", value, key="p2")
        assert ack.status == 200
        page2 = await second.reply("p2")
        ack = await second.click("list_next_page", buttons(page2)["list_next_page"], key="p3")
        page3 = await second.reply("p3")
    assert_within_limits(page2)
    text2, text3 = all_text(page2), all_text(page3)
    assert backup_id(LOGS, 10) in text2
    assert backup_id(LOGS, 19) in text2
    assert backup_id(LOGS, 9) not in text2
    assert backup_id(LOGS, 24) in text3
    assert "list_next_page" not in buttons(page3)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "[1, 2]",
        json.dumps({"c": LOGS, "t": "x", "l": 500}),
        json.dumps({"c": LOGS, "t": "x", "l": "10"}),
        json.dumps({"c": "c9q bad id", "t": "x", "l": 10}),
        json.dumps({"c": LOGS, "t": "x" * 101, "l": 10}),
        json.dumps({"c": LOGS, "l": 10}),
        "x" * 3000,
    ],
)
async def test_a_forged_next_page_value_gets_a_clear_message(
    fake_slack: FakeSlack, sim: SimCloud, value: str
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        await bot.click("list_next_page", value)
        answer = await bot.reply()
    assert "not one the bot made" in all_text(answer)
    assert sim.requests == []


async def test_a_next_page_value_naming_a_cluster_outside_the_bots_folders_is_not_found(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    value = json.dumps({"c": OUTSIDE, "t": "1", "l": 10})
    async with running_bot(fake_slack, sim.url) as bot:
        await bot.click("list_next_page", value)
        answer = await bot.reply()
    assert "I can't find" in all_text(answer)
    assert backup_id(OUTSIDE, 0) not in all_text(answer)


ALERT_VALUE = json.dumps({"c": LOGS, "r": "C0ONCALL:0"})


async def test_alert_buttons_without_a_watcher_say_so(fake_slack: FakeSlack, sim: SimCloud) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        await bot.click("alert_ack", ALERT_VALUE)
        answer = await bot.reply()
    assert "needs the bot's watcher" in all_text(answer)


async def test_the_alerts_list_button_lists_the_clusters_backups(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        await bot.click("alert_list", ALERT_VALUE)
        answer = await bot.reply()
    assert backup_id(LOGS, 0) in all_text(answer)


@pytest.mark.parametrize(
    ("action_id", "expected"),
    [
        ("alert_ack", ("acknowledge", (LOGS, "C0ONCALL:0"), {"user": LEAD})),
        (
            "alert_snooze_4h",
            ("snooze_alert", (LOGS, "C0ONCALL:0", timedelta(hours=4)), {"user": LEAD}),
        ),
        (
            "alert_snooze_24h",
            ("snooze_alert", (LOGS, "C0ONCALL:0", timedelta(hours=24)), {"user": LEAD}),
        ),
        (
            "alert_backup",
            (
                "start_backup",
                (LOGS,),
                {"user": LEAD, "channel": "C0TESTCHAN", "thread_ts": "1700000000.000100"},
            ),
        ),
    ],
)
async def test_alert_buttons_are_routed_to_the_watcher(
    fake_slack: FakeSlack, sim: SimCloud, action_id: str, expected: tuple[Any, ...]
) -> None:
    watch = RecordingFeature()
    async with running_bot(fake_slack, sim.url, features=[watch]) as bot:
        await bot.click(action_id, ALERT_VALUE, user_id=LEAD)
        answer = await bot.reply()
    assert watch.calls == [expected]
    assert "done" in all_text(answer)


@pytest.mark.parametrize(
    "value", ["", "{}", json.dumps({"c": LOGS}), json.dumps({"c": 1, "r": "x"})]
)
async def test_a_forged_alert_button_value_gets_a_clear_message(
    fake_slack: FakeSlack, sim: SimCloud, value: str
) -> None:
    watch = RecordingFeature()
    async with running_bot(fake_slack, sim.url, features=[watch]) as bot:
        await bot.click("alert_snooze_4h", value)
        answer = await bot.reply()
    assert "not one the bot made" in all_text(answer)
    assert watch.calls == []


async def test_backup_asks_to_confirm_and_the_confirm_button_starts_it(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    watch = RecordingFeature()
    async with running_bot(fake_slack, sim.url, features=[watch]) as bot:
        prompt = await bot.ask("backup logs-prod", user_id=LEAD)
        assert watch.calls == []
        value = buttons(prompt)["backup_confirm"]
        await bot.click("backup_confirm", value, key="c1", user_id=LEAD)
        done = await bot.reply("c1")
    assert done["replace_original"] is True
    assert watch.calls == [
        ("start_backup", (LOGS,), {"user": LEAD, "channel": "C0TESTCHAN", "thread_ts": None})
    ]


async def test_the_confirm_button_is_checked_against_the_access_rules_again(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    watch = RecordingFeature()
    async with running_bot(fake_slack, sim.url, features=[watch]) as bot:
        await bot.click("backup_confirm", LOGS)
        answer = await bot.reply()
    assert "Only" in all_text(answer)
    assert watch.calls == []


async def test_cancel_replaces_the_confirmation(fake_slack: FakeSlack, sim: SimCloud) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        await bot.click("backup_cancel", LOGS, user_id=LEAD)
        answer = await bot.reply()
    assert answer["replace_original"] is True
    assert "not started" in all_text(answer)


async def test_watcher_commands_are_routed_and_every_message_is_delivered(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    watch = RecordingFeature()
    async with running_bot(fake_slack, sim.url, features=[watch]) as bot:
        await bot.command("status logs-prod --share", key="st")
        await bot.reply("st")
        await bot.ask("snooze logs-prod 4h")
        await bot.ask("clusters")
    assert [r["response_type"] for r in fake_slack.responses("st")] == ["in_channel"]
    assert [c[0] for c in watch.calls] == ["status_view", "snooze", "clusters_view"]
    assert watch.calls[1] == ("snooze", ("logs-prod", timedelta(hours=4)), {"user": "U0TESTUSER"})


async def test_an_unexpected_error_shows_an_id_that_is_in_the_log(
    fake_slack: FakeSlack, sim: SimCloud, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenFeature(RecordingFeature):
        def commands(self) -> Iterator[CommandRoute[Any]]:
            async def clusters(command: ClustersCmd, inv: Invocation, now: datetime) -> Answer:
                raise RuntimeError("secret internals xoxb-should-not-show")

            yield CommandRoute(ClustersCmd, clusters)

    async with running_bot(fake_slack, sim.url, features=[BrokenFeature()]) as bot:
        answer = await bot.ask("clusters")
    text = all_text(answer)
    assert "Something went wrong on my side" in text
    assert "internals" not in text
    [record] = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    error_id = record.__dict__["error_id"]
    assert error_id in text
    assert record.exc_info is not None
