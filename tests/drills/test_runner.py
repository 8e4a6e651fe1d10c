"""A drill against the simulated cloud, on SQLite and PostgreSQL: it restores the backup into a
labelled throwaway cluster, waits until it runs with every host alive, records how long that
took, deletes it and confirms it gone, and commits its result with its post, once."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.cloud.client import CloudClient
from bot.cloud.models import Cluster
from bot.config import DrillRoute
from bot.demo.simcloud import SimCloud
from bot.drills.model import (
    DrillOutcome,
    DrillStep,
    drill_id,
    drill_incident_key,
    restore_key,
)
from bot.outbox.posts import PostKind
from bot.store import Store
from tests.drills.conftest import make_runner
from tests.world import IDS

PERIOD = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


async def source(cloud: CloudClient, cluster_id: str = IDS.fresh) -> Cluster:
    return await cloud.get_cluster(cluster_id)


async def test_a_drill_restores_waits_for_health_deletes_and_reports(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store, route: DrillRoute
) -> None:
    drill = drill_id(IDS.fresh, PERIOD)
    record = await make_runner(drill_cloud, store).run(
        route, await source(drill_cloud), drill=drill
    )

    assert record is not None
    assert record.outcome == DrillOutcome.PASSED, record.error
    assert record.step == DrillStep.DONE
    newest = drill_sim.fleet.newest_backup(IDS.fresh)
    assert newest is not None
    assert record.backup_id == newest.id
    assert record.restore_time is not None
    assert record.healthy_time is not None
    assert record.healthy_time >= record.restore_time
    assert record.deleted_at is not None
    # One cluster made, labelled for the drill, and gone.
    assert len(drill_sim.restored) == 1
    assert drill_sim.deleted == drill_sim.restored
    assert drill_sim.labelled() == []
    (restore,) = drill_sim.requests_to(r"clusters:restore$")
    assert restore.idempotency_key == restore_key(drill)
    # Stored, and reported once through the outbox.
    stored = await store.drills.get_drill(drill)
    assert stored is not None
    assert stored.outcome == DrillOutcome.PASSED
    assert stored.finished_at is not None
    queued = [p for p in await store.outbox.list_posts() if p.kind == PostKind.DRILL]
    assert len(queued) == 1
    assert "passed" in queued[0].payload["text"]


async def test_a_bad_backup_fails_the_drill_at_the_restore_and_its_cluster_is_deleted(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store, route: DrillRoute
) -> None:
    newest = drill_sim.fleet.newest_backup(IDS.fresh)
    assert newest is not None
    drill_sim.mark_backup_bad(newest.id, "Snapshot is corrupted: shard 3")
    record = await make_runner(drill_cloud, store).run(
        route, await source(drill_cloud), drill=drill_id(IDS.fresh, PERIOD)
    )
    assert record is not None
    assert record.outcome == DrillOutcome.FAILED
    assert (record.failed_step, record.error) == ("restore", "Snapshot is corrupted: shard 3")
    assert record.deleted_at is not None
    assert drill_sim.labelled() == []  # the cluster left in ERROR was deleted too
    (post,) = [p for p in await store.outbox.list_posts() if p.kind == PostKind.DRILL]
    assert "Snapshot is corrupted: shard 3" in post.payload["text"]


async def test_a_delete_that_fails_once_is_tried_again_until_the_cluster_is_gone(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store, route: DrillRoute
) -> None:
    drill_sim.restored_delete_failures = 1
    record = await make_runner(drill_cloud, store).run(
        route, await source(drill_cloud), drill=drill_id(IDS.fresh, PERIOD)
    )
    assert record is not None
    assert record.outcome == DrillOutcome.PASSED, record.error
    assert drill_sim.labelled() == []
    deletes = [r for r in drill_sim.requests_to(r"/clusters/c9q[a-z0-9]+$") if r.method == "DELETE"]
    assert len(deletes) == 2
    assert deletes[0].idempotency_key != deletes[1].idempotency_key  # a new attempt, a new key


async def test_a_quota_fails_the_drill_and_creates_nothing(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store, route: DrillRoute
) -> None:
    drill_sim.cluster_quota = 1
    record = await make_runner(drill_cloud, store).run(
        route, await source(drill_cloud), drill=drill_id(IDS.fresh, PERIOD)
    )
    assert record is not None
    assert record.outcome == DrillOutcome.FAILED
    assert record.failed_step == "restore"
    assert "Quota limits exceeded" in record.error
    assert drill_sim.restored == []


async def test_a_drill_taken_over_finds_its_cluster_and_restores_no_second_one(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store, route: DrillRoute
) -> None:
    drill = drill_id(IDS.fresh, PERIOD)
    # A first replica restored, then died before it recorded the cluster (its claim lapsed).
    first = await drill_sim_restore(drill_sim, drill_cloud, route, drill)
    record = await make_runner(drill_cloud, store, owner="replica-b").run(
        route, await source(drill_cloud), drill=drill
    )
    assert record is not None
    assert record.outcome == DrillOutcome.PASSED, record.error
    assert record.drill_cluster_id == first
    assert drill_sim.restored == [first]
    assert drill_sim.labelled() == []


async def test_a_finished_drill_is_not_run_again(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store, route: DrillRoute
) -> None:
    drill = drill_id(IDS.fresh, PERIOD)
    runner = make_runner(drill_cloud, store)
    await runner.run(route, await source(drill_cloud), drill=drill)
    assert await runner.run(route, await source(drill_cloud), drill=drill) is None
    assert len(drill_sim.restored) == 1
    assert len([p for p in await store.outbox.list_posts() if p.kind == PostKind.DRILL]) == 1


async def drill_sim_restore(
    sim: SimCloud, cloud: CloudClient, route: DrillRoute, drill: str
) -> str:
    """Restore as the drill would (same request, same key), without the runner."""
    from bot.drills.plan import choose_backup, restore_request

    cluster = await cloud.get_cluster(IDS.fresh)
    page = await cloud.all_cluster_backups(IDS.fresh)
    backup = choose_backup(page.backups, route, drill=drill, now=PERIOD)
    assert backup is not None
    request = restore_request(
        route, cluster, backup, drill=drill, admin_password="x" * 12, now=PERIOD
    )
    operation = await cloud.restore_cluster(request, idempotency_key=restore_key(drill))
    return operation.cluster_id


async def test_a_failed_drill_opens_an_incident_and_the_next_passing_one_resolves_it(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store, route: DrillRoute
) -> None:
    newest = drill_sim.fleet.newest_backup(IDS.fresh)
    assert newest is not None
    drill_sim.mark_backup_bad(newest.id, "Snapshot is corrupted")
    runner = make_runner(drill_cloud, store)
    failed = await runner.run(route, await source(drill_cloud), drill=drill_id(IDS.fresh, PERIOD))
    assert failed is not None
    assert failed.outcome == DrillOutcome.FAILED
    incident = await store.incidents.get_incident(drill_incident_key(IDS.fresh))
    assert incident is not None
    assert incident.is_open
    assert "Snapshot is corrupted" in incident.detail
    (failure_post,) = [p for p in await store.outbox.list_posts() if p.kind == PostKind.DRILL]
    assert incident.messages == ((route.channel, failure_post.id),)
    assert "cannot be trusted" in str(failure_post.payload)

    drill_sim.bad_backups.clear()
    later = PERIOD.replace(month=PERIOD.month - 1)
    passed = await runner.run(route, await source(drill_cloud), drill=drill_id(IDS.fresh, later))
    assert passed is not None
    assert passed.outcome == DrillOutcome.PASSED, passed.error
    incident = await store.incidents.get_incident(drill_incident_key(IDS.fresh))
    assert incident is not None
    assert not incident.is_open
    posts = [p for p in await store.outbox.list_posts() if p.kind == PostKind.DRILL]
    (resolved,) = [p for p in posts if p.parent_id == failure_post.id]
    assert "Resolved" in resolved.payload["text"]
    assert drill_sim.labelled() == []
