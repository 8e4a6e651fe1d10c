"""Slack's budget for one message: what is measured, what is refused, and how rows are packed."""

from __future__ import annotations

from typing import Any

import pytest

from bot.commands.messages import render_backup_confirm, render_help
from bot.commands.strings import COMMAND_HELP
from bot.slack.budget import (
    MAX_BLOCK_TEXT,
    MAX_FALLBACK_TEXT,
    OverBudget,
    block_text_length,
    checked,
    clip,
    cut_escaped,
    escape_clipped,
    measure,
    pack_rows,
    violations,
)
from bot.slack.message import MAX_BLOCKS, MAX_SECTION_TEXT, Message


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
def test_each_limit_is_named_when_broken(message: Message, problem: str) -> None:
    found = violations(message)
    assert any(problem in line for line in found), found


# --- text that must fit --------------------------------------------------------------------


def test_clipping_never_leaves_half_an_entity() -> None:
    escaped = escape_clipped("a&b", 4)  # "a&amp;b" is 7: cut before the entity
    assert escaped == "a…"
    assert clip("a&amp;b", 7) == "a&amp;b"
    assert clip("abcdef", 4) == "abc…"


def test_a_value_escaped_later_is_cut_by_its_escaped_length() -> None:
    cut = cut_escaped("<<<<<<<<<<", 20)  # each "<" becomes "&lt;", 4 characters
    assert cut == "<<<<…"
    assert len(cut_escaped("<" * 500, 200).replace("<", "&lt;")) <= 200
    assert cut_escaped("plain", 5) == "plain"


# --- packing rows --------------------------------------------------------------------------


def test_rows_are_packed_whole_and_the_rest_is_returned_in_order() -> None:
    rows = [f"row {i:03d} " + "x" * 990 for i in range(30)]  # 1,000 characters each
    packed = pack_rows(
        rows,
        text=lambda left: f"digest ({left} more)",
        head=[section("head")],
        foot=lambda left: [context(f"and {left} more in the thread")],
    )
    assert packed.shown + len(packed.left) == 30
    assert packed.left == tuple(rows[packed.shown :])
    assert violations(packed.message) == []
    assert block_text_length(packed.message.blocks) <= MAX_BLOCK_TEXT
    shown_text = "\n\n".join(b["text"]["text"] for b in packed.message.blocks[1:-1])
    assert shown_text == "\n\n".join(rows[: packed.shown])  # whole rows, none cut
    assert packed.message.blocks[-1] == context(f"and {len(packed.left)} more in the thread")
    assert packed.message.text == f"digest ({len(packed.left)} more)"
    # Nine rows and the foot take 9,036 characters; a tenth would make it over 10,000.
    assert packed.shown == 9


def test_rows_share_sections_up_to_the_section_limit() -> None:
    rows = ["y" * 1400] * 5
    packed = pack_rows(rows, text="t", sep="\n")
    assert packed.shown == 5
    assert [len(b["text"]["text"]) for b in packed.message.blocks] == [2801, 2801, 1400]


def test_a_page_never_holds_more_than_fifty_blocks() -> None:
    rows = ["z" * 2999] * 3 + ["short"] * 200
    packed = pack_rows(rows, text="t", head=[section("h")] * 45, max_rows=None)
    assert len(packed.message.blocks) <= MAX_BLOCKS
    assert packed.shown < len(rows)


def test_max_rows_stops_early_even_when_more_fit() -> None:
    packed = pack_rows(["a", "b", "c"], text="t", max_rows=2)
    assert (packed.shown, packed.left) == (2, ("c",))


def test_a_row_longer_than_a_section_is_a_bug_not_a_silent_cut() -> None:
    with pytest.raises(ValueError, match="cannot fill a section"):
        pack_rows(["x" * (MAX_SECTION_TEXT + 1)], text="t")


def test_a_head_and_foot_over_budget_on_their_own_raise_rather_than_post() -> None:
    with pytest.raises(OverBudget):
        pack_rows([], text="t", head=[section("x" * 3000)] * 4)


def test_the_help_of_every_command_is_within_budget() -> None:
    for topic in [None, *(h.name for h in COMMAND_HELP)]:
        assert violations(render_help(topic)) == [], topic
    assert violations(render_backup_confirm("<!channel>" * 40, "c9q" + "x" * 90)) == []
