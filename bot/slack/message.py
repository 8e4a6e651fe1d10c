"""The message value every renderer returns, and Slack's size limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Slack's documented limits for a message and its blocks.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_TEXT = 75
MAX_CONTEXT_ELEMENTS = 10
MAX_HEADER_TEXT = 150
MAX_MESSAGE_TEXT = 40000
MAX_ACTION_ID = 255


@dataclass(frozen=True)
class Message:
    """A Slack message: the plain-text fallback (always present) and Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The ``text``/``blocks`` part of a chat.postMessage or response_url body."""
        out: dict[str, Any] = {"text": self.text}
        if self.blocks:
            out["blocks"] = self.blocks
        return out
