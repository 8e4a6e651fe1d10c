"""Backup attempts, from a cluster's operations: the last one, and how many failed in a row.

A Managed OpenSearch backup has no status: a backup that failed leaves no backup at all, only an
operation of the cluster whose error says why. A backup operation is one whose metadata is a
``BackupClusterMetadata``; one with no metadata type counts when its description says it makes
a backup. The API lists operations in no order, so they are sorted here. Pure.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.cloud.models import Operation

#: The metadata type of a Cluster.backup operation (any package: the suffix is what counts).
BACKUP_METADATA = "BackupClusterMetadata"
_BACKUP_WORDS = re.compile(r"\bbackup\b", re.IGNORECASE)
_NOT_A_BACKUP = re.compile(r"\b(restor\w*|delet\w*|remov\w*)\b", re.IGNORECASE)
_NO_TIME = datetime.min.replace(tzinfo=UTC)


class AttemptOutcome(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class BackupAttempt:
    """One backup operation of a cluster."""

    operation_id: str
    started_at: datetime | None  # the operation's createdAt
    modified_at: datetime | None  # when it last changed (its end, once done)
    outcome: AttemptOutcome
    error: str = ""  # the cloud's message for a failed attempt, as sent (renderers escape it)
    code: int = 0  # its google.rpc code


@dataclass(frozen=True, slots=True)
class AttemptHistory:
    """What the operations say of a cluster's backup attempts."""

    last: BackupAttempt | None  # the newest attempt (by when it started); None: no attempt
    #: Failed attempts one after the other, counted back from the newest (a running newest
    #: attempt is stepped over: "running; the two before it failed").
    failed_in_a_row: int = 0
    total: int = 0  # backup attempts among the operations

    @property
    def running(self) -> BackupAttempt | None:
        """The newest attempt, if it is still running."""
        if self.last is not None and self.last.outcome == AttemptOutcome.RUNNING:
            return self.last
        return None


def is_backup_operation(operation: Operation) -> bool:
    """Whether ``operation`` is a backup of the cluster (Cluster.backup, or a scheduled one)."""
    kind = operation.metadata_type
    if kind:
        return kind.rpartition(".")[2] == BACKUP_METADATA
    text = operation.description
    return bool(_BACKUP_WORDS.search(text)) and not _NOT_A_BACKUP.search(text)


def attempt_of(operation: Operation) -> BackupAttempt:
    """The attempt an operation stands for: failed when it carries an error (even before it is
    done), done when done without one, running otherwise."""
    if operation.failed:
        assert operation.error is not None
        outcome = AttemptOutcome.FAILED
        error, code = operation.error.message.strip(), operation.error.code
    elif operation.done:
        outcome, error, code = AttemptOutcome.DONE, "", 0
    else:
        outcome, error, code = AttemptOutcome.RUNNING, "", 0
    return BackupAttempt(
        operation_id=operation.id,
        started_at=operation.created_at,
        modified_at=operation.modified_at,
        outcome=outcome,
        error=error,
        code=code,
    )


def _newest_first_key(attempt: BackupAttempt) -> tuple[datetime, str]:
    return (attempt.started_at or _NO_TIME, attempt.operation_id)


def backup_attempts(operations: Iterable[Operation]) -> AttemptHistory:
    """The backup attempts among a cluster's operations (in any order): the newest, and how
    many failed in a row up to it."""
    attempts = sorted(
        (attempt_of(op) for op in operations if is_backup_operation(op)),
        key=_newest_first_key,
        reverse=True,
    )
    if not attempts:
        return AttemptHistory(last=None)
    in_a_row = 0
    for index, attempt in enumerate(attempts):
        if attempt.outcome == AttemptOutcome.RUNNING and index == 0:
            continue
        if attempt.outcome != AttemptOutcome.FAILED:
            break
        in_a_row += 1
    return AttemptHistory(last=attempts[0], failed_in_a_row=in_a_row, total=len(attempts))
