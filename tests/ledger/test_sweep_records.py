"""The sweep keeps what it reads in the ledger, with no extra cloud request, and nothing in a
dry run."""

from __future__ import annotations

from datetime import timedelta

from bot.alerts.sweep import Sweeper
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.ledger.model import ClusterState, Span
from bot.store import Store
from tests.world import CONSOLE_URL, IDS, NOW, HoldingSim

HOUR = timedelta(hours=1)


def _sweeper(cloud: CloudClient, store: Store, config: BotConfig) -> Sweeper:
    return Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="replica-a")


async def test_a_sweep_keeps_each_backup_the_state_and_the_maximum_age(
    sim: HoldingSim, cloud: CloudClient, store: Store, config: BotConfig
) -> None:
    result = await _sweeper(cloud, store, config).run(now=NOW)
    assert result.ok

    histories = {
        h.cluster_id: h
        for h in await store.ledger.histories(start=NOW - timedelta(days=30), end=NOW + HOUR)
    }
    # Every watched cluster whose backups could be read; the unwatched folder's is not there.
    assert set(histories) == {IDS.stale, IDS.fresh, IDS.stopped, IDS.never, IDS.prestable}
    stale = histories[IDS.stale]
    assert [NOW - b.completed_at for b in stale.backups] == [
        timedelta(days=3, hours=30),
        timedelta(days=2, hours=30),
        timedelta(hours=30),
    ]
    assert stale.spans == (Span(NOW - timedelta(days=3, hours=30), NOW),)
    assert [(m.max_age, m.source) for m in stale.max_ages] == [(timedelta(hours=26), "schedule")]
    assert [s.state for s in histories[IDS.stopped].states] == [ClusterState.STOPPED]
    # A cluster with no backup is vouched for from the first read on, not before.
    assert histories[IDS.never].spans == (Span(NOW, NOW),)


async def test_the_next_sweep_extends_what_was_kept_and_adds_the_new_backup(
    sim: HoldingSim, cloud: CloudClient, store: Store, config: BotConfig
) -> None:
    sweeper = _sweeper(cloud, store, config)
    await sweeper.run(now=NOW)
    later = NOW + timedelta(hours=1)
    sim.add_backup(IDS.stale, created_at=later - timedelta(minutes=5))
    await sweeper.run(now=later)

    [stale] = await store.ledger.histories(
        start=NOW - timedelta(days=30), end=later + timedelta(1), cluster_ids=[IDS.stale]
    )
    assert len(stale.backups) == 4
    assert stale.spans == (Span(NOW - timedelta(days=3, hours=30), later),)


async def test_a_dry_run_keeps_nothing(
    sim: HoldingSim, cloud: CloudClient, store: Store, config: BotConfig
) -> None:
    await _sweeper(cloud, store, config).run(now=NOW, dry_run=True)
    assert await store.ledger.cluster_ids() == []
