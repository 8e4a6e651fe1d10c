"""Slack's budget for one message: what is measured, and what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from bot.backup.messages import render_backup_confirm
from bot.chat.card import Card, Text
from bot.chat.pack import pack
from bot.commands.messages import render_help
from bot.commands.strings import COMMAND_HELP
from bot.slack.blocks import SLACK
from bot.slack.budget import (
    MAX_FALLBACK_TEXT,
    MAX_SECTION_TEXT,
    OverBudget,
    block_text_length,
    checked,
    measure,
    violations,
)


def Message(text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """A chat.postMessage body of ``text`` and ``blocks``."""
    return {"text": text, "blocks": blocks}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def button(label: str, value: str = "v") -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "a",
                "text": {"type": "plain_text", "text": label},
                "value": value,
            }
        ],
    }


# --- measuring -----------------------------------------------------------------------------


def test_block_text_counts_every_text_at_any_depth_but_not_ids_or_values() -> None:
    blocks = [
        section("abc"),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "de"}]},
        context("fgh"),
        button("ij", value="x" * 500),
        {"type": "divider"},
    ]
    assert block_text_length(blocks) == 3 + 2 + 3 + 2
    size = measure(Message(text="fallback", blocks=blocks))
    assert (size.blocks, size.block_text, size.fallback) == (5, 10, 8)


def test_a_message_within_every_limit_has_no_violations() -> None:
    message = Message(text="hi", blocks=[section("x" * MAX_SECTION_TEXT), button("Next page")])
    assert violations(message) == []
    assert checked(message) is message


def test_twelve_thousand_characters_of_block_text_are_refused_as_slack_does() -> None:
    # Four sections of 3,000 each: every section is within its limit, the message is not.
    message = Message(text="t", blocks=[section("x" * 3000) for _ in range(4)])
    assert violations(message) == ["12000 characters of block text (max 10000)"]
    with pytest.raises(OverBudget, match="12000 characters of block text"):
        checked(message)


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (Message(text="", blocks=[section("x")]), "the text fallback is empty"),
        (
            Message(text="x" * (MAX_FALLBACK_TEXT + 1), blocks=[]),
            "the text fallback has 4001 characters (max 4000)",
        ),
        (Message(text="t", blocks=[{"type": "divider"}] * 51), "51 blocks (max 50)"),
        (Message(text="t", blocks=[section("x" * 3001)]), "text has 3001 characters"),
        (Message(text="t", blocks=[section("")]), "text is empty"),
        (
            Message(
                text="t",
                blocks=[{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            ),
            "11 fields (max 10)",
        ),
        (
            Message(
                text="t",
                blocks=[{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            ),
            "field 1 has 2001 characters (max 2000)",
        ),
        (
            Message(text="t", blocks=[{"type": "header", "text": {"text": "h" * 151}}]),
            "header has 151 characters (max 150)",
        ),
        (Message(text="t", blocks=[button("b" * 76)]), "button 1 label has 76 characters"),
        (Message(text="t", blocks=[button("ok", "v" * 2001)]), "button 1 value is over 2000"),
        (Message(text="t", blocks=[{"type": "context", "elements": []}]), "0 context elements"),
    ],
)
def test_each_limit_is_named_when_broken(message: dict[str, Any], problem: str) -> None:
    found = violations(message)
    assert any(problem in line for line in found), found


def test_a_head_and_foot_over_budget_on_their_own_raise_rather_than_post() -> None:
    packed = pack([], limits=SLACK.limits, head=[Text("x" * 3000)] * 4)
    with pytest.raises(OverBudget):
        SLACK.render(Card("t", packed.parts))


def test_the_help_of_every_command_is_within_budget() -> None:
    for topic in [None, *(h.name for h in COMMAND_HELP)]:
        assert violations(SLACK.render(render_help(topic))) == [], topic
    confirm = render_backup_confirm("<!channel>" * 40, "c9q" + "x" * 90)
    assert violations(SLACK.render(confirm)) == []
