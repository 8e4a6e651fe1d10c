"""Cards as Slack gets them: the one renderer from :class:`~bot.chat.card.Card` to Block Kit.

Every part becomes one block: a header, a ``mrkdwn`` section, a section of fields, a context, a
divider, an actions block of buttons. The card's text is already Slack's markup (mrkdwn), so it
is copied as it is, and :func:`bot.chat.card.measure` of a part is exactly the block text Slack
counts for its block. Every payload is checked against Slack's budget before it leaves
(:func:`bot.slack.budget.checked`): a card over it is a bug of ours.

:data:`SLACK` is the :class:`~bot.chat.card.Chat` the bot speaks in, wired in by
:mod:`bot.app.wiring`.
"""

from __future__ import annotations

from typing import Any

from bot.chat.card import (
    Button,
    Card,
    Confirm,
    Divider,
    Fields,
    Header,
    Limits,
    Note,
    Part,
    Text,
)
from bot.slack.budget import (
    MAX_ACTIONS_ELEMENTS,
    MAX_BLOCK_TEXT,
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FALLBACK_TEXT,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
    checked,
)

Block = dict[str, Any]

#: Slack's limits for one message, in the terms of a card.
SLACK_LIMITS = Limits(
    parts=MAX_BLOCKS,
    text=MAX_BLOCK_TEXT,
    paragraph=MAX_SECTION_TEXT,
    field=MAX_FIELD_TEXT,
    fields=MAX_SECTION_FIELDS,
    notes=MAX_CONTEXT_ELEMENTS,
    header=MAX_HEADER_TEXT,
    buttons=MAX_ACTIONS_ELEMENTS,
    label=MAX_BUTTON_TEXT,
    value=MAX_BUTTON_VALUE,
    fallback=MAX_FALLBACK_TEXT,
)


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, *, emoji: bool = False) -> Block:
    block: Block = {"type": "plain_text", "text": text}
    if emoji:
        block["emoji"] = True
    return block


def _anchored(block: Block, anchor: str | None) -> Block:
    if anchor is not None:
        block["block_id"] = anchor
    return block


def _confirm(confirm: Confirm) -> Block:
    return {
        "title": _plain(confirm.title),
        "text": _plain(confirm.text),
        "confirm": _plain(confirm.confirm),
        "deny": _plain(confirm.deny),
    }


def _button(button: Button) -> Block:
    element: Block = {
        "type": "button",
        "action_id": button.action,
        "text": _plain(button.label, emoji=button.emoji),
    }
    if button.value:
        element["value"] = button.value
    if button.style is not None:
        element["style"] = button.style
    if button.url is not None:
        element["url"] = button.url
    if button.confirm is not None:
        element["confirm"] = _confirm(button.confirm)
    return element


def render_block(part: Part) -> Block:
    """One part as its Block Kit block."""
    if isinstance(part, Header):
        return {"type": "header", "text": _plain(part.text, emoji=True)}
    if isinstance(part, Text):
        return _anchored({"type": "section", "text": _mrkdwn(part.text)}, part.anchor)
    if isinstance(part, Fields):
        fields = [_mrkdwn(item) for item in part.items]
        return _anchored({"type": "section", "fields": fields}, part.anchor)
    if isinstance(part, Note):
        return {"type": "context", "elements": [_mrkdwn(item) for item in part.items]}
    if isinstance(part, Divider):
        return {"type": "divider"}
    elements = [_button(button) for button in part.buttons]
    return _anchored({"type": "actions", "elements": elements}, part.anchor)


class SlackChat:
    """Slack as a :class:`~bot.chat.card.Chat`: its limits, and cards rendered to Block Kit."""

    limits = SLACK_LIMITS

    def render(self, card: Card) -> dict[str, Any]:
        """The ``text``/``blocks`` part of a chat.postMessage, chat.update or response_url body;
        :class:`~bot.slack.budget.OverBudget` if Slack would refuse it."""
        payload: dict[str, Any] = {"text": card.text}
        if card.parts:
            payload["blocks"] = [render_block(part) for part in card.parts]
        return checked(payload)


#: The chat the bot speaks in.
SLACK = SlackChat()
