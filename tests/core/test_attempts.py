"""Backup attempts from a cluster's operations: which are backups, the newest, failures in a row,
in whatever order the cloud lists them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.core.attempts import AttemptOutcome, backup_attempts, is_backup_operation
from bot.models import Operation

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
