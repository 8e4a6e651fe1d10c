"""The packed list of backups a reading keeps for the freshness ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.fleet.seen import EMPTY, PackedSeen
from bot.ledger.model import SeenBackup


def test_what_goes_in_comes_back_in_order_with_every_field() -> None:
    at = datetime(2026, 12, 7, 10, 30, 15, 123456, tzinfo=UTC)
    backups = [
        SeenBackup("b-1", at, at - timedelta(minutes=5), 2**62),
        SeenBackup("идентификатор", at + timedelta(hours=1), None, 0),
        SeenBackup("x", datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC), -1),
    ]
    packed = PackedSeen()
    for b in backups:
        packed.add(b.backup_id, b.completed_at, b.started_at, b.size_bytes)
    packed.freeze()
    assert list(packed) == backups
    assert packed == tuple(backups)
    assert len(packed) == 3
    assert all(b.completed_at.tzinfo is UTC for b in packed)


def test_a_time_in_another_zone_comes_back_as_the_same_instant_in_utc() -> None:
    at = datetime(2026, 12, 7, 13, 0, tzinfo=timezone(timedelta(hours=3)))
    packed = PackedSeen()
    packed.add("b", at, None, 1)
    [back] = packed.freeze()
    assert back.completed_at == at
    assert back.completed_at.utcoffset() == timedelta(0)


def test_its_repr_never_lists_the_backups() -> None:
    packed = PackedSeen()
    for i in range(1000):
        packed.add(f"backup-{i}", datetime(2026, 1, 1, tzinfo=UTC), None, i)
    assert repr(packed.freeze()) == "PackedSeen(1000 backups)"
    assert not EMPTY
    assert list(EMPTY) == []
