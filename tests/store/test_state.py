"""Digest figures, sweep bookkeeping, markers, facts and started backups."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from bot.alerts.model import AlertEntry, AlertStatus
from bot.digest.model import ClusterFigures
from bot.outbox.change import Change
from bot.store import PendingOperation, Store
from bot.store.tables import run_claims
from tests.store.conftest import OpenStore, save_alert

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def _figures(cluster_id: str, count: int, size: int | None = 5 * 2**40) -> ClusterFigures:
    return ClusterFigures(
        cluster_id=cluster_id,
        newest_backup_id=f"{cluster_id}:backup-{count}" if size is not None else None,
        newest_size_bytes=size,
        newest_indices_total=count * 10 if size is not None else None,
        backup_count=count,
        taken_at=NOW,
    )


# --- digest figures ------------------------------------------------------------------------------


async def test_figures_round_trip_including_large_sizes(store: Store) -> None:
    saved = [_figures("c1", 7), _figures("c2", 0, size=None)]
    await store.commit(Change(figures=("digest:C0TEAM", saved)), now=NOW)
    assert await store.figures.get_figures("digest:C0TEAM") == {"c1": saved[0], "c2": saved[1]}


async def test_saving_figures_replaces_the_routes_whole_set(store: Store) -> None:
    await store.commit(
        Change(figures=("digest:C0TEAM", [_figures("c1", 1), _figures("c2", 1)])), now=NOW
    )
    await store.commit(
        Change(figures=("digest:C0TEAM", [_figures("c2", 2), _figures("c3", 2)])), now=NOW
    )
    assert await store.figures.get_figures("digest:C0TEAM") == {
        "c2": _figures("c2", 2),
        "c3": _figures("c3", 2),
    }


async def test_saving_no_figures_empties_the_route(store: Store) -> None:
    await store.commit(Change(figures=("digest:C0TEAM", [_figures("c1", 1)])), now=NOW)
    await store.commit(Change(figures=("digest:C0TEAM", [])), now=NOW)
    assert await store.figures.get_figures("digest:C0TEAM") == {}


async def test_figures_of_other_routes_are_left_alone(store: Store) -> None:
    await store.commit(Change(figures=("digest:A", [_figures("c1", 1)])), now=NOW)
    await store.commit(Change(figures=("digest:B", [_figures("c1", 2)])), now=NOW)
    assert await store.figures.get_figures("digest:A") == {"c1": _figures("c1", 1)}


async def test_figures_naming_a_cluster_twice_are_refused_and_nothing_changes(
    store: Store,
) -> None:
    await store.commit(Change(figures=("digest:A", [_figures("c1", 1)])), now=NOW)
    with pytest.raises(ValueError, match="twice"):
        await store.commit(
            Change(figures=("digest:A", [_figures("c2", 1), _figures("c2", 2)])), now=NOW
        )
    assert await store.figures.get_figures("digest:A") == {"c1": _figures("c1", 1)}


async def test_a_failed_replacement_leaves_the_previous_set(store: Store) -> None:
    await store.commit(Change(figures=("digest:A", [_figures("c1", 1)])), now=NOW)
    broken = ClusterFigures("c2", None, None, None, 0, taken_at=NOW.replace(tzinfo=None))
    with pytest.raises(StatementError, match="naive datetime"):
        await store.commit(Change(figures=("digest:A", [_figures("c3", 1), broken])), now=NOW)
    assert await store.figures.get_figures("digest:A") == {"c1": _figures("c1", 1)}


async def test_concurrent_replacements_leave_one_whole_set(open_store: OpenStore) -> None:
    stores = [await open_store() for _ in range(4)]
    sets = [[_figures(f"c{i}-{j}", i) for j in range(5)] for i in range(len(stores))]
    await asyncio.gather(
        *(
            s.commit(Change(figures=("digest:A", f)), now=NOW)
            for s, f in zip(stores, sets, strict=True)
        )
    )
    kept = await stores[0].figures.get_figures("digest:A")
    # Whichever replica wrote last, its set is there whole, with nothing of the others.
    assert kept in [{f.cluster_id: f for f in one} for one in sets]


# --- sweeps and markers --------------------------------------------------------------------------


async def test_record_sweep_counts_consecutive_failures(store: Store) -> None:
    assert await store.facts.record_sweep(ok=False, now=NOW) == 1
    assert await store.facts.record_sweep(ok=False, now=NOW + timedelta(minutes=15)) == 2
    assert await store.facts.record_sweep(ok=False, now=NOW + timedelta(minutes=30)) == 3
    assert await store.facts.record_sweep(ok=True, now=NOW + timedelta(minutes=45)) == 0
    assert await store.facts.record_sweep(ok=False, now=NOW + timedelta(minutes=60)) == 1


async def test_first_sweep_ok_counts_zero(store: Store) -> None:
    assert await store.facts.record_sweep(ok=True, now=NOW) == 0


async def test_record_sweep_sets_the_sweep_markers(store: Store) -> None:
    await store.facts.record_sweep(ok=True, now=NOW)
    await store.facts.record_sweep(ok=False, now=NOW + timedelta(minutes=15))
    assert await store.facts.get_marker("last_sweep_ok") == NOW
    assert await store.facts.get_marker("last_sweep") == NOW + timedelta(minutes=15)


async def test_failures_counted_by_several_replicas_add_up(open_store: OpenStore) -> None:
    stores = [await open_store() for _ in range(4)]
    counts = await asyncio.gather(*(s.facts.record_sweep(ok=False, now=NOW) for s in stores))
    assert sorted(counts) == [1, 2, 3, 4]


async def test_markers_are_set_replaced_and_read_back_in_utc(store: Store) -> None:
    assert await store.facts.get_marker("last_digest") is None
    await store.commit(Change(markers={"last_digest": NOW}), now=NOW)
    await store.commit(Change(markers={"last_digest": NOW + timedelta(days=1)}), now=NOW)
    at = await store.facts.get_marker("last_digest")
    assert at == NOW + timedelta(days=1)
    assert at is not None
    assert at.tzinfo == UTC


# --- facts ---------------------------------------------------------------------------------------


async def test_facts_are_set_replaced_and_read_back(store: Store) -> None:
    assert await store.facts.get_fact("schedule:c1") is None
    await store.facts.set_fact("schedule:c1", "daily at 03:00 UTC")
    await store.facts.set_fact("schedule:c1", "hourly")
    await store.facts.set_fact("schedule:c2", "")
    assert await store.facts.get_fact("schedule:c1") == "hourly"
    assert await store.facts.get_fact("schedule:c2") == ""


# --- backups started from Slack ------------------------------------------------------------------


async def test_started_backups_are_pending_until_finished(store: Store) -> None:
    await store.operations.record_operation(
        "op2", "c2", "U2", "C2", None, now=NOW + timedelta(minutes=1)
    )
    await store.operations.record_operation("op1", "c1", "U1", "C1", "1714555815.000200", now=NOW)
    assert await store.operations.list_pending_operations() == [
        PendingOperation("op1", "c1", "U1", "C1", "1714555815.000200", NOW),
        PendingOperation("op2", "c2", "U2", "C2", None, NOW + timedelta(minutes=1)),
    ]
    await store.operations.finish_operation("op1", outcome="done", now=NOW + timedelta(minutes=5))
    assert [op.operation_id for op in await store.operations.list_pending_operations()] == ["op2"]


async def test_recording_an_operation_twice_keeps_the_first(store: Store) -> None:
    await store.operations.record_operation("op1", "c1", "U1", "C1", None, now=NOW)
    await store.operations.record_operation(
        "op1", "c1", "U9", "C9", "9.9", now=NOW + timedelta(hours=1)
    )
    assert await store.operations.list_pending_operations() == [
        PendingOperation("op1", "c1", "U1", "C1", None, NOW)
    ]


async def test_finishing_an_unknown_or_finished_operation_is_harmless(store: Store) -> None:
    await store.operations.finish_operation("nope", outcome="done", now=NOW)
    await store.operations.record_operation("op1", "c1", "U1", "C1", None, now=NOW)
    await store.operations.finish_operation("op1", outcome="done", now=NOW)
    await store.operations.finish_operation("op1", outcome="failed", now=NOW)
    assert await store.operations.list_pending_operations() == []


# --- forgetting ----------------------------------------------------------------------------------


async def test_pruning_forgets_only_finished_history_older_than_the_cutoff(store: Store) -> None:
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=2)
    lease = timedelta(minutes=5)
    for key, at, finish in (
        ("sweep:old", old, True),
        ("sweep:recent", recent, True),
        ("sweep:old-unfinished", old, False),
    ):
        assert await store.claims.claim_run(key, "a", now=at, lease=lease)
        if finish:
            assert await store.claims.finish_run(key, "a", now=at)
    await store.operations.record_operation("op-old", "c1", "U1", "C1", None, now=old)
    await store.operations.finish_operation("op-old", outcome="done", now=old)
    await store.operations.record_operation("op-running", "c1", "U1", "C1", None, now=old)
    resolved = AlertEntry(
        cluster_id="c1", route_key="r", status=AlertStatus.RESOLVED, channel="C1", resolved_at=old
    )
    firing = AlertEntry(cluster_id="c2", route_key="r", status=AlertStatus.FIRING, channel="C1")
    assert await save_alert(store, resolved) is not None
    assert await save_alert(store, firing) is not None

    removed = await store.prune(before=NOW - timedelta(days=30))

    assert removed == 3  # the old finished claim, the old finished operation, the old incident
    async with store.engine.connect() as conn:
        keys = set((await conn.execute(select(run_claims.c.key))).scalars())
    assert keys == {"sweep:recent", "sweep:old-unfinished"}
    assert await store.claims.run_finished("sweep:recent")
    assert [p.operation_id for p in await store.operations.list_pending_operations()] == [
        "op-running"
    ]
    assert await store.incidents.get_alert("c1", "r") is None
    assert await store.incidents.get_alert("c2", "r") is not None
