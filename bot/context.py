"""What the sweep, the digests and the alert service are built from: one base for the three."""

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
    from bot.slack.notifier import SlackNotifier
    from bot.store import Store

#: What a run says when another replica holds its claim.
SKIPPED_CLAIM = "another replica got there first"


@dataclass(eq=False, repr=False)
class WatchPart:
    """The cloud to read, the state to keep, Slack (for the few direct reads; None: only
    print), the config, where cluster links point, who this process is among replicas (claims
    carry it), how to tell the delivery executor that posts were queued, and the chat whose
    payloads the posts are (wiring passes it; Slack unless told)."""

    cloud: CloudClient
    store: Store
    notifier: SlackNotifier | None
    config: BotConfig
    _: KW_ONLY
    console_url: str
    owner: str
    metrics: Metrics | None = None
    #: Called after posts were queued in the outbox, so the executor sends them at once.
    queued: Callable[[], None] | None = None
    #: What the cards are rendered for, and whose limits they are packed within.
    chat: Chat = SLACK

    def _queued(self) -> None:
        if self.queued is not None:
            self.queued()
