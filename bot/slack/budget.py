"""Slack's budget for one message: its limits, and every way a payload breaks them.

The limits are Slack's real ones, measured on the final strings (after escaping, which can grow
text from the cloud five times): 50 blocks; 3,000 characters of section text; 10 fields of 2,000;
a header of 150; and, across all the blocks of a message, about 12,000 characters of text before
Slack refuses it with ``msg_blocks_too_long`` (undocumented, seen as low as ~11,300: we budget
10,000). The ``text`` fallback stays within 4,000.

:func:`checked` runs on every payload :mod:`bot.slack.blocks` renders: a payload over budget is
a bug of ours (:class:`OverBudget`), never the reader's input, since every renderer bounds what it
puts in and packs with :func:`bot.chat.pack.pack` against these limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

#: Slack's documented limits for a message and its blocks.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_TEXT = 75
MAX_CONTEXT_ELEMENTS = 10
MAX_HEADER_TEXT = 150
MAX_ACTION_ID = 255
#: Characters of a message's ``text`` (chat.postMessage truncates longer text).
MAX_MESSAGE_TEXT = 40000
#: Characters of text across all the blocks of one message (Slack refuses about 12,000).
MAX_BLOCK_TEXT = 10_000
#: Characters of the plain-text ``text`` fallback.
MAX_FALLBACK_TEXT = 4_000
#: Elements of one actions block.
MAX_ACTIONS_ELEMENTS = 25

Block = dict[str, Any]
Payload = Mapping[str, Any]
_P = TypeVar("_P", bound=Payload)


class OverBudget(ValueError):
    """A renderer built a message Slack would refuse: a bug of ours, never the reader's input."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("message over Slack's budget: " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Size:
    """What one message spends of its budget."""

    blocks: int
    block_text: int  # characters of text across all blocks
    fallback: int  # characters of the ``text`` fallback


def block_text_length(blocks: Sequence[Block] | Block) -> int:
    """Characters of text in a block tree: every ``text`` string at any depth (sections, fields,
    context elements, headers, button labels, confirmation dialogs)."""
    total = 0
    stack: list[Any] = [blocks]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "text" and isinstance(value, str):
                    total += len(value)
                else:
                    stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return total


def measure(payload: Payload) -> Size:
    """The blocks, block text and fallback length of ``payload``."""
    blocks = list(payload.get("blocks") or [])
    return Size(len(blocks), block_text_length(blocks), len(str(payload.get("text", ""))))


def violations(payload: Payload) -> list[str]:
    """Every way ``payload`` breaks Slack's limits, one line each; empty when it is within."""
    problems: list[str] = []
    size = measure(payload)
    if not str(payload.get("text", "")).strip():
        problems.append("the text fallback is empty")
    if size.fallback > MAX_FALLBACK_TEXT:
        problems.append(
            f"the text fallback has {size.fallback} characters (max {MAX_FALLBACK_TEXT})"
        )
    if size.blocks > MAX_BLOCKS:
        problems.append(f"{size.blocks} blocks (max {MAX_BLOCKS})")
    if size.block_text > MAX_BLOCK_TEXT:
        problems.append(f"{size.block_text} characters of block text (max {MAX_BLOCK_TEXT})")
    for number, block in enumerate(payload.get("blocks") or [], start=1):
        problems += [f"block {number} ({block.get('type')}): {p}" for p in _block_problems(block)]
    return problems


def _too_long(what: str, text: object, limit: int) -> list[str]:
    if not isinstance(text, str):
        return [f"{what} is not a string"]
    if not text:
        return [f"{what} is empty"]
    if len(text) > limit:
        return [f"{what} has {len(text)} characters (max {limit})"]
    return []


def _block_problems(block: Block) -> list[str]:
    kind = block.get("type")
    problems: list[str] = []
    if kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append("a section needs text or fields")
        if "text" in block:
            problems += _too_long("text", block["text"].get("text"), MAX_SECTION_TEXT)
        fields = block.get("fields", [])
        if len(fields) > MAX_SECTION_FIELDS:
            problems.append(f"{len(fields)} fields (max {MAX_SECTION_FIELDS})")
        for n, item in enumerate(fields, start=1):
            problems += _too_long(f"field {n}", item.get("text"), MAX_FIELD_TEXT)
    elif kind == "header":
        problems += _too_long("header", block.get("text", {}).get("text"), MAX_HEADER_TEXT)
    elif kind == "context":
        elements = block.get("elements", [])
        if not 0 < len(elements) <= MAX_CONTEXT_ELEMENTS:
            problems.append(f"{len(elements)} context elements (1 to {MAX_CONTEXT_ELEMENTS})")
        for n, item in enumerate(elements, start=1):
            if "text" in item:
                problems += _too_long(f"element {n}", item["text"], MAX_SECTION_TEXT)
    elif kind == "actions":
        elements = block.get("elements", [])
        if not 0 < len(elements) <= MAX_ACTIONS_ELEMENTS:
            problems.append(f"{len(elements)} actions (1 to {MAX_ACTIONS_ELEMENTS})")
        for n, item in enumerate(elements, start=1):
            problems += _too_long(
                f"button {n} label", item.get("text", {}).get("text"), MAX_BUTTON_TEXT
            )
            if len(str(item.get("value", ""))) > MAX_BUTTON_VALUE:
                problems.append(f"button {n} value is over {MAX_BUTTON_VALUE} characters")
            if len(str(item.get("action_id", ""))) > MAX_ACTION_ID:
                problems.append(f"button {n} action_id is over {MAX_ACTION_ID} characters")
    return problems


def checked(payload: _P) -> _P:
    """``payload`` unchanged if it is within budget; :class:`OverBudget` if not (a bug)."""
    problems = violations(payload)
    if problems:
        raise OverBudget(problems)
    return payload
