"""The bot's notices about Slack itself: a channel that refuses its posts, and its recovery.

Posted in the bot's other channels (the broken one cannot be told). The channel is named with
Slack's channel mention, so a reader can click through; the error code is Slack's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.chat.card import Card, Text
from bot.chat.mrkdwn import escape
from bot.durations import format_duration
from bot.freshness.messages import slack_date

_HOW_TO_FIX = {
    "not_in_channel": "invite the bot there (`/invite @Backups`)",
    "channel_not_found": "check the channel id in the config, or invite the bot if the channel "
    "is private",
    "is_archived": "unarchive the channel, or point the config at another one",
    "channel_is_archived": "unarchive the channel, or point the config at another one",
}


def _channel(channel: str) -> str:
    return f"<#{escape(channel)}>"


def render_channel_refused(channel: str, code: str, now: datetime) -> Card:
    """Slack refuses the bot's posts to ``channel`` with ``code``."""
    fix = _HOW_TO_FIX.get(code, "check the bot's access to it")
    text = (
        f":warning: *I cannot post to {_channel(channel)}*: Slack answers `{escape(code)}` "
        f"since {slack_date(now)}. Its alerts and digests are kept and go out once it works: "
        f"{fix}. I try again every hour and whenever I restart."
    )
    fallback = f"The backups bot cannot post to channel {channel}: Slack answers {code}."
    return Card(fallback, [Text(text)])


def render_channel_recovered(channel: str, since: datetime | None, now: datetime) -> Card:
    """``channel`` takes the bot's posts again (in the thread of the notice above)."""
    after = ""
    if since is not None:
        after = f" after {format_duration(max(now - since, timedelta(0)))}"
    text = (
        f":white_check_mark: {_channel(channel)} takes my posts again{after}; what was kept "
        "for it is being delivered."
    )
    return Card(text, [Text(text)])
