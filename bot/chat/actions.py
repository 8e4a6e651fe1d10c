"""Buttons, declared once, and what a click or a command is answered with.

A feature declares each of its buttons as one :class:`Action` (its id, its label, how its value
is written and read back, and which command's access rule a click is checked against) and binds
it to the handler that answers it (:meth:`Action.bind`). Its messages show the button from the
same declaration (:meth:`Action.button`), the router answers exactly the bound actions, and the
chat adapters listen for exactly their ids: adding a button is one entry and one handler.

A button's value comes back from the chat as any stranger could write it: every codec checks
what it reads and refuses, with :class:`BadButtonValue`, what the bot did not make.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from bot.chat.card import Button, Confirm, Style
from bot.errors import UsageError
from bot.i18n.catalog import N_, _

V = TypeVar("V")

#: Longest button value the bot will even try to read (Slack's own limit is 2,000).
MAX_VALUE = 2000
#: Longest cluster id (or name) a button may carry.
MAX_ID_LENGTH = 50

BAD_BUTTON = N_("This button's value is not one the bot made, so I ignored it.")
BAD_BUTTON_HINT = N_("Run the command again, e.g. `/backups list <cluster>`.")


class BadButtonValue(UsageError):
    """A button's value is not one the bot rendered (edited, forged, or from an old version)."""

    def __init__(self) -> None:
        super().__init__(_(BAD_BUTTON), hint=_(BAD_BUTTON_HINT))


@dataclass(frozen=True)
class Invocation:
    """Who asked, and where. ``message_ts`` is the clicked message's, for button actions."""

    user_id: str
    channel_id: str
    user_groups: frozenset[str] = frozenset()
    message_ts: str | None = None
    #: The asker's language, from their chat profile (``ru``); None: the channel's or the bot's.
    locale: str | None = None


@dataclass
class Answer:
    """What a command or a click is answered with: cards in order, to the asker only
    (``ephemeral``) or to the channel; ``replace_original`` replaces the clicked message."""

    messages: list[Any]
    ephemeral: bool = True
    replace_original: bool = False


class Codec(Protocol[V]):
    """How a button's value is written, and read back from whoever sends it."""

    def encode(self, value: V) -> str: ...

    def decode(self, raw: str) -> V: ...


Handler = Callable[[V, Invocation, datetime], Awaitable[Answer]]


@dataclass(frozen=True, eq=False)
class Action(Generic[V]):
    """One button: its id, its label, its value's codec and the command whose access rule a
    click is checked against (``reaches_cloud``: whether a click counts against rate limits)."""

    id: str
    #: A template marked with ``N_``: the label is said in the reader's language.
    label: str
    command: str
    codec: Codec[V]
    reaches_cloud: bool = True
    #: Whether the label may hold emoji shortcodes (``:eyes:``) to show as pictures.
    emoji: bool = False

    def bind(self, handler: Handler[V]) -> BoundAction:
        """This action, answered by ``handler``."""
        return BoundAction(self, handler)

    def value(self, value: V) -> str:
        """The button value that carries ``value``."""
        return self.codec.encode(value)

    def button(
        self,
        value: V,
        *,
        style: Style | None = None,
        confirm: Confirm | None = None,
        url: str | None = None,
    ) -> Button:
        """The button of a card that sends this action with ``value`` (and, given a ``url``,
        opens it too: the click still comes to the bot, which answers it)."""
        return Button(
            self.id,
            _(self.label),
            self.value(value),
            style=style,
            confirm=confirm,
            url=url,
            emoji=self.emoji,
        )


@dataclass(frozen=True)
class BoundAction:
    """An action and the handler that answers it."""

    action: Action[Any]
    handler: Handler[Any]

    async def run(self, raw: str, inv: Invocation, now: datetime) -> Answer:
        """Read the value (refusing one the bot did not make) and answer the click."""
        return await self.handler(self.action.codec.decode(raw), inv, now)


# --- codecs ----------------------------------------------------------------------------------


def json_object(raw: str) -> dict[str, Any]:
    """A button value that must be a JSON object the bot wrote."""
    if not raw or len(raw) > MAX_VALUE:
        raise BadButtonValue()
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadButtonValue() from None
    if not isinstance(data, dict):
        raise BadButtonValue()
    return data


def compact_json(data: Mapping[str, Any]) -> str:
    """A JSON object as short as it can be written (button values are bounded)."""
    return json.dumps(dict(data), separators=(",", ":"))


@dataclass(frozen=True)
class JsonCodec(Generic[V]):
    """A value written as a compact JSON object and read back through ``read``, which raises
    :class:`BadButtonValue` for anything the bot did not write."""

    write: Callable[[V], Mapping[str, Any]]
    read: Callable[[dict[str, Any]], V] = field(repr=False)

    def encode(self, value: V) -> str:
        return compact_json(self.write(value))

    def decode(self, raw: str) -> V:
        return self.read(json_object(raw))


@dataclass(frozen=True)
class TextCodec:
    """A value written as it is, read back through ``read`` (which checks it)."""

    read: Callable[[str], str]

    def encode(self, value: str) -> str:
        return value

    def decode(self, raw: str) -> str:
        return self.read(raw)


def check_cluster_id(value: object) -> str:
    """A cluster id (or name) as a button carries it; refused if it could not be one."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_ID_LENGTH
        or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in value)
    ):
        raise BadButtonValue()
    return value
