"""Buttons: Next page (also after a restart), the backup confirmation, the alert's buttons."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.chat.card import Card
from bot.commands.messages import render_ack
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


class RecordingWatch:
    """Stands in for the watcher service (another module's); records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _did(self, name: str, *args: Any, **kw: Any) -> Card:
        self.calls.append((name, args, kw))
        return render_ack(f"{name} done")

    async def clusters_view(self, folder_id: str | None, *, now: datetime, offset: int = 0) -> Card:
        return self._did("clusters_view", folder_id)

    async def status_view(self, target: str | None, *, now: datetime, offset: int = 0) -> Card:
        return self._did("status_view", target)

    async def snooze(
        self, cluster_ref: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card:
        return self._did("snooze", cluster_ref, duration, user=user)

    async def unsnooze(self, cluster_ref: str, *, user: str, now: datetime) -> Card:
        return self._did("unsnooze", cluster_ref, user=user)

    async def acknowledge(
        self, cluster_id: str, route_key: str, *, user: str, now: datetime
    ) -> Card:
        return self._did("acknowledge", cluster_id, route_key, user=user)

    async def snooze_alert(
        self, cluster_id: str, route_key: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card:
        return self._did("snooze_alert", cluster_id, route_key, duration, user=user)

    async def start_backup(
        self, cluster_ref: str, *, user: str, channel: str, thread_ts: str | None, now: datetime
    ) -> Card:
        return self._did(
            "start_backup", cluster_ref, user=user, channel=channel, thread_ts=thread_ts
        )


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
    watch = RecordingWatch()
    async with running_bot(fake_slack, sim.url, watch=watch) as bot:
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
    watch = RecordingWatch()
    async with running_bot(fake_slack, sim.url, watch=watch) as bot:
        await bot.click("alert_snooze_4h", value)
        answer = await bot.reply()
    assert "not one the bot made" in all_text(answer)
    assert watch.calls == []


async def test_backup_asks_to_confirm_and_the_confirm_button_starts_it(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    watch = RecordingWatch()
    async with running_bot(fake_slack, sim.url, watch=watch) as bot:
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
    watch = RecordingWatch()
    async with running_bot(fake_slack, sim.url, watch=watch) as bot:
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
    watch = RecordingWatch()
    async with running_bot(fake_slack, sim.url, watch=watch) as bot:
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
    class BrokenWatch(RecordingWatch):
        async def clusters_view(self, folder_id: str | None, *, now: datetime) -> Card:
            raise RuntimeError("secret internals xoxb-should-not-show")

    async with running_bot(fake_slack, sim.url, watch=BrokenWatch()) as bot:
        answer = await bot.ask("clusters")
    text = all_text(answer)
    assert "Something went wrong on my side" in text
    assert "internals" not in text
    [record] = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    error_id = record.__dict__["error_id"]
    assert error_id in text
    assert record.exc_info is not None
