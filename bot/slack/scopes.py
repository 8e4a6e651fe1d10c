"""The bot scopes whose absence ``check`` reports: what posting and exactly-once delivery need.

The full table of which Web API method needs which scope lives with the test that holds
``manifest.yaml`` to exactly what the code calls (``tests/slack_scopes.py``).
"""

from __future__ import annotations

#: Without these nothing can be posted.
POST_SCOPES = frozenset({"chat:write"})
#: Without these a post whose answer was lost cannot be looked for: at-least-once delivery.
HISTORY_SCOPES = frozenset({"channels:history", "groups:history"})
#: Without these a reply cannot be in each person's Slack language (users.info): it is in the
#: channel's or the bot's.
LOCALE_SCOPES = frozenset({"users:read"})
#: Without these a digest's full table (a CSV file in its thread) cannot be shared.
FILE_SCOPES = frozenset({"files:write"})
