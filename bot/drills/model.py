"""What a restore drill is, as plain values: its id (and the keys and names derived from it), its
steps, its outcome and the record the store keeps of it. Pure: no I/O here."""

from __future__ import annotations

import enum
import hashlib
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

#: The label every drill cluster carries, valued with its drill's id: the drill finds its own
#: cluster by it before any restore, the reaper finds leftovers by it, the watch skips it.
DRILL_LABEL = "backups-bot-drill"
#: The label naming the cluster a drill cluster was restored from.
SOURCE_LABEL = "backups-bot-source"
#: Drill cluster names begin with this.
NAME_PREFIX = "backups-drill-"
#: uuid5 namespace of the Idempotency-Keys a drill sends (a fixed, made-up UUID).
KEY_NAMESPACE = uuid.UUID("4f0e2d8c-6a51-5b7e-9c3d-2b1a0f9e8d7c")

#: What a planned (dry-run) request holds for the admin password: a dry run sends nothing.
PASSWORD_NOT_SENT = "(generated when the drill runs)"  # noqa: S105

_NAME_CHARS = re.compile(r"[^a-z0-9-]+")
_MAX_NAME = 63


class DrillStep(enum.StrEnum):
    """Where a drill is (stored, so that a replica taking it over knows where to go on)."""

    CLAIMED = "claimed"
    RESTORING = "restoring"
    WAITING = "waiting"  # restored; waiting for RUNNING and every host ALIVE
    VERIFYING = "verifying"
    DELETING = "deleting"
    DONE = "done"


class DrillOutcome(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DrillRecord:
    """One drill as the store keeps it. Durations are measured from ``started_at``."""

    id: str
    cluster_id: str
    cluster_name: str
    #: Where the drill cluster is made (the route's folder) and where the result is posted.
    folder_id: str
    channel: str
    time_limit: timedelta
    started_at: datetime
    step: DrillStep = DrillStep.CLAIMED
    requested_by: str = ""
    backup_id: str = ""
    backup_indices: int | None = None
    drill_cluster_id: str = ""
    operation_id: str = ""
    restored_at: datetime | None = None
    healthy_at: datetime | None = None
    deleted_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: DrillOutcome | None = None
    #: The step it failed at and the cloud's (or the bot's) words for why.
    failed_step: str = ""
    error: str = ""
    #: What the cloud says the drill cluster holds, where it says it.
    hosts: int | None = None

    @property
    def restore_time(self) -> timedelta | None:
        """From the restore request to the restored cluster (the RTO evidence)."""
        return None if self.restored_at is None else self.restored_at - self.started_at

    @property
    def healthy_time(self) -> timedelta | None:
        """From the restore request to a RUNNING cluster with every host ALIVE."""
        return None if self.healthy_at is None else self.healthy_at - self.started_at

    @property
    def deadline(self) -> datetime:
        """When the drill cluster must be gone, whatever happened."""
        return self.started_at + self.time_limit

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def at(self, step: DrillStep, **changes: object) -> DrillRecord:
        """This record at ``step``, with ``changes``."""
        return replace(self, step=step, **changes)  # type: ignore[arg-type]

    def failed(self, step: str, error: str) -> DrillRecord:
        """This record failed at ``step`` (the first failure is kept)."""
        if self.failed_step:
            return self
        return replace(self, failed_step=step, error=error)


def drill_id(cluster_id: str, period: datetime) -> str:
    """The drill of a cluster for one period (the time its schedule last fired, or the moment
    someone asked): the same inputs, the same id, on every replica. Lowercase hex, so that it
    is a valid label value."""
    digest = hashlib.sha256(f"{cluster_id}|{period.isoformat()}".encode()).hexdigest()
    return "d" + digest[:19]


def restore_key(drill: str) -> str:
    """The Idempotency-Key of a drill's restore (a UUID, as the API wants): a retry, or a replica
    taking the drill over, sends the same one, so a lost answer never makes a second cluster."""
    return str(uuid.uuid5(KEY_NAMESPACE, f"restore:{drill}"))


def delete_key(drill: str, cluster_id: str, attempt: int) -> str:
    """The Idempotency-Key of one attempt to delete a drill cluster."""
    return str(uuid.uuid5(KEY_NAMESPACE, f"delete:{drill}:{cluster_id}:{attempt}"))


def drill_incident_key(cluster_id: str) -> str:
    """The key of a cluster's drill incident (open while its last drill failed)."""
    return f"drill:{cluster_id}"


def cluster_name(source_name: str, day: datetime) -> str:
    """``backups-drill-<cluster>-<yyyymmdd>``, within the API's 63 characters of
    ``[a-zA-Z0-9_-]`` (the source's name is lowered, cleaned and cut to fit)."""
    suffix = f"-{day:%Y%m%d}"
    room = _MAX_NAME - len(NAME_PREFIX) - len(suffix)
    cleaned = _NAME_CHARS.sub("-", source_name.lower()).strip("-")[:room].strip("-") or "cluster"
    return f"{NAME_PREFIX}{cleaned}{suffix}"


def drill_labels(drill: str, source_cluster_id: str) -> dict[str, str]:
    """The labels of a drill cluster (values within the API's ``[-_0-9a-z]{0,63}``)."""
    source = _NAME_CHARS.sub("-", source_cluster_id.lower())[:_MAX_NAME]
    return {DRILL_LABEL: drill, SOURCE_LABEL: source}
