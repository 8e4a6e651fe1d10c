"""What the bot remembers of freshness between runs: the clusters it has seen with a snapshot
schedule, so that a schedule removed later is reported as such rather than as a stale cluster."""

from __future__ import annotations

import json
from collections.abc import Iterable

from bot.store import Store

#: Store fact: ids of clusters seen with a snapshot schedule (a JSON list).
FACT_HAD_SCHEDULE = "watch:had_schedule"


async def had_schedule_ids(store: Store) -> set[str]:
    """Ids of the clusters the sweep has seen with a snapshot schedule."""
    raw = await store.facts.get_fact(FACT_HAD_SCHEDULE)
    if not raw:
        return set()
    try:
        value = json.loads(raw)
    except ValueError:
        return set()
    return {str(v) for v in value} if isinstance(value, list) else set()


async def remember_schedules(store: Store, scheduled: Iterable[str], had: set[str]) -> None:
    """Add ``scheduled`` (clusters read with a snapshot schedule) to what is remembered."""
    now_scheduled = set(scheduled)
    if now_scheduled <= had:
        return
    await store.facts.set_fact(FACT_HAD_SCHEDULE, json.dumps(sorted(had | now_scheduled)))
