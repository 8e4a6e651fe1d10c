"""Generated fleets are reproducible, and the demo fleet has every case the demo shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cloud import validate_id
from bot.simcloud import SimConfig, demo_fleet, generate_fleet
from bot.simcloud.fleet import GIB, TIB

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
    assert len(fleet.folders) == 3
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
