"""Telling people that Slack refuses the bot in a channel, and that it works again.

The delivery executor parks a channel that refuses the bot (not invited, archived) and calls
:class:`ChannelNotices`; it opens the bot incident ``channel:<id>`` (once per episode) and queues
a notice in the bot's *other* channels, since the broken one cannot be told; when the channel
takes a post again, the notices get an all-clear in their threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.alerts.plan import plan_self
from bot.alerts.self_policy import channel_key, evaluate_channel
from bot.chat.card import Chat
from bot.config import BotConfig
from bot.i18n.catalog import use_locale
from bot.outbox.messages import render_channel_recovered, render_channel_refused
from bot.slack.blocks import SLACK
from bot.store import Store

log = logging.getLogger(__name__)

#: Tries of a read-modify-commit of the channel's incident before giving up (each loser re-reads).
_TRIES = 3


def bot_channels(config: BotConfig) -> list[str]:
    """Every channel the bot posts to, self-alert channel and alert routes first."""
    channels = [config.sweep.self_alert_channel or ""]
    channels += [route.channel for route in config.alerts]
    channels += [route.channel for route in config.digests]
    return [c for c in dict.fromkeys(channels) if c]


class ChannelNotices:
    """The executor's :class:`~bot.outbox.executor.ChannelWatch`, backed by the store."""

    def __init__(
        self,
        store: Store,
        config: BotConfig,
        *,
        queued: Callable[[], None] | None = None,
        chat: Chat = SLACK,
    ) -> None:
        self.store = store
        self.config = config
        self.queued = queued
        self.chat = chat

    def _others(self, channel: str) -> list[str]:
        preferred = [c for c in bot_channels(self.config) if c != channel]
        if self.config.sweep.self_alert_channel and self.config.sweep.self_alert_channel != channel:
            return [self.config.sweep.self_alert_channel]
        alert_channels = [r.channel for r in self.config.alerts if r.channel != channel]
        return list(dict.fromkeys(alert_channels)) or preferred

    async def channel_refused(self, channel: str, code: str, now: datetime) -> None:
        await self._move(channel, code, now)

    async def channel_recovered(self, channel: str, now: datetime) -> None:
        await self._move(channel, None, now)

    async def _move(self, channel: str, code: str | None, now: datetime) -> None:
        for _ in range(_TRIES):
            incident = await self.store.incidents.get_incident(channel_key(channel))
            decision = evaluate_channel(incident, channel, refused=code, now=now)
            others = self._others(channel)
            with use_locale(self.config.locale):  # one notice for every channel
                opened = render_channel_refused(channel, code or "", now)
                closed = render_channel_recovered(channel, decision.incident.since, now)
            change = plan_self(
                decision, chat=self.chat, channels=others, opened=opened, closed=closed
            )
            if not change:
                return
            if await self.store.commit(change, now=now) is not None:
                if change.posts and self.queued is not None:
                    self.queued()
                if code is not None and not others:
                    log.warning("no other channel to tell that %s refuses the bot", channel)
                return
        log.warning("the incident of channel %s kept changing; not announced", channel)
