"""What became of a backup someone started."""

from __future__ import annotations

import enum

from bot.cloud.models import Cluster, ClusterHealth, ClusterStatus

#: Statuses in which the cloud refuses a backup (FAILED_PRECONDITION).
_NO_BACKUP_STATUSES = (ClusterStatus.ERROR, ClusterStatus.STOPPED, ClusterStatus.STOPPING)


class OperationOutcome(enum.StrEnum):
    """What became of a backup someone started from Slack."""

    DONE = "done"
    FAILED = "failed"
    GAVE_UP = "gave_up"  # still running when the bot stopped following it
    UNKNOWN = "unknown"  # the cloud no longer knows the operation


def backup_blocker(cluster: Cluster) -> str:
    """What keeps a backup of ``cluster`` from running now, as the cloud names it ("DEAD",
    "ERROR", "STOPPED"); "" when one can be started. A status or health from a newer API is
    not taken to block: the cloud decides then."""
    if cluster.known_health == ClusterHealth.DEAD:
        return ClusterHealth.DEAD.value
    if cluster.status in _NO_BACKUP_STATUSES:
        return cluster.status.value
    return ""
