"""What the Home tab shows one person, read from the store alone (no cloud read on open)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.alerts.model import AlertEntry, AlertStatus, CoverageEntry
from bot.freshness.model import FreshnessState
from bot.ledger.model import ClusterState, Latest

#: Open incidents shown with their buttons; the rest are counted ("and 412 more").
MAX_INCIDENTS = 20
#: The person's own snoozes shown with an Unsnooze button each.
MAX_SNOOZES = 8
#: Blocks kept for the person's silences (the silences feature fills them).
SILENCE_BLOCKS = 12

_STATUS_RANK = {AlertStatus.FIRING: 0, AlertStatus.ACKNOWLEDGED: 1, AlertStatus.SNOOZED: 2}


@dataclass(frozen=True)
class HomeData:
    """Everything the Home tab of ``user_id`` says, as read at ``now``.

    ``routes_mention_user``: whether any alert route mentions the person by their user id (a
    route that mentions a user group counts only for members the store knows, and it knows
    none: then the tab shows the incidents of every route and says so).
    """

    user_id: str
    now: datetime
    incidents: Sequence[AlertEntry]
    routes_mention_user: bool
    snoozes: Sequence[AlertEntry]
    counts: Counter[FreshnessState] = field(default_factory=Counter)
    watched: int = 0
    last_sweep: datetime | None = None
    last_digest: datetime | None = None


def incident_order(entry: AlertEntry) -> tuple[int, float, str]:
    """Firing first, then acknowledged, then snoozed; the longest-stale first within each."""
    since = entry.stale_since or entry.opened_at
    return (
        _STATUS_RANK.get(entry.status, 3),
        since.timestamp() if since is not None else float("inf"),
        entry.cluster_id,
    )


def fleet_counts(
    latest: Sequence[Latest], coverage: dict[str, CoverageEntry], now: datetime
) -> tuple[Counter[FreshnessState], int]:
    """Each watched cluster's state as the ledger last kept it, counted; and how many are
    watched. A cluster the bot watches but whose backups it never read is unknown; one it no
    longer watches is not counted."""
    counts: Counter[FreshnessState] = Counter()
    seen = set()
    for item in latest:
        known = coverage.get(item.cluster_id)
        if known is not None and not known.watching:
            continue
        seen.add(item.cluster_id)
        counts[_state_of(item, now)] += 1
    for cluster_id, known in coverage.items():
        if known.watching and cluster_id not in seen:
            counts[FreshnessState.UNKNOWN] += 1
    return counts, sum(counts.values())


def _state_of(item: Latest, now: datetime) -> FreshnessState:
    if item.state == ClusterState.STOPPED:
        return FreshnessState.STOPPED
    if item.newest_backup_at is None:
        return FreshnessState.NEVER
    if item.max_age is not None and now - item.newest_backup_at > item.max_age:
        return FreshnessState.STALE
    return FreshnessState.FRESH
