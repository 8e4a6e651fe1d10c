"""The ledger's figures for the demo fleet match an independent computation from the
simulator's own timeline: the bot's months of history replayed through the sweep's path
(what the cloud listed at each read, two weeks at a time) give, for every scheduled cluster,
exactly the time outside the objective and the time observed that walking the simulator's
backups pair by pair gives."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.demo import REPLAY_EVERY, demo_config, seed_ledger
from bot.cloud.client import CloudClient
from bot.demo.simcloud import SimCloud, SimConfig
from bot.demo.simcloud.fleet import Fleet, demo_fleet
from bot.demo.simcloud.history import LISTED_FOR, SimHistory, demo_history, replay_times
from bot.ledger.policy import ledger_of
from bot.store import Store
from tests.world import make_cloud

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
Interval = tuple[datetime, datetime]


@pytest.fixture
def fleet() -> Fleet:
    return demo_fleet(NOW)


@pytest.fixture
async def sim(fleet: Fleet) -> AsyncIterator[SimCloud]:
    async with SimCloud(SimConfig(latency=0.0), fleet=fleet) as running:
        yield running


@pytest.fixture
async def demo_cloud(sim: SimCloud) -> AsyncIterator[CloudClient]:
    client = make_cloud(sim)
    yield client
    await client.aclose()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}")
    yield store
    await store.close()


def _overlap(bad: list[Interval], cut: list[Interval], start: datetime, end: datetime) -> timedelta:
    """The length of ``bad`` within [start, end), ``cut`` taken out (each list disjoint)."""
    total = timedelta(0)
    for a, b in bad:
        a, b = max(a, start), min(b, end)
        if b <= a:
            continue
        total += b - a
        for c, d in cut:
            c, d = max(c, a), min(d, b)
            if d > c:
                total -= d - c
    return total


def _independent(
    history: SimHistory, cluster_id: str, max_age: timedelta, start: datetime, end: datetime
) -> tuple[timedelta, timedelta]:
    """(time outside the objective, time observed) from the simulator's timeline alone: after
    each backup, whatever passes beyond ``max_age`` before the next one (or the end) is outside;
    stopped time counts as neither."""
    completions = sorted(b.created_at for b in history.backups[cluster_id])
    bad = [
        (before + max_age, after)
        for before, after in itertools.pairwise([*completions, end])
        if after > before + max_age
    ]
    stopped = history.stopped.get(cluster_id, [])
    observed = (end - start) - _overlap(stopped, [], start, end)
    return _overlap(bad, stopped, start, end), observed


async def test_the_ledger_of_the_demo_fleet_matches_the_simulators_own_timeline(
    fleet: Fleet, demo_cloud: CloudClient, sqlite_store: Store
) -> None:
    history = demo_history(fleet, NOW)
    config = demo_config(fleet)
    reads = await seed_ledger(sqlite_store, demo_cloud, config, history)
    assert reads == len(replay_times(history, every=REPLAY_EVERY, until=NOW))

    end = replay_times(history, every=REPLAY_EVERY, until=NOW)[-1]
    start = history.start + LISTED_FOR + timedelta(days=1)
    histories = {h.cluster_id: h for h in await sqlite_store.ledger.histories(start=start, end=end)}
    grace = config.freshness.grace
    compared = 0
    breached = 0
    for cluster in fleet.clusters.values():
        if cluster.unreadable:
            assert cluster.id not in histories  # the bot could never read its backups
            continue
        if cluster.schedule is None:
            continue
        figures = ledger_of(histories[cluster.id], start=start, end=end, now=end, target=0.995)
        outside, observed = _independent(
            history, cluster.id, cluster.schedule.interval + grace, start, end
        )
        assert (cluster.name, figures.outside) == (cluster.name, outside)
        assert (cluster.name, figures.observed) == (cluster.name, observed)
        assert figures.unknown == timedelta(0)
        compared += 1
        breached += bool(figures.breaches)
    assert compared >= 20
    assert breached >= 5  # the weekend outage, the stopped week, the late ones of today


async def test_the_demo_history_has_its_weekend_outage_and_its_stopped_week(
    fleet: Fleet, demo_cloud: CloudClient, sqlite_store: Store
) -> None:
    history = demo_history(fleet, NOW)
    await seed_ledger(sqlite_store, demo_cloud, demo_config(fleet), history)
    assert history.outage is not None
    _, outage_start, outage_end = history.outage
    assert outage_start.weekday() == 5  # a Saturday
    logs = fleet.cluster_by_name("logs-prod")  # hourly, in the folder of the outage
    catalog = fleet.cluster_by_name("catalog-staging")  # stopped for a week
    start, end = outage_start - timedelta(days=10), outage_end + timedelta(days=50)
    [logs_history] = await sqlite_store.ledger.histories(
        start=start, end=end, cluster_ids=[logs.id]
    )
    figures = ledger_of(logs_history, start=start, end=end, now=end, target=0.995)
    worst = max(figures.breaches, key=lambda b: b.duration)
    assert outage_start < worst.start < outage_start + timedelta(hours=4)
    assert worst.end > outage_end
    assert worst.recovered
    [catalog_history] = await sqlite_store.ledger.histories(
        start=start, end=end, cluster_ids=[catalog.id]
    )
    stopped = ledger_of(catalog_history, start=start, end=end, now=end, target=0.995).stopped
    assert stopped == timedelta(days=7)
