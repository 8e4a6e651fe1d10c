"""Socket Mode: the bot opens the connection with its app token and answers envelopes."""

from __future__ import annotations

import json

from bot.demo.fake_slack import FakeSlack, block_action_payload, slash_command_payload
from bot.demo.simcloud.server import SimCloud
from tests.slack.harness import (
    APP_TOKEN,
    LOGS,
    all_text,
    assert_within_limits,
    backup_id,
    buttons,
    running_bot,
)


async def test_the_bot_connects_with_its_app_token(fake_slack: FakeSlack, sim: SimCloud) -> None:
    async with running_bot(fake_slack, sim.url, socket_mode=True):
        await fake_slack.wait_socket_connected()
    opens = fake_slack.calls_to("apps.connections.open")
    assert len(opens) == 1
    assert opens[0].token_ok
    assert APP_TOKEN not in json.dumps(opens[0].args)


async def test_a_slash_command_envelope_is_acked_and_answered_at_the_response_url(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url, socket_mode=True) as bot:
        payload = slash_command_payload(
            "list logs-prod --limit 3", response_url=fake_slack.response_url("s1")
        )
        ack = await fake_slack.send_envelope("slash_commands", payload)
        answer = await bot.reply("s1")
    assert ack["envelope_id"]
    assert not ack.get("payload")
    assert_within_limits(answer)
    assert backup_id(LOGS, 2) in all_text(answer)
    assert "list_next_page" in buttons(answer)


async def test_a_button_envelope_is_acked_and_answered(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url, socket_mode=True) as bot:
        first = slash_command_payload(
            "list logs-prod --limit 3", response_url=fake_slack.response_url("s1")
        )
        await fake_slack.send_envelope("slash_commands", first)
        value = buttons(await bot.reply("s1"))["list_next_page"]
        click = block_action_payload(
            "list_next_page", value, response_url=fake_slack.response_url("s2")
        )
        ack = await fake_slack.send_envelope("interactive", click)
        answer = await bot.reply("s2")
    assert ack["envelope_id"]
    text = all_text(answer)
    assert backup_id(LOGS, 3) in text
    assert backup_id(LOGS, 2) not in text
