"""Escaping for Slack mrkdwn.

Slack asks for exactly three characters to be escaped in message text: ``&``, ``<`` and ``>``.
That is what stops an index named ``<!channel>`` from notifying a channel. Anything from the cloud
or from a user goes through :func:`escape` before it is put into mrkdwn.
"""

from __future__ import annotations


def escape(text: object) -> str:
    """Escape ``&``, ``<`` and ``>`` (in that order, so ``&`` is never escaped twice)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: object) -> str:
    """Inline code, escaped; backticks in the value are replaced so the span cannot break out."""
    return "`" + escape(text).replace("`", "'") + "`"


def link(url: str, label: object) -> str:
    """A mrkdwn link. The URL is ours (console base + ids); the label is escaped, and ``|``
    is removed from it because it would end the label early."""
    return f"<{escape(url)}|{escape(label).replace('|', '¦')}>"


def mention(slack_id: str) -> str:
    """Mention a user (U..., W...) or a user group (S...)."""
    if slack_id.startswith("S"):
        return f"<!subteam^{slack_id}>"
    return f"<@{slack_id}>"
