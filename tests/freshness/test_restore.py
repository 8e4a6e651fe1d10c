"""Restore readiness: a backup's required free space against the data nodes' disk, and its
version against the versions the cloud restores to."""

from __future__ import annotations

from typing import Any

from bot.cloud.models import Backup, Cluster, Version, VersionStatus
from bot.freshness.restore import (
    RestoreReadiness,
    oldest_restorable,
    restore_readiness,
    version_key,
)

GIB = 1024**3


def cluster(*groups: dict[str, Any]) -> Cluster:
    return Cluster.model_validate(
        {"id": "c9q1", "config": {"opensearch": {"nodeGroups": list(groups)}}}
    )


def group(disk_gib: int, hosts: int, *roles: str) -> dict[str, Any]:
    return {
        "name": "g",
        "resources": {"diskSize": str(disk_gib * GIB)},
        "hostsCount": str(hosts),
        "roles": list(roles),
    }


def backup(required_gib: int, version: str = "2.17") -> Backup:
    return Backup(id="b1", free_space_required_bytes=required_gib * GIB, opensearch_version=version)


def test_only_the_disks_of_data_holding_groups_count() -> None:
    shaped = cluster(group(100, 3, "DATA"), group(20, 3, "MANAGER"), group(50, 2, "WARM"))
    assert shaped.data_disk_bytes == 400 * GIB
    # A group with no role named holds data; one with only a role from a newer API does not.
    assert cluster(group(10, 2), group(99, 9, "COLD")).data_disk_bytes == 20 * GIB


def test_a_backup_needing_more_than_the_data_disks_would_not_fit() -> None:
    shaped = cluster(group(100, 3, "DATA", "MANAGER"))
    assert restore_readiness(shaped, backup(300)).fits is True
    ready = restore_readiness(shaped, backup(301))
    assert ready.fits is False
    assert ready.would_fail
    assert (ready.required_bytes, ready.available_bytes) == (301 * GIB, 300 * GIB)


def test_nothing_is_said_of_the_fit_when_either_size_is_unknown() -> None:
    assert restore_readiness(Cluster(id="c"), backup(5)).fits is None
    assert restore_readiness(cluster(group(100, 3)), backup(0)).fits is None


def test_a_version_older_than_every_restorable_one_is_flagged() -> None:
    versions = [
        Version(id="2.8", status=VersionStatus.LEGACY),
        Version(id="2.12", status=VersionStatus.DEPRECATED),
        Version(id="2.17", status=VersionStatus.SUPPORTED),
    ]
    assert oldest_restorable(versions) == "2.12"
    old = restore_readiness(cluster(group(100, 3)), backup(1, "2.8.0"), versions)
    assert old.too_old
    assert old.oldest_restorable == "2.12"
    fine = restore_readiness(cluster(group(100, 3)), backup(1, "2.12.1"), versions)
    assert not fine.too_old


def test_with_no_versions_listed_or_a_version_that_cannot_be_read_nothing_is_said() -> None:
    assert not restore_readiness(cluster(), backup(1, "2.8"), None).too_old
    assert not restore_readiness(cluster(), backup(1, "2.8"), []).too_old
    versions = [Version(id="2.17", status=VersionStatus.SUPPORTED)]
    assert not restore_readiness(cluster(), backup(1, "nightly"), versions).too_old
    assert version_key("v2") is None
    assert version_key("2.17.1-rc") == (2, 17, 1)


def test_a_version_status_from_a_newer_api_counts_as_restorable() -> None:
    versions = [Version.model_validate({"id": "2.12", "status": "PREVIEW"})]
    assert oldest_restorable(versions) == "2.12"


def test_the_readiness_names_the_backup_and_its_version() -> None:
    ready = restore_readiness(cluster(group(100, 3)), backup(1, "2.17.1"))
    assert ready.backup_id == "b1"
    assert ready.version == "2.17.1"
    assert ready.oldest_restorable == ""
    assert not ready.would_fail


def test_a_single_required_byte_is_still_a_known_size() -> None:
    one = Backup(id="b1", free_space_required_bytes=1)
    assert restore_readiness(cluster(group(100, 3)), one).required_bytes == 1
    assert restore_readiness(cluster(group(100, 3)), backup(0)).required_bytes is None


def test_when_every_version_listed_is_past_restoring_none_is_the_oldest_restorable() -> None:
    gone = [
        Version(id="2.8", status=VersionStatus.LEGACY),
        Version(id="2.9", status=VersionStatus.EOL),
    ]
    assert oldest_restorable(gone) == ""
    assert oldest_restorable([Version(id="nightly", status=VersionStatus.SUPPORTED)]) == ""
    ready = restore_readiness(cluster(group(100, 3)), backup(1, "2.1"), gone)
    assert ready.oldest_restorable == ""
    assert not ready.too_old


def test_a_backup_of_exactly_the_oldest_restorable_version_restores() -> None:
    versions = [Version(id="2.12", status=VersionStatus.SUPPORTED)]
    same = restore_readiness(cluster(group(100, 3)), backup(1, "2.12"), versions)
    assert same.oldest_restorable == ""
    assert not same.too_old


def test_a_version_too_old_fails_even_when_the_backup_fits() -> None:
    versions = [Version(id="2.12", status=VersionStatus.SUPPORTED)]
    old = restore_readiness(cluster(group(100, 3)), backup(1, "2.8"), versions)
    assert old.fits is True
    assert old.would_fail
    assert old.oldest_restorable == "2.12"


def test_a_version_listed_by_name_only_is_read_by_its_name() -> None:
    versions = [Version(name="2.12", status=VersionStatus.SUPPORTED)]
    assert oldest_restorable(versions) == "2.12"


def test_a_readiness_made_without_versions_says_nothing_of_them() -> None:
    ready = RestoreReadiness("b1", required_bytes=1, available_bytes=2)
    assert ready.version == ""
    assert ready.oldest_restorable == ""
    assert not ready.too_old
