"""Which silence, if any, holds a cluster at a moment: pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.cloud.models import Cluster
from bot.fleet.match import matches, parse_match
from bot.silences.model import Silence


def applies(silence: Silence, cluster: Cluster) -> bool:
    """Whether the silence's match takes in ``cluster`` (a match that cannot be read, stored
    by an older version, takes in nothing)."""
    try:
        match = parse_match(silence.match)
    except ValueError:
        return False
    return matches(match, cluster)


def silence_for(silences: Iterable[Silence], cluster: Cluster, now: datetime) -> Silence | None:
    """The silence that holds ``cluster`` at ``now``: of those that do, the one that ends last
    (then the lowest id), or None."""
    holding = [s for s in silences if s.active(now) and applies(s, cluster)]
    if not holding:
        return None
    return max(holding, key=lambda s: (s.ends_at, -s.id))
