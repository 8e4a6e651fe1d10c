"""What a silence is: a set of clusters, written as the config's match, that is not paged until
a moment; stored, so that it holds across restarts and replicas, and over by itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: The longest silence (a planned maintenance of a month, not "forever": a silence that is
#: forgotten must still end).
MAX_SILENCE = timedelta(days=30)
#: The most characters of a reason that are kept.
MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class Silence:
    """One silence as stored. ``match`` is the text as written (``folder:b1g…``,
    ``label:team=search``, ``environment:PRODUCTION``, a cluster id or name)."""

    id: int
    match: str
    created_by: str
    created_at: datetime
    ends_at: datetime
    reason: str = ""
    #: Who ended it early, and when (``unsilence``); None while it runs or once it ran out.
    lifted_by: str | None = None
    lifted_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Whether it silences anything at ``now``: not lifted, not yet over."""
        return self.lifted_at is None and now < self.ends_at
