"""Fitting what a person reads into one message: text cut to a bound, and rows packed whole."""

from __future__ import annotations

import pytest

from bot.chat.card import Card, Note, Text
from bot.chat.pack import clip, cut_escaped, escape_clipped, pack
from bot.slack.blocks import SLACK
from bot.slack.budget import (
    MAX_BLOCK_TEXT,
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    block_text_length,
    violations,
)
from tests.slack.payload import slack

LIMITS = SLACK.limits


def section(text: str) -> Text:
    return Text(text)


def context(text: str) -> Note:
    return Note([text])


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
    packed = pack(
        rows,
        limits=LIMITS,
        head=[section("head")],
        foot=lambda left: [context(f"and {left} more in the thread")],
    )
    message = slack(Card(f"digest ({packed.left_count} more)", packed.parts))
    assert packed.shown + len(packed.left) == 30
    assert packed.left == tuple(rows[packed.shown :])
    assert violations(message.payload()) == []
    assert block_text_length(message.blocks) <= MAX_BLOCK_TEXT
    shown_text = "\n\n".join(b["text"]["text"] for b in message.blocks[1:-1])
    assert shown_text == "\n\n".join(rows[: packed.shown])  # whole rows, none cut
    assert packed.parts[-1] == context(f"and {len(packed.left)} more in the thread")
    assert message.text == f"digest ({len(packed.left)} more)"
    # Nine rows and the foot take 9,036 characters; a tenth would make it over 10,000.
    assert packed.shown == 9


def test_rows_share_sections_up_to_the_section_limit() -> None:
    rows = ["y" * 1400] * 5
    packed = pack(rows, limits=LIMITS, sep="\n")
    assert packed.shown == 5
    assert [len(b["text"]["text"]) for b in slack(Card("t", packed.parts)).blocks] == [
        2801,
        2801,
        1400,
    ]


def test_a_page_never_holds_more_than_fifty_blocks() -> None:
    rows = ["z" * 2999] * 3 + ["short"] * 200
    packed = pack(rows, limits=LIMITS, head=[section("h")] * 45, max_rows=None)
    assert len(slack(Card("t", packed.parts)).blocks) <= MAX_BLOCKS
    assert packed.shown < len(rows)


def test_max_rows_stops_early_even_when_more_fit() -> None:
    packed = pack(["a", "b", "c"], limits=LIMITS, max_rows=2)
    assert (packed.shown, packed.left) == (2, ("c",))


def test_a_row_longer_than_a_section_is_a_bug_not_a_silent_cut() -> None:
    with pytest.raises(ValueError, match="cannot fill a section"):
        pack(["x" * (MAX_SECTION_TEXT + 1)], limits=LIMITS)
