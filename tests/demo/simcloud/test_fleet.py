"""Generated fleets are reproducible, and the demo fleet has every case the demo shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cloud.validation import validate_id
from bot.demo.simcloud import SimConfig, demo_fleet, generate_fleet
from bot.demo.simcloud.fleet import GIB, TIB, last_slot

NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


def test_the_same_seed_gives_the_same_fleet() -> None:
    config = SimConfig(seed=42, folders=2, clusters_per_folder=4, backups_per_cluster=6)
    one, two = generate_fleet(config, NOW), generate_fleet(config, NOW)
    assert list(one.clusters) == list(two.clusters)
    assert [b.id for bs in one.backups.values() for b in bs] == [
        b.id for bs in two.backups.values() for b in bs
    ]
    other = generate_fleet(SimConfig(seed=43, folders=2, clusters_per_folder=4), NOW)
    assert list(other.clusters) != list(one.clusters)


def test_a_generated_fleet_has_the_size_asked_for() -> None:
    fleet = generate_fleet(SimConfig(folders=3, clusters_per_folder=5, backups_per_cluster=7), NOW)
    assert len(fleet.folders) == 3
    assert len(fleet.clusters) == 15
    assert all(len(b) == 7 for b in fleet.backups.values())


def test_the_stale_fraction_makes_that_share_of_clusters_stale() -> None:
    config = SimConfig(
        folders=1, clusters_per_folder=200, backups_per_cluster=1, stale_fraction=0.3
    )
    fleet = generate_fleet(config, NOW)
    stale = 0
    for cluster in fleet.clusters.values():
        interval = cluster.schedule.interval if cluster.schedule else timedelta(days=1)
        newest = fleet.newest_backup(cluster.id)
        assert newest is not None
        if NOW - newest.created_at > interval * 2:
            stale += 1
    assert 40 <= stale <= 80


def test_every_id_passes_the_clients_own_checks() -> None:
    fleet = demo_fleet(NOW)
    for cluster in fleet.clusters.values():
        validate_id("cluster id", cluster.id)
        for backup in fleet.backups[cluster.id]:
            validate_id("backup id", backup.id)
    for folder in fleet.folders:
        validate_id("folder id", folder.id)


def test_the_demo_fleet_is_realistic_and_covers_every_case() -> None:
    fleet = demo_fleet(NOW)
    assert len(fleet.folder_ids()) == 3
    assert 25 <= len(fleet.clusters) <= 35
    names = {c.name for c in fleet.clusters.values()}
    assert {"search-prod-eu", "logs-staging"} <= names
    assert {c.environment for c in fleet.clusters.values()} == {"PRODUCTION", "PRESTABLE"}
    assert all({"tier", "team"} <= c.labels.keys() for c in fleet.clusters.values())
    kinds = {c.schedule.kind if c.schedule else None for c in fleet.clusters.values()}
    assert kinds == {"hourly", "daily", "weekly", None}
    assert [c.name for c in fleet.clusters.values() if c.status == "STOPPED"] == ["logs-archive"]
    assert [c.name for c in fleet.clusters.values() if c.unreadable] == ["payments-audit"]
    empty = [c.name for c in fleet.clusters.values() if not fleet.backups[c.id]]
    assert empty == ["search-dev"]
    stale = [
        c.name
        for c in fleet.clusters.values()
        if c.schedule
        and fleet.backups[c.id]
        and NOW - fleet.backups[c.id][0].created_at > c.schedule.interval * 2
    ]
    assert len(stale) >= 3
    sizes = [b.size_bytes for bs in fleet.backups.values() for b in bs]
    assert min(sizes) >= GIB
    assert max(sizes) >= TIB
    logs = fleet.newest_backup(fleet.cluster_by_name("logs-prod").id)
    assert logs is not None
    assert logs.indices[0].startswith("logs-2026.11.")


def test_the_demo_fleet_is_the_same_every_time() -> None:
    assert list(demo_fleet(NOW).clusters) == list(demo_fleet(NOW).clusters)


def test_the_demo_fleet_has_late_backups_with_their_reasons() -> None:
    fleet = demo_fleet(NOW)
    # traces-prod: its last two backup attempts (at least) failed, after its newest backup.
    traces = fleet.cluster_by_name("traces-prod")
    newest = fleet.newest_backup(traces.id)
    assert newest is not None
    failed = sorted(op.created_at for op in traces.operations if op.error_message)
    assert len(failed) >= 2
    assert failed[0] > newest.created_at
    # catalog-prod-eu: its newest backup needs more free space than its data nodes have.
    catalog = fleet.cluster_by_name("catalog-prod-eu")
    newest = fleet.newest_backup(catalog.id)
    assert newest is not None
    data = sum(g.disk_size * g.hosts for g in catalog.node_groups if "DATA" in g.roles)
    assert newest.free_space_required_bytes > data
    assert fleet.cluster_by_name("vector-search-prod").health == "DEAD"
    assert fleet.cluster_by_name("orders-prod").maintenance is not None
    assert fleet.cluster_by_name("vector-search-staging").policies
    assert fleet.cluster_by_name("alerts-history").policies is None


def test_a_generated_fresh_scheduled_cluster_has_the_backup_of_its_latest_slot() -> None:
    fleet = generate_fleet(SimConfig(folders=1, clusters_per_folder=60, stale_fraction=0), NOW)
    for cluster in fleet.clusters.values():
        newest = fleet.newest_backup(cluster.id)
        assert newest is not None
        if cluster.schedule is None:
            continue
        # Started at a slot and done before now: the latest slot, or the one before it when the
        # latest one's backup would still be running.
        slot = newest.started_at.replace(microsecond=0)
        assert slot == last_slot(cluster.schedule, newest.started_at)
        assert newest.created_at <= NOW
        assert NOW - slot < cluster.schedule.interval + timedelta(minutes=42)


def test_the_demo_organization_has_two_clouds_and_folders_of_every_status() -> None:
    fleet = demo_fleet(NOW)
    platform, sandbox = fleet.clouds
    assert (platform.name, sandbox.name) == ("platform", "sandbox")
    assert platform.organization_id == sandbox.organization_id
    # The three folders with clusters are the platform's; the sandbox holds every status.
    assert {f.id for f in fleet.folders_of(platform.id)} == set(fleet.folder_ids())
    statuses = {f.status for f in fleet.folders_of(sandbox.id)}
    assert statuses == {"ACTIVE", "DELETING", "PENDING_DELETION"}
    assert [f.name for f in fleet.folders if f.unreadable] == ["finance-restricted"]
    for folder in fleet.folders:
        validate_id("folder id", folder.id)
    for cloud in fleet.clouds:
        validate_id("cloud id", cloud.id)


def test_the_demo_organization_leaves_the_clusters_as_they_were() -> None:
    # The clouds' ids come from a generator of their own: the fleet's ids do not move.
    one, two = demo_fleet(NOW), demo_fleet(NOW)
    assert list(one.clusters) == list(two.clusters)
    assert [f.id for f in one.folders] == [f.id for f in two.folders]
