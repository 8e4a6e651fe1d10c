"""Escaping for Slack mrkdwn: the functions live in :mod:`bot.core.mrkdwn` (the core needs them
too, and may not import this package); renderers import them from here."""

from __future__ import annotations

from bot.core.mrkdwn import code, escape, link, mention

__all__ = ["code", "escape", "link", "mention"]
