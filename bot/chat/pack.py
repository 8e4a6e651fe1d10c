"""Fitting what a person reads into one message: the one packer, and text cut to a bound.

:func:`pack` is what every renderer with an unbounded number of rows uses: it places whole rows
(never cut) after the head parts and before the foot parts, within a chat's :class:`Limits`, and
says how many it placed, so the caller can say "and 412 more in the thread" or offer a Next
page. Rows of text are joined into paragraphs; a row may also be a few parts placed together
(a divider and a group's paragraphs), all of them or none.

The text helpers bound values measured on the final strings, after escaping (which can grow
text from the cloud five times).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import overload

from bot.chat.card import Limits, Part, Text, measure_all
from bot.chat.mrkdwn import escape

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


#: A row: text joined into paragraphs, or parts placed together (all of them or none).
Row = str | Sequence[Part]


@dataclass(frozen=True, slots=True)
class Packed:
    """The parts of a message holding the first ``shown`` rows; the rest did not fit."""

    parts: tuple[Part, ...]
    shown: int
    rows: Sequence[Row]

    @property
    def left(self) -> tuple[Row, ...]:
        """The rows that did not fit, in order (rendered now, if they were lazy)."""
        return tuple(self.rows[self.shown :])

    @property
    def left_count(self) -> int:
        return len(self.rows) - self.shown


Foot = Sequence[Part] | Callable[[int], Sequence[Part]]


def pack(
    rows: Sequence[Row],
    *,
    limits: Limits,
    head: Sequence[Part] = (),
    foot: Foot = (),
    max_rows: int | None = None,
    sep: str = "\n\n",
    lead: str = "",
) -> Packed:
    """Put as many whole ``rows`` as fit, in order, between ``head`` and ``foot``, within
    ``limits``: parts in all, characters in all, characters of a paragraph.

    Text rows are joined with ``sep`` into paragraphs of at most ``limits.paragraph``
    characters; a row is never cut, so each must fit a paragraph alone (renderers bound what
    they put in one). ``lead`` opens the first paragraph (a title the rows follow), placed even
    when no row fits. ``foot`` may be a function of how many rows are left out, so that it can
    say so. ``rows`` may be :class:`LazyRows`: only the rows looked at are rendered.
    """
    foot_of = _foot_function(foot)
    limit = len(rows) if max_rows is None else min(max_rows, len(rows))
    body: list[str | Part] = []  # a str is a paragraph still open to more rows
    used_parts = len(head)
    used_text = measure_all(head)

    def fits(parts: int, chars: int, left: int) -> bool:
        tail = foot_of(left)
        return parts + len(tail) <= limits.parts and chars + measure_all(tail) <= limits.text

    if lead:
        if len(lead) > limits.paragraph or not fits(
            used_parts + 1, used_text + len(lead), len(rows)
        ):
            limit = 0  # not even the title fits: nothing does
        else:
            body.append(lead)
            used_parts, used_text = used_parts + 1, used_text + len(lead)
    placed = 0
    while placed < limit:
        row = rows[placed]
        left = len(rows) - placed - 1
        if isinstance(row, str):
            if not row or len(row) > limits.paragraph:
                raise ValueError(f"a row of {len(row)} characters cannot fill a section of text")
            last = body[-1] if body else None
            joined = isinstance(last, str) and (len(last) + len(sep) + len(row) <= limits.paragraph)
            if joined:
                parts, chars = used_parts, used_text + len(sep) + len(row)
            else:
                parts, chars = used_parts + 1, used_text + len(row)
            if not fits(parts, chars, left):
                break
            if joined:
                body[-1] = f"{body[-1]}{sep}{row}"
            else:
                body.append(row)
        else:
            group = tuple(row)
            parts, chars = used_parts + len(group), used_text + measure_all(group)
            if not fits(parts, chars, left):
                break
            body.extend(group)
        used_parts, used_text = parts, chars
        placed += 1
    packed = [Text(item) if isinstance(item, str) else item for item in body]
    return Packed((*head, *packed, *foot_of(len(rows) - placed)), placed, rows)


def paragraphs(
    lines: Sequence[str], *, limits: Limits, lead: str = "", sep: str = "\n"
) -> list[Part]:
    """``lines`` (after ``lead``) joined into as few paragraphs as hold them, with no bound on
    how many: for a few lines known to fit, such as a cluster's explanation."""
    unbounded = dataclasses.replace(limits, parts=sys.maxsize, text=sys.maxsize)
    return list(pack(lines, limits=unbounded, sep=sep, lead=lead).parts)


def _foot_function(foot: Foot) -> Callable[[int], Sequence[Part]]:
    if callable(foot):
        return foot
    fixed = list(foot)
    return lambda _left: fixed
