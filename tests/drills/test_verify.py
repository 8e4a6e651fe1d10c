"""``verify: opensearch`` against the simulated cloud, whose restored clusters answer their
OpenSearch REST API over HTTPS on 127.0.0.1 (under a CA of the run's): a drill counts the indices
with the admin user and the password it generated, and passes when the restored cluster lists
at least the backup's ``indicesTotal``; a restore that lost indices, or a host whose certificate
the configured CA does not vouch for, fails the drill at "checking the data", and the drill
cluster is deleted all the same."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import clock
from bot.cloud.client import CloudClient
from bot.demo.simcloud import SimCloud
from bot.drills.model import DrillOutcome, DrillRecord, drill_id
from bot.outbox.posts import PostKind
from bot.store import Store
from tests.drills.conftest import drill_config, make_runner
from tests.world import IDS

PERIOD = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


async def test_a_drill_counts_the_restored_indices_and_passes(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    endpoint = await drill_sim.serve_opensearch()
    route = drill_config(
        verify="opensearch", verify_port=endpoint.port, verify_ca_file=str(endpoint.ca_file)
    ).drills[0]
    record = await make_runner(drill_cloud, store).run(
        route, await drill_cloud.get_cluster(IDS.fresh), drill=drill_id(IDS.fresh, PERIOD)
    )
    assert record is not None
    assert record.outcome == DrillOutcome.PASSED, record.error
    assert endpoint.asked == 1
    assert drill_sim.labelled() == []
    # The password went to the cloud and to the cluster's REST API, and nowhere else.
    [post] = [p for p in await store.outbox.list_posts() if p.kind == PostKind.DRILL]
    [password] = endpoint.clusters
    assert password not in str(post.payload)
    stored = await store.drills.get_drill(record.id)
    assert password not in repr(stored)


async def test_a_restore_that_lost_indices_fails_at_checking_the_data(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    endpoint = await drill_sim.serve_opensearch()
    newest = drill_sim.fleet.newest_backup(IDS.fresh)
    assert newest is not None
    assert newest.indices_total > 0
    endpoint.answer_fewer(newest.id, newest.indices_total - 1)
    route = drill_config(
        verify="opensearch", verify_port=endpoint.port, verify_ca_file=str(endpoint.ca_file)
    ).drills[0]
    record = await make_runner(drill_cloud, store).run(
        route, await drill_cloud.get_cluster(IDS.fresh), drill=drill_id(IDS.fresh, PERIOD)
    )
    assert record is not None
    assert record.outcome == DrillOutcome.FAILED
    assert record.failed_step == "verify"
    assert record.error == (
        f"the restored cluster lists {newest.indices_total - 1} indices; "
        f"the backup holds {newest.indices_total}"
    )
    assert drill_sim.labelled() == []  # deleted all the same
    [post] = [p for p in await store.outbox.list_posts() if p.kind == PostKind.DRILL]
    assert "failed while checking the data" in post.payload["text"]


async def test_a_host_the_ca_does_not_vouch_for_fails_the_drill(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    endpoint = await drill_sim.serve_opensearch()
    # No CA file: the system's trust store, which does not know the simulator's CA.
    route = drill_config(verify="opensearch", verify_port=endpoint.port).drills[0]
    record = await make_runner(drill_cloud, store).run(
        route, await drill_cloud.get_cluster(IDS.fresh), drill=drill_id(IDS.fresh, PERIOD)
    )
    assert record is not None
    assert record.outcome == DrillOutcome.FAILED
    assert record.failed_step == "verify"
    assert "no host answered the OpenSearch REST API" in record.error
    assert "certificate" in record.error.lower()
    assert endpoint.asked == 0
    assert drill_sim.labelled() == []


async def test_a_drill_taken_over_cannot_verify_without_the_password(
    drill_sim: SimCloud, drill_cloud: CloudClient, store: Store
) -> None:
    endpoint = await drill_sim.serve_opensearch()
    route = drill_config(
        verify="opensearch", verify_port=endpoint.port, verify_ca_file=str(endpoint.ca_file)
    ).drills[0]
    source = await drill_cloud.get_cluster(IDS.fresh)
    drill = drill_id(IDS.fresh, PERIOD)
    # The first process recorded the drill and asked for the restore, then died: its password
    # died with it (it is never stored).
    record = await store.drills.start_drill(
        DrillRecord(
            id=drill,
            cluster_id=source.id,
            cluster_name=source.name,
            folder_id=route.folder,
            channel=route.channel,
            time_limit=route.time_limit,
            started_at=clock.now(),
        )
    )
    # (the first process's restore step, as it ran before it died)
    await make_runner(drill_cloud, store, owner="replica-a")._restore(route, source, record)
    taken = await make_runner(drill_cloud, store, owner="replica-b").run(
        route, source, drill=drill, now=record.started_at
    )
    assert taken is not None
    assert taken.outcome == DrillOutcome.FAILED
    assert taken.failed_step == "verify"
    assert "the admin password is known only to the process that restored" in taken.error
    assert endpoint.asked == 0
    assert len(drill_sim.restored) == 1  # the same cluster, not a second
    assert drill_sim.labelled() == []
