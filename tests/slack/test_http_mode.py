"""Every command through HTTP mode: signed requests in, the answer at the response URL."""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot import clock
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.server import SimCloud
from tests.slack.harness import (
    CHANNEL_INDEX,
    FOLDER,
    LEAD,
    LOGS,
    ONCALLER,
    OTHER_FOLDER,
    OUTSIDE,
    SEARCH,
    SECRET,
    all_text,
    backup_id,
    buttons,
    make_fleet,
    running_bot,
)


async def test_help_is_acknowledged_empty_and_answered_at_the_response_url(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        ack = await bot.command("help")
        assert ack.status == 200
        assert ack.body == ""
        answer = await bot.reply()
    assert answer["response_type"] == "ephemeral"
    assert "/backups list" in all_text(answer)


async def test_list_by_name_shows_newest_first_with_a_next_page_button(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask("list logs-prod --limit 5")
    text = all_text(answer)
    assert answer["response_type"] == "ephemeral"
    assert backup_id(LOGS, 0) in text
    assert backup_id(LOGS, 4) in text
    assert backup_id(LOGS, 5) not in text
    value = json.loads(buttons(answer)["list_next_page"])
    assert value["c"] == LOGS
    assert value["l"] == 5
    assert value["p"].endswith("~" + backup_id(LOGS, 4))  # the place of the last row shown
    page_sizes = {r.query.get("pageSize") for r in sim.requests if r.path.endswith("/backups")}
    assert page_sizes == {"1000"}  # every page is read; the newest may be on any


async def test_list_with_share_is_posted_in_channel(fake_slack: FakeSlack, sim: SimCloud) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask(f"list {SEARCH} --share")
    assert answer["response_type"] == "in_channel"
    assert backup_id(SEARCH, 2) in all_text(answer)


async def test_get_escapes_an_index_named_like_a_channel_mention(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask(f"get {backup_id(LOGS, 0)}")
    text = all_text(answer)
    assert backup_id(LOGS, 0) in text
    assert "&lt;!channel&gt;" in text
    assert CHANNEL_INDEX not in text


async def test_folder_groups_backups_by_cluster(fake_slack: FakeSlack, sim: SimCloud) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask(f"folder {FOLDER}")
    text = all_text(answer)
    assert "logs-prod" in text
    assert "search-prod" in text
    assert OUTSIDE not in text


async def test_unknown_subcommand_suggests_the_nearest(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask("lsit logs-prod")
    assert answer["response_type"] == "ephemeral"
    assert "/backups list" in all_text(answer)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list", "needs a cluster id or name"),
        ("get", "needs a backup id"),
        ("list c9q$$bad!!", "characters an id cannot have"),
        ("list " + "c" * 51, "at most 50"),
        ("get <backup-id>", "placeholder"),
    ],
)
async def test_missing_malformed_or_too_long_ids_are_explained(
    fake_slack: FakeSlack, sim: SimCloud, text: str, expected: str
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask(text)
    assert expected in all_text(answer)
    assert sim.requests == []


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("list c9qnosuchcluster0001", "cluster `c9qnosuchcluster0001`"),
        (f"get {LOGS}:snapshot-9999", f"backup `{LOGS}:snapshot-9999`"),
        (f"list {OUTSIDE}", f"cluster `{OUTSIDE}`"),
        ("list no-such-name", "cluster `no-such-name`"),
        (f"get {backup_id(OUTSIDE, 0)}", "backup"),
        (f"folder {OTHER_FOLDER}", f"folder `{OTHER_FOLDER}`"),
    ],
)
async def test_something_that_does_not_exist_is_said_plainly(
    fake_slack: FakeSlack, sim: SimCloud, text: str, subject: str
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask(text)
    text_out = all_text(answer)
    assert "I can't find" in text_out
    assert subject in text_out.replace("&lt;", "<").replace("&gt;", ">")
    assert "Traceback" not in text_out


async def test_a_cluster_the_service_account_may_not_read_says_permission(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask(f"list {SECRET}")
    text = all_text(answer)
    assert "service account may not read" in text
    assert "managed-opensearch.viewer" in text


async def test_an_unreachable_cloud_is_answered_with_a_clear_message(
    fake_slack: FakeSlack, unused_tcp_port: int
) -> None:
    async with running_bot(fake_slack, f"http://127.0.0.1:{unused_tcp_port}") as bot:
        answer = await bot.ask(f"list {LOGS}")
    text = all_text(answer)
    assert "can't reach the cloud" in text
    assert "Traceback" not in text


async def test_a_slow_cloud_is_acknowledged_before_it_answers(
    fake_slack: FakeSlack,
) -> None:
    async with (
        SimCloud(SimConfig(latency=4.0), make_fleet(clock.now())) as slow,
        running_bot(fake_slack, slow.url) as bot,
    ):
        started = time.monotonic()
        ack = await bot.command(f"list {LOGS} --limit 2")
        assert ack.status == 200
        assert ack.seconds < 4.0  # sooner than the cloud's latency: the ack did not wait for it
        answer = await bot.reply(timeout=20)
        assert time.monotonic() - started >= 4.0  # the answer really waited for the cloud
    assert backup_id(LOGS, 0) in all_text(answer)


async def test_the_ack_does_not_wait_for_the_answer(fake_slack: FakeSlack) -> None:
    # The listener returns right after ack() (process_before_response=True): the HTTP response
    # goes out while the answer's task still waits for the cloud, with no polling in between.
    async with (
        SimCloud(SimConfig(latency=1.0), make_fleet(clock.now())) as slow,
        running_bot(fake_slack, slow.url) as bot,
    ):
        ack = await bot.command(f"list {LOGS} --limit 2")
        assert ack.status == 200
        assert ack.body == ""
        assert ack.seconds < 0.5
        assert len(bot.in_flight) == 1  # the answer is still being worked on
        assert fake_slack.responses("r1") == []
        answer = await bot.reply(timeout=20)
    assert backup_id(LOGS, 0) in all_text(answer)


async def test_access_rules_deny_with_a_message_and_a_log_line(
    fake_slack: FakeSlack, sim: SimCloud, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.commands.router")
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask(f"backup {LOGS}")
    assert "Only" in all_text(answer)
    assert "<@U0LEAD>" in all_text(answer)
    denials = [r for r in caplog.records if "access denied" in r.getMessage()]
    assert len(denials) == 1
    assert "U0TESTUSER" in denials[0].getMessage()


@pytest.mark.parametrize("user", [LEAD, ONCALLER])
async def test_a_member_of_an_allowed_group_or_user_passes_the_access_rule(
    fake_slack: FakeSlack, sim: SimCloud, user: str
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask(f"backup {LOGS}", user_id=user)
    # No watcher runs in this bot, so passing the rule leads to that message, not a denial.
    assert "needs the bot's watcher" in all_text(answer)


@pytest.mark.parametrize(
    "text", ["clusters", "status", "snooze logs-prod 4h", "unsnooze logs-prod"]
)
async def test_watcher_commands_say_clearly_when_no_watcher_runs(
    fake_slack: FakeSlack, sim: SimCloud, text: str
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.ask(text)
    assert "needs the bot's watcher" in all_text(answer)
