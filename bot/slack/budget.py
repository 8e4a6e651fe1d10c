"""Slack's budget for one message: measure it, list what breaks it, and pack rows within it.

The limits are Slack's real ones, measured on the final strings (after escaping, which can grow
text from the cloud five times): 50 blocks; 3,000 characters of section text; 10 fields of 2,000;
a header of 150; and, across all the blocks of a message, about 12,000 characters of text before
Slack refuses it with ``msg_blocks_too_long`` (undocumented, seen as low as ~11,300: we budget
10,000). The ``text`` fallback stays within 4,000.

:func:`pack_rows` is what renderers with an unbounded number of rows use: it places whole rows
(never cut) after the head blocks and before the foot blocks, and returns the message that fits
plus the rows left over, so the caller can say "and 412 more in the thread" or offer a Next page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, overload

from bot.chat.mrkdwn import escape
from bot.slack.message import (
    MAX_ACTION_ID,
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
    Message,
)

Block = dict[str, Any]

#: Characters of text across all the blocks of one message (Slack refuses about 12,000).
MAX_BLOCK_TEXT = 10_000
#: Characters of the plain-text ``text`` fallback.
MAX_FALLBACK_TEXT = 4_000
#: Elements of one actions block.
MAX_ACTIONS_ELEMENTS = 25


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


def measure(message: Message) -> Size:
    """The blocks, block text and fallback length of ``message``."""
    return Size(len(message.blocks), block_text_length(message.blocks), len(message.text))


def violations(message: Message) -> list[str]:
    """Every way ``message`` breaks Slack's limits, one line each; empty when it is within."""
    problems: list[str] = []
    size = measure(message)
    if not message.text.strip():
        problems.append("the text fallback is empty")
    if size.fallback > MAX_FALLBACK_TEXT:
        problems.append(
            f"the text fallback has {size.fallback} characters (max {MAX_FALLBACK_TEXT})"
        )
    if size.blocks > MAX_BLOCKS:
        problems.append(f"{size.blocks} blocks (max {MAX_BLOCKS})")
    if size.block_text > MAX_BLOCK_TEXT:
        problems.append(f"{size.block_text} characters of block text (max {MAX_BLOCK_TEXT})")
    for number, block in enumerate(message.blocks, start=1):
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


def within_budget(message: Message) -> bool:
    """Whether Slack would take ``message`` as far as its size and shape go."""
    return not violations(message)


def checked(message: Message) -> Message:
    """``message`` unchanged if it is within budget; :class:`OverBudget` if not (a bug)."""
    problems = violations(message)
    if problems:
        raise OverBudget(problems)
    return message


# --- text that must fit ----------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters with an ellipsis, never inside an entity
    (``&amp;``) an earlier :func:`escape` made."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # do not leave half an entity
    return cut + "…"


def cut_escaped(text: str, limit: int) -> str:
    """The longest start of plain ``text`` (with an ellipsis if cut) whose escaped form takes at
    most ``limit`` characters: for values escaped later, such as a link's label."""
    if len(escape(text)) <= limit:
        return text
    out: list[str] = []
    room = limit - 1  # the ellipsis
    for char in text:
        room -= len(escape(char))
        if room < 0:
            break
        out.append(char)
    return "".join(out) + "…"


def escape_clipped(value: object, limit: int) -> str:
    """``value`` escaped for mrkdwn and cut to ``limit`` characters as measured after escaping."""
    return clip(escape(value), limit)


# --- packing rows ----------------------------------------------------------------------------


class LazyRows(Sequence[str]):
    """``count`` rows, each rendered the first time it is needed: a page of a 3,000-row view
    renders only the rows it looks at."""

    def __init__(self, count: int, render: Callable[[int], str]) -> None:
        self._count = max(count, 0)
        self._render = render
        self._done: dict[int, str] = {}

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        if index not in self._done:
            self._done[index] = self._render(index)
        return self._done[index]


@dataclass(frozen=True, slots=True)
class Packed:
    """A message holding the first ``shown`` rows; ``left`` are the rows that did not fit."""

    message: Message
    shown: int
    rows: Sequence[str]

    @property
    def left(self) -> tuple[str, ...]:
        """The rows that did not fit, in order (rendered now, if they were lazy)."""
        return tuple(self.rows[self.shown :])

    @property
    def left_count(self) -> int:
        return len(self.rows) - self.shown


Foot = Sequence[Block] | Callable[[int], Sequence[Block]]
Fallback = str | Callable[[int], str]


def pack_rows(
    rows: Sequence[str],
    *,
    text: Fallback,
    head: Sequence[Block] = (),
    foot: Foot = (),
    max_rows: int | None = None,
    sep: str = "\n\n",
) -> Packed:
    """Put as many whole ``rows`` (mrkdwn) as fit, in order, into sections between ``head`` and
    ``foot``, within every limit.

    ``foot`` and ``text`` (the fallback) may be functions of how many rows are left out, so that
    they can say so. Rows are joined with ``sep`` into sections of at most 3,000 characters; a
    row is never cut, so each must fit a section alone (renderers bound what they put in one).
    ``rows`` may be :class:`LazyRows`: only the rows looked at are rendered.
    """
    foot_of = _foot_function(foot)
    limit = len(rows) if max_rows is None else min(max_rows, len(rows))
    head_blocks = list(head)
    used_blocks = len(head_blocks)
    used_text = block_text_length(head_blocks)

    def fits(blocks: int, chars: int, left: int) -> bool:
        tail = foot_of(left)
        return (
            blocks + len(tail) <= MAX_BLOCKS
            and chars + block_text_length(list(tail)) <= MAX_BLOCK_TEXT
        )

    sections: list[str] = []
    placed = 0
    while placed < limit:
        row = rows[placed]
        if not row or len(row) > MAX_SECTION_TEXT:
            raise ValueError(f"a row of {len(row)} characters cannot fill a section")
        if sections and len(sections[-1]) + len(sep) + len(row) <= MAX_SECTION_TEXT:
            blocks, chars = used_blocks, used_text + len(sep) + len(row)
            joined = True
        else:
            blocks, chars = used_blocks + 1, used_text + len(row)
            joined = False
        if not fits(blocks, chars, len(rows) - placed - 1):
            break
        if joined:
            sections[-1] = sections[-1] + sep + row
        else:
            sections.append(row)
        used_blocks, used_text = blocks, chars
        placed += 1
    left = len(rows) - placed
    fallback = text(left) if callable(text) else text
    blocks_out = [*head_blocks, *(_section(s) for s in sections), *foot_of(left)]
    message = checked(Message(text=fallback, blocks=blocks_out))
    return Packed(message, placed, rows)


def _foot_function(foot: Foot) -> Callable[[int], Sequence[Block]]:
    if callable(foot):
        return foot
    fixed = list(foot)
    return lambda _left: fixed


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
