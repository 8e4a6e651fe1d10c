"""Backup attempts from a cluster's operations: which are backups, the newest, failures in a row,
in whatever order the cloud lists them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.cloud.models import Operation
from bot.freshness.attempts import (
    AttemptHistory,
    AttemptOutcome,
    BackupAttempt,
    attempt_of,
    backup_attempts,
    is_backup_operation,
)

T0 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
MDB = "type.googleapis.com/yandex.cloud.mdb.opensearch.v1"


def op(
    n: int,
    *,
    kind: str | None = "BackupClusterMetadata",
    done: bool = True,
    error: str | None = None,
    description: str = "Create backup for OpenSearch cluster",
    hours_ago: float | None = None,
) -> Operation:
    data: dict[str, Any] = {
        "id": f"op{n}",
        "description": description,
        "createdAt": T0 - timedelta(hours=hours_ago if hours_ago is not None else n),
        "done": done,
    }
    if kind is not None:
        data["metadata"] = {"@type": f"{MDB}.{kind}", "clusterId": "c9q1"}
    if error is not None:
        data["error"] = {"code": 13, "message": error}
    return Operation.model_validate(data)


def test_backup_operations_are_told_by_their_metadata_type_first() -> None:
    assert is_backup_operation(op(1))
    assert not is_backup_operation(op(1, kind="RestoreClusterMetadata"))
    # A restore says "backup" in its description; its metadata says what it is.
    assert not is_backup_operation(
        op(1, kind="RestoreClusterMetadata", description="Restore cluster from backup")
    )
    assert not is_backup_operation(op(1, kind="UpdateClusterMetadata", description="Modify"))


def test_without_metadata_the_description_decides_and_restores_are_not_backups() -> None:
    assert is_backup_operation(op(1, kind=None, description="Create backup for cluster"))
    assert not is_backup_operation(op(1, kind=None, description="Restore cluster from backup"))
    assert not is_backup_operation(op(1, kind=None, description="Delete backup"))
    assert not is_backup_operation(op(1, kind=None, description="Update cluster"))


def test_the_newest_attempt_failed_and_so_did_the_one_before() -> None:
    history = backup_attempts(
        [op(0, error="Snapshot failed: repository is read-only"), op(1, error="timeout"), op(2)]
    )
    assert history.last is not None
    assert history.last.outcome == AttemptOutcome.FAILED
    assert history.last.error == "Snapshot failed: repository is read-only"
    assert history.last.started_at == T0
    assert history.failed_in_a_row == 2
    assert history.total == 3


def test_a_running_attempt_is_the_last_and_the_failures_before_it_are_counted() -> None:
    history = backup_attempts([op(1, error="x"), op(0, done=False), op(2, error="y"), op(3)])
    assert history.running is not None
    assert history.running.operation_id == "op0"
    assert history.failed_in_a_row == 2


def test_an_error_on_an_operation_not_yet_done_is_a_failure() -> None:
    history = backup_attempts([op(0, done=False, error="disk full")])
    assert history.last is not None
    assert history.last.outcome == AttemptOutcome.FAILED
    assert history.running is None


def test_no_backup_among_the_operations_is_no_attempt() -> None:
    history = backup_attempts([op(0, kind="UpdateClusterMetadata", description="Modify")])
    assert history.last is None
    assert history.total == 0


@given(seed=st.integers(0, 2**32), size=st.integers(1, 30))
def test_the_answer_does_not_depend_on_the_order_the_cloud_lists_them(seed: int, size: int) -> None:
    rng = random.Random(seed)
    operations = [
        op(
            n,
            error=rng.choice([None, "boom"]),
            done=rng.random() < 0.9,
            hours_ago=rng.randint(0, 9),
        )
        for n in range(size)
    ]
    expected = backup_attempts(operations)
    rng.shuffle(operations)
    assert backup_attempts(operations) == expected


def test_a_done_or_running_attempt_carries_no_error_and_a_failed_one_its_code() -> None:
    finished = Operation.model_validate(
        {
            "id": "op1",
            "description": "Create backup",
            "createdAt": T0,
            "modifiedAt": T0 + timedelta(minutes=20),
            "done": True,
            "metadata": {"@type": f"{MDB}.BackupClusterMetadata"},
        }
    )
    done = attempt_of(finished)
    assert done == BackupAttempt(
        operation_id="op1",
        started_at=T0,
        modified_at=T0 + timedelta(minutes=20),
        outcome=AttemptOutcome.DONE,
        error="",
        code=0,
    )
    running = attempt_of(op(0, done=False))
    assert (running.outcome, running.error, running.code) == (AttemptOutcome.RUNNING, "", 0)
    failed = attempt_of(op(2, error="  Snapshot failed  "))
    assert (failed.outcome, failed.error, failed.code) == (
        AttemptOutcome.FAILED,
        "Snapshot failed",
        13,
    )


def test_an_error_with_code_zero_is_no_failure() -> None:
    ok = Operation.model_validate(
        {"id": "op1", "done": True, "error": {"code": 0, "message": "OK"}}
    )
    assert attempt_of(ok).outcome == AttemptOutcome.DONE


def test_an_attempt_with_no_start_time_counts_as_the_oldest() -> None:
    untimed = Operation.model_validate(
        {"id": "op9", "description": "Create backup", "done": True, "error": {"code": 13}}
    )
    history = backup_attempts([untimed, op(0, error="boom"), op(1)])
    assert history.last is not None
    assert history.last.operation_id == "op0"
    assert history.failed_in_a_row == 1
    assert history.total == 3
    alone = backup_attempts([untimed])
    assert alone.last is not None
    assert alone.last.operation_id == "op9"


def test_no_attempt_is_no_failure_and_nothing_running() -> None:
    history = backup_attempts([])
    assert history == AttemptHistory(last=None, failed_in_a_row=0, total=0)
    assert history.running is None
    assert AttemptHistory(last=None).failed_in_a_row == 0


def test_a_finished_newest_attempt_is_not_running() -> None:
    history = backup_attempts([op(0), op(1, done=False)])
    assert history.running is None
    assert history.failed_in_a_row == 0


def test_a_backup_metadata_type_counts_from_any_package() -> None:
    assert is_backup_operation(op(1, kind="BackupClusterMetadata"))
    other = Operation.model_validate(
        {"id": "op1", "metadata": {"@type": "type.googleapis.com/x.y.BackupClusterMetadata"}}
    )
    assert is_backup_operation(other)
    assert not is_backup_operation(op(1, kind="BackupClusterMetadataV2"))


def test_without_metadata_the_word_backup_must_stand_alone_in_any_case() -> None:
    assert is_backup_operation(op(1, kind=None, description="BACKUP of the cluster"))
    assert not is_backup_operation(op(1, kind=None, description="Backups listed"))
    assert not is_backup_operation(op(1, kind=None, description="Removing old backup"))
    assert not is_backup_operation(op(1, kind=None, description="restoring backup"))
    assert not is_backup_operation(op(1, kind=None, description="Deleted backup b1"))


def test_an_attempt_made_without_an_error_has_none_and_code_zero() -> None:
    attempt = BackupAttempt("op1", T0, None, AttemptOutcome.DONE)
    assert attempt.error == ""
    assert attempt.code == 0
