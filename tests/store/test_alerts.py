"""Alert incidents: saved whole, and never moved by two replicas at once."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.alerts.model import AlertEntry, AlertStatus, Seen
from bot.freshness.attempts import AttemptOutcome
from bot.freshness.model import FreshnessState, MaxAge, MaxAgeSource
from bot.store import Store
from tests.store.conftest import OpenStore, save_alert

NOW = datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _full_entry() -> AlertEntry:
    """An entry with every field set away from its default."""
    return AlertEntry(
        cluster_id="c9qexamplecluster001",
        route_key="alerts:C0ONCALLCHAN:1",
        status=AlertStatus.SNOOZED,
        channel="C0ONCALLCHAN",
        message_id="p0123456789abcdef",
        group_id="g0123456789abcdef",
        cluster_name="orders-prod",
        folder_id="b1gexamplefolder0001",
        opened_at=NOW - timedelta(hours=3),
        stale_since=NOW - timedelta(hours=4, microseconds=1),
        last_notified_at=NOW - timedelta(hours=1),
        acknowledged_by="U0ONCALLLEAD",
        acknowledged_at=NOW - timedelta(hours=2),
        snoozed_until=NOW + timedelta(hours=4),
        snoozed_by="U0SOMEONE",
        resolved_at=NOW - timedelta(minutes=1),
        last_state=FreshnessState.NEVER,
        newest_backup_at=NOW - timedelta(days=2),
        version=0,
        seen=Seen(
            max_age=MaxAge(timedelta(hours=26), MaxAgeSource.SCHEDULE, "daily at 03:00 UTC"),
            blocking="DEAD",
            words=("status ERROR",),
            attempt=AttemptOutcome.FAILED,
            attempt_at=NOW - timedelta(hours=5),
            attempt_error="Snapshot failed: <Object Storage 503>",
            attempt_code=13,
            failed_in_a_row=2,
        ),
        silence_id=7,
        silenced_until=NOW + timedelta(hours=6),
        escalated_at=NOW - timedelta(minutes=30),
    )


def test_the_sample_entry_sets_every_field() -> None:
    # Guards the round-trip test: a field added to AlertEntry must be added to the sample (and
    # to the store) or this fails.
    entry, default = _full_entry(), AlertEntry(cluster_id="x", route_key="y")
    unset = [
        f.name
        for f in dataclasses.fields(AlertEntry)
        # message_ts is derived: the outbox's ts of message_id (see the outbox tests).
        if f.name not in ("version", "cluster_id", "route_key", "message_ts")
        and getattr(entry, f.name) == getattr(default, f.name)
    ]
    assert unset == []


async def test_every_field_survives_a_round_trip(store: Store) -> None:
    saved = await save_alert(store, _full_entry())
    assert saved == dataclasses.replace(_full_entry(), version=1)
    loaded = await store.incidents.get_alert("c9qexamplecluster001", "alerts:C0ONCALLCHAN:1")
    assert loaded == saved
    assert loaded is not None
    assert type(loaded.status) is AlertStatus
    assert type(loaded.last_state) is FreshnessState
    assert loaded.opened_at is not None
    assert loaded.opened_at.tzinfo == UTC


async def test_an_incident_from_before_the_outbox_keeps_its_message_ts(store: Store) -> None:
    legacy = AlertEntry(
        cluster_id="c1", route_key="r1", status=AlertStatus.FIRING, message_ts="1714555815.000200"
    )
    await save_alert(store, legacy)
    assert await store.incidents.get_alert("c1", "r1") == dataclasses.replace(legacy, version=1)


async def test_a_minimal_entry_survives_a_round_trip(store: Store) -> None:
    entry = AlertEntry(cluster_id="c1", route_key="r1")
    assert await save_alert(store, entry) == dataclasses.replace(entry, version=1)
    assert await store.incidents.get_alert("c1", "r1") == dataclasses.replace(entry, version=1)


async def test_times_in_other_zones_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    in_moscow = NOW.astimezone(timezone(timedelta(hours=3)))
    await save_alert(store, AlertEntry(cluster_id="c1", route_key="r1", opened_at=in_moscow))
    loaded = await store.incidents.get_alert("c1", "r1")
    assert loaded is not None
    assert loaded.opened_at == NOW
    assert loaded.opened_at is not None
    assert loaded.opened_at.utcoffset() == timedelta(0)


async def test_missing_alert_is_none(store: Store) -> None:
    assert await store.incidents.get_alert("c1", "r1") is None


async def test_each_save_bumps_the_version(store: Store) -> None:
    first = await save_alert(store, AlertEntry(cluster_id="c1", route_key="r1"))
    assert first is not None
    second = await save_alert(
        store, dataclasses.replace(first, status=AlertStatus.FIRING, message_ts="1.2")
    )
    assert second is not None
    assert second.version == 2
    assert await store.incidents.get_alert("c1", "r1") == second


async def test_a_save_from_a_stale_read_is_refused(store: Store) -> None:
    saved = await save_alert(store, AlertEntry(cluster_id="c1", route_key="r1"))
    assert saved is not None
    mine = dataclasses.replace(saved, status=AlertStatus.ACKNOWLEDGED, acknowledged_by="U1")
    theirs = dataclasses.replace(saved, status=AlertStatus.SNOOZED, snoozed_by="U2")
    assert await save_alert(store, theirs) is not None
    assert await save_alert(store, mine) is None
    kept = await store.incidents.get_alert("c1", "r1")
    assert kept is not None
    assert (kept.status, kept.snoozed_by, kept.version) == (AlertStatus.SNOOZED, "U2", 2)


async def test_a_new_entry_for_an_existing_incident_is_refused(store: Store) -> None:
    assert await save_alert(store, AlertEntry(cluster_id="c1", route_key="r1")) is not None
    assert await save_alert(store, AlertEntry(cluster_id="c1", route_key="r1", channel="C")) is None


async def test_saving_a_version_that_was_never_written_is_refused(store: Store) -> None:
    assert await save_alert(store, AlertEntry(cluster_id="c1", route_key="r1", version=3)) is None
    assert await store.incidents.get_alert("c1", "r1") is None


async def test_negative_version_is_a_bug(store: Store) -> None:
    with pytest.raises(ValueError, match="version"):
        await save_alert(store, AlertEntry(cluster_id="c1", route_key="r1", version=-1))


async def test_two_replicas_opening_one_incident_at_once_make_one_winner(
    open_store: OpenStore,
) -> None:
    stores = [await open_store() for _ in range(4)]
    entries = [
        AlertEntry(cluster_id="c1", route_key="r1", status=AlertStatus.FIRING, channel=f"C{i}")
        for i in range(len(stores))
    ]
    results = await asyncio.gather(
        *(save_alert(s, e) for s, e in zip(stores, entries, strict=True))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert await stores[0].incidents.get_alert("c1", "r1") == winners[0]


async def test_two_replicas_moving_one_incident_at_once_make_one_winner(
    open_store: OpenStore,
) -> None:
    stores = [await open_store() for _ in range(4)]
    base = await save_alert(stores[0], AlertEntry(cluster_id="c1", route_key="r1"))
    assert base is not None
    moves = [dataclasses.replace(base, message_ts=f"1.{i}") for i in range(len(stores))]
    results = await asyncio.gather(*(save_alert(s, m) for s, m in zip(stores, moves, strict=True)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].version == 2
    assert await stores[0].incidents.get_alert("c1", "r1") == winners[0]


async def test_listing_filters_by_route_and_by_open_status(store: Store) -> None:
    for cluster, route, status in [
        ("c2", "r1", AlertStatus.FIRING),
        ("c1", "r1", AlertStatus.RESOLVED),
        ("c3", "r1", AlertStatus.ACKNOWLEDGED),
        ("c1", "r2", AlertStatus.SNOOZED),
        ("c2", "r2", AlertStatus.OK),
    ]:
        await save_alert(store, AlertEntry(cluster_id=cluster, route_key=route, status=status))

    def keys(entries: list[AlertEntry]) -> list[tuple[str, str]]:
        return [(e.route_key, e.cluster_id) for e in entries]

    assert keys(await store.incidents.list_alerts()) == [
        ("r1", "c1"),
        ("r1", "c2"),
        ("r1", "c3"),
        ("r2", "c1"),
        ("r2", "c2"),
    ]
    assert keys(await store.incidents.list_alerts(route_key="r2")) == [("r2", "c1"), ("r2", "c2")]
    assert keys(await store.incidents.list_alerts(open_only=True)) == [
        ("r1", "c2"),
        ("r1", "c3"),
        ("r2", "c1"),
    ]
    assert keys(await store.incidents.list_alerts(route_key="r1", open_only=True)) == [
        ("r1", "c2"),
        ("r1", "c3"),
    ]
