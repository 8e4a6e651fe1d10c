"""What a person reads, as a chat-neutral card: every feature's messages are cards, and a chat's
renderer (``bot/slack/blocks.py`` for Slack) alone turns them into that chat's payload.

A :class:`Card` is a notification text (what a phone's banner, a screen reader or a client
without rich messages shows) and parts in order: a :class:`Header`, paragraphs of :class:`Text`,
:class:`Fields` (short labelled values side by side), a :class:`Note` (small print), a
:class:`Divider` and a row of :class:`Buttons`.

Text inside is our markup: Slack's mrkdwn as :mod:`bot.chat.mrkdwn` writes it (escaped ``&<>``,
``*bold*``, inline code, links, mentions, emoji shortcodes and ``<!date^...|fallback>`` tokens),
except where a part says it is plain (a header, a button's label, a confirmation). A second
chat's renderer translates this markup into its own.

:class:`Limits` is what one message may hold in a chat, in chat-neutral terms; :func:`measure`
counts the characters of a part a person reads, the one measure every packer and budget uses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Style = Literal["primary", "danger"]


def _tuple(owner: object, name: str) -> None:
    # Parts are values: a list handed in becomes a tuple, so cards compare and hash as values.
    object.__setattr__(owner, name, tuple(getattr(owner, name)))


@dataclass(frozen=True, slots=True)
class Header:
    """A title, in plain text (no markup)."""

    text: str


@dataclass(frozen=True, slots=True)
class Text:
    """A paragraph. ``anchor`` names it for the chat, for a message updated in place."""

    text: str
    anchor: str | None = None


@dataclass(frozen=True, slots=True)
class Fields:
    """Short labelled values shown side by side, each ``*Label*\\nvalue``."""

    items: Sequence[str]  # a tuple once made
    anchor: str | None = None

    def __post_init__(self) -> None:
        _tuple(self, "items")


@dataclass(frozen=True, slots=True)
class Note:
    """Small print under or between the rest: one line or a few side by side."""

    items: Sequence[str]  # a tuple once made

    def __post_init__(self) -> None:
        _tuple(self, "items")


@dataclass(frozen=True, slots=True)
class Divider:
    """A line between parts."""


@dataclass(frozen=True, slots=True)
class Confirm:
    """A question asked before a button acts, in plain text: title, text and both answers."""

    title: str
    text: str
    confirm: str
    deny: str


@dataclass(frozen=True, slots=True)
class Button:
    """A button: the ``action`` it sends with its ``value``, its plain-text ``label``.

    ``emoji`` says the label may hold emoji shortcodes (``:eyes:``) to show as pictures; a
    ``url`` makes it a link as well.
    """

    action: str
    label: str
    value: str = ""
    style: Style | None = None
    confirm: Confirm | None = None
    url: str | None = None
    emoji: bool = False


@dataclass(frozen=True, slots=True)
class Buttons:
    """A row of buttons. ``anchor`` names it for the chat."""

    buttons: Sequence[Button]  # a tuple once made
    anchor: str | None = None

    def __post_init__(self) -> None:
        _tuple(self, "buttons")


Part = Header | Text | Fields | Note | Divider | Buttons


@dataclass(frozen=True, slots=True)
class Card:
    """One message: its notification ``text`` (never empty) and its ``parts`` in order."""

    text: str
    parts: Sequence[Part] = ()  # a tuple once made

    def __post_init__(self) -> None:
        _tuple(self, "parts")


@dataclass(frozen=True, slots=True)
class Limits:
    """What one message may hold in a chat, in characters a person reads (:func:`measure`)."""

    parts: int  # parts in one message
    text: int  # characters of all parts together
    paragraph: int  # characters of one Text
    field: int  # characters of one item of Fields
    fields: int  # items of one Fields
    notes: int  # items of one Note
    header: int  # characters of a Header
    buttons: int  # buttons in one row
    label: int  # characters of a button's label
    value: int  # characters of a button's value
    fallback: int  # characters of the notification text

    def less(self, *, parts: int = 0, text: int = 0) -> Limits:
        """These limits with ``parts`` and ``text`` kept back for what is added after packing."""
        return dataclasses.replace(self, parts=self.parts - parts, text=self.text - text)


def measure(part: Part) -> int:
    """The characters of ``part`` a person reads: a header, a paragraph, fields, notes, button
    labels and their confirmation texts (not values, actions or links). For Slack this is
    exactly what it counts as block text."""
    if isinstance(part, Header | Text):
        return len(part.text)
    if isinstance(part, Fields | Note):
        return sum(len(item) for item in part.items)
    if isinstance(part, Buttons):
        total = 0
        for button in part.buttons:
            total += len(button.label)
            if button.confirm is not None:
                confirm = button.confirm
                total += len(confirm.title) + len(confirm.text)
                total += len(confirm.confirm) + len(confirm.deny)
        return total
    return 0


def measure_all(parts: Sequence[Part]) -> int:
    """The characters a person reads in all of ``parts``."""
    return sum(measure(part) for part in parts)


class Chat(Protocol):
    """A chat the bot speaks in: its limits, and its renderer from a card to its payload."""

    @property
    def limits(self) -> Limits:
        """What one message may hold."""
        ...

    def render(self, card: Card) -> dict[str, Any]:
        """``card`` as the payload this chat's API takes; a card over the limits is a bug."""
        ...
