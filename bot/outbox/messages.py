"""The bot's notices about Slack itself: a channel that refuses its posts, and its recovery.

Posted in the bot's other channels (the broken one cannot be told). The channel is named with
Slack's channel mention, so a reader can click through; the error code is Slack's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.chat.card import Card, Text
from bot.chat.mrkdwn import escape
from bot.freshness.messages import slack_date
from bot.i18n.catalog import N_, _
from bot.i18n.units import say_duration

_HOW_TO_FIX = {
    "not_in_channel": N_("invite the bot there (`/invite @Backups`)"),
    "channel_not_found": N_(
        "check the channel id in the config, or invite the bot if the channel is private"
    ),
    "is_archived": N_("unarchive the channel, or point the config at another one"),
    "channel_is_archived": N_("unarchive the channel, or point the config at another one"),
}
_HOW_TO_FIX_ANY = N_("check the bot's access to it")


def _channel(channel: str) -> str:
    return f"<#{escape(channel)}>"


def render_channel_refused(channel: str, code: str, now: datetime) -> Card:
    """Slack refuses the bot's posts to ``channel`` with ``code``."""
    fix = _(_HOW_TO_FIX.get(code, _HOW_TO_FIX_ANY))
    said = _(
        "*I cannot post to {channel}*: Slack answers `{code}` since {when}. Its alerts and "
        "digests are kept and go out once it works: {fix}. I try again every hour and whenever "
        "I restart."
    ).format(channel=_channel(channel), code=escape(code), when=slack_date(now), fix=fix)
    text = f":warning: {said}"
    fallback = _("The backups bot cannot post to channel {channel}: Slack answers {code}.").format(
        channel=channel, code=code
    )
    return Card(fallback, [Text(text)])


def render_channel_recovered(channel: str, since: datetime | None, now: datetime) -> Card:
    """``channel`` takes the bot's posts again (in the thread of the notice above)."""
    if since is not None:
        said = _(
            "{channel} takes my posts again after {duration}; what was kept for it is being "
            "delivered."
        ).format(channel=_channel(channel), duration=say_duration(max(now - since, timedelta(0))))
    else:
        said = _("{channel} takes my posts again; what was kept for it is being delivered.")
        said = said.format(channel=_channel(channel))
    text = f":white_check_mark: {said}"
    return Card(text, [Text(text)])
