"""A card as Slack gets it, in the shape the message tests read: its fallback text and blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.chat.card import Card
from bot.slack.blocks import SLACK


@dataclass(frozen=True)
class Payload:
    """The ``text`` and ``blocks`` of a chat.postMessage body."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.blocks:
            out["blocks"] = self.blocks
        return out


def slack(card: Card) -> Payload:
    """``card`` rendered by the one Slack renderer (which refuses a payload over budget)."""
    rendered = SLACK.render(card)
    return Payload(rendered["text"], list(rendered.get("blocks", [])))


def slack_all(cards: list[Card]) -> list[Payload]:
    return [slack(card) for card in cards]
