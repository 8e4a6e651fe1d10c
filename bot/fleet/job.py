"""What a scheduled run over the fleet is made of (the sweep, the digests): the cloud it reads,
the state it keeps, the config, who this process is among replicas (claims carry it), how to tell
the delivery executor that posts were queued, and the chat its posts are rendered for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING

from bot.chat.card import Chat
from bot.slack.blocks import SLACK

if TYPE_CHECKING:
    from bot.cloud.client import CloudClient
    from bot.config import BotConfig
    from bot.ops.metrics import Metrics
    from bot.store import Store


@dataclass(eq=False, repr=False)
class FleetJob:
    """The parts a run over the fleet shares with the others (see the module docstring)."""

    cloud: CloudClient
    store: Store
    config: BotConfig
    _: KW_ONLY
    console_url: str
    owner: str
    metrics: Metrics | None = None
    #: Called after posts were queued in the outbox, so the executor sends them at once.
    queued: Callable[[], None] | None = None
    #: What the cards are rendered for, and whose limits they are packed within (wiring passes
    #: it; Slack when a test does not say).
    chat: Chat = SLACK

    def _queued(self) -> None:
        if self.queued is not None:
            self.queued()
