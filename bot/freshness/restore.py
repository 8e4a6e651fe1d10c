"""Would a backup restore? Its ``freeSpaceRequiredBytes`` against the disk of a cluster of the
same shape, and its OpenSearch version against the versions the cloud restores to. Pure.

The disk is that of the node groups that hold data (``diskSize`` × ``hostsCount``, see
:attr:`bot.cloud.models.Cluster.data_disk_bytes`). The versions are the API's list: a version
that is
LEGACY or EOL takes no restore (as the API documents), any other status (unknown ones too) is
taken to. Where the API lists no versions, nothing is said of the version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.cloud.models import Backup, Cluster, Version, VersionStatus

#: Statuses of versions that take no restore from a backup.
NO_RESTORE = frozenset({VersionStatus.LEGACY, VersionStatus.EOL})
_VERSION = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True, slots=True)
class RestoreReadiness:
    """Whether a restore of ``backup_id`` into a cluster of its cluster's shape would work."""

    backup_id: str
    required_bytes: int | None  # None: the backup does not say
    available_bytes: int | None  # None: the cluster's config does not say
    version: str = ""  # the backup's OpenSearch version
    #: The oldest version the cloud restores to, when the backup's version is older than it
    #: (then no restore is offered for it); "" when the version is fine or cannot be judged.
    oldest_restorable: str = ""

    @property
    def fits(self) -> bool | None:
        """True or False when both sizes are known, else None."""
        if self.required_bytes is None or self.available_bytes is None:
            return None
        return self.required_bytes <= self.available_bytes

    @property
    def too_old(self) -> bool:
        return bool(self.oldest_restorable)

    @property
    def would_fail(self) -> bool:
        """Known not to work: too big for the disk, or of a version nothing restores to."""
        return self.fits is False or self.too_old


def version_key(text: str) -> tuple[int, ...] | None:
    """``"2.17.1"`` as ``(2, 17, 1)``; None for text that does not start with a version."""
    found = _VERSION.match(text.strip())
    if found is None:
        return None
    return tuple(int(part) for part in found.group().split("."))


def oldest_restorable(versions: Sequence[Version]) -> str:
    """The oldest version listed that takes a restore ("" when none can be read)."""
    keyed = [
        (key, version.id or version.name)
        for version in versions
        if version.status not in NO_RESTORE
        and (key := version_key(version.id or version.name)) is not None
    ]
    return min(keyed)[1] if keyed else ""


def restore_readiness(
    cluster: Cluster, backup: Backup, versions: Sequence[Version] | None = None
) -> RestoreReadiness:
    """The readiness of ``backup`` for a restore into a cluster shaped like ``cluster``.
    ``versions``: what the API lists (None or empty: say nothing of the version)."""
    required = backup.free_space_required_bytes if backup.free_space_required_bytes > 0 else None
    oldest = ""
    if versions:
        floor = oldest_restorable(versions)
        floor_key, own_key = version_key(floor), version_key(backup.opensearch_version)
        if floor_key is not None and own_key is not None and own_key < floor_key:
            oldest = floor
    return RestoreReadiness(
        backup_id=backup.id,
        required_bytes=required,
        available_bytes=cluster.data_disk_bytes,
        version=backup.opensearch_version,
        oldest_restorable=oldest,
    )
