"""The drills' pass after every sweep, against the simulated cloud: leftovers reaped and reported
once, drills started once per period within max_concurrent, drill clusters never watched."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import clock
from bot.cloud.client import CloudClient
from bot.cloud.models import Cluster
from bot.config import BotConfig
from bot.demo.simcloud import DRILL_LABEL, SimCloud, SimCluster
from bot.drills.model import DrillOutcome
from bot.drills.service import DrillService, TooManyDrills
from bot.fleet.match import watched
from bot.outbox.posts import PostKind
from bot.store import Store
from tests.drills.conftest import drill_config
from tests.waiting import wait_until
from tests.world import FOLDER, IDS, make_config


def service(cloud: CloudClient, store: Store, config: BotConfig) -> DrillService:
    return DrillService(cloud, store, config, owner="replica-a", poll_interval=0.02)


def leftover(sim: SimCloud, *, age: timedelta, drill: str = "dgone") -> SimCluster:
    cluster = SimCluster(
        id="c9qleftover000000001",
        folder_id=FOLDER,
        name="backups-drill-orders-prod-20261101",
        created_at=clock.now() - age,
        environment="PRESTABLE",
        labels={DRILL_LABEL: drill},
        deletion_protection=False,
    )
    return sim.fleet.add_cluster(cluster)


async def test_a_leftover_past_its_time_limit_is_deleted_and_reported_once(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    config = drill_config(schedule="0 3 1 1 *")
    cluster = leftover(drill_sim, age=timedelta(hours=2))
    drills = service(drill_cloud, store, config)
    assert await drills.reaper.reap(now=clock.now()) == [cluster.id]
    # Asked again before the delete is done: a conflict, not a second report.
    await drills.reaper.reap(now=clock.now())
    posts = [p for p in await store.outbox.list_posts() if p.kind == PostKind.DRILL]
    assert len(posts) == 1
    assert cluster.id in posts[0].payload["text"]
    assert "leftover" in posts[0].payload["text"]


async def test_a_young_drill_cluster_is_left_to_its_drill(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    leftover(drill_sim, age=timedelta(minutes=20))
    drills = service(drill_cloud, store, drill_config())
    assert await drills.reaper.reap(now=clock.now()) == []
    assert len(drill_sim.labelled()) == 1


async def test_without_drills_in_the_config_nothing_is_looked_at_or_created(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    drills = service(drill_cloud, store, make_config())
    await drills.after_sweep(now=clock.now())
    assert drill_sim.requests == []


async def test_due_drills_start_once_per_period_within_max_concurrent(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    config = drill_config(schedule="0 3 1 * *", max_concurrent=1)
    drills = service(drill_cloud, store, config)
    now = clock.now()
    await drills.after_sweep(now=now)
    assert len(drills.running) == 1  # several PRODUCTION clusters match; one at a time
    await drills.wait()
    await drills.after_sweep(now=now)
    await drills.wait()
    records = await store.drills.list_drills()
    assert len(records) == 2
    assert all(r.finished for r in records)
    # The one with backups passed (a cluster with none fails at finding one).
    assert DrillOutcome.PASSED in {r.outcome for r in records}
    assert len({r.cluster_id for r in records}) == 2  # each cluster once in the period
    assert drill_sim.labelled() == []


async def test_a_drill_now_beyond_max_concurrent_is_refused(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    drills = service(drill_cloud, store, drill_config(schedule="0 3 1 1 *"))
    first = await drill_cloud.get_cluster(IDS.fresh)
    drills.start(first, drills.route_of(first), drill="dbusy", now=clock.now())

    async def recorded() -> bool:
        return bool(await store.drills.running_drills())

    await wait_until(recorded, what="the first drill recorded")
    with pytest.raises(TooManyDrills):
        await drills.run_now(await drill_cloud.get_cluster(IDS.stale))
    await drills.wait()


def test_a_drill_cluster_is_never_watched() -> None:
    config = drill_config()
    plain = Cluster(id="c9qa", folder_id=FOLDER)
    drill = Cluster(id="c9qb", folder_id=FOLDER, labels={DRILL_LABEL: "d1"})
    assert watched(config, plain)
    assert not watched(config, drill)
