"""The backups a reading listed, as the freshness ledger keeps them, packed.

A sweep of 10,000 clusters lists some 600,000 backups, and the ledger needs each one's id,
completion and start times and size. As :class:`bot.ledger.model.SeenBackup` values (an id
string, two datetimes and an int each) that is some 300 bytes a backup, 180 MB for the fleet;
packed here into one string of ids and three arrays of integers it is the id's characters and
28 bytes. Iterating gives :class:`SeenBackup` values again, one at a time.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bot.ledger.model import SeenBackup

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: A start time that was not given (no timestamp is this far in the past).
_NONE = -(2**63)


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _at(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


class PackedSeen:
    """Completed backups, in the order added; :meth:`add` one, iterate to read them back."""

    __slots__ = ("_completed", "_ids", "_lengths", "_sizes", "_started")

    def __init__(self) -> None:
        self._ids: list[str] = []  # joined into one string by freeze()
        self._lengths = array("I")
        self._completed = array("q")
        self._started = array("q")
        self._sizes = array("q")

    def add(
        self, backup_id: str, completed_at: datetime, started_at: datetime | None, size: int
    ) -> None:
        self._ids.append(backup_id)
        self._lengths.append(len(backup_id))
        self._completed.append(_micros(completed_at))
        self._started.append(_NONE if started_at is None else _micros(started_at))
        self._sizes.append(size)

    def freeze(self) -> PackedSeen:
        """The same backups with the ids in one string (call once all are added)."""
        self._ids = ["".join(self._ids)]
        return self

    def __len__(self) -> int:
        return len(self._lengths)

    def __bool__(self) -> bool:
        return len(self._lengths) > 0

    def __iter__(self) -> Iterator[SeenBackup]:
        text = "".join(self._ids)
        start = 0
        for length, completed, started, size in zip(
            self._lengths, self._completed, self._started, self._sizes, strict=True
        ):
            backup_id = text[start : start + length]
            start += length
            yield SeenBackup(
                backup_id, _at(completed), None if started == _NONE else _at(started), size
            )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedSeen):
            return list(self) == list(other)
        if isinstance(other, tuple | list):
            return list(self) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(len(self))  # equal packs have equal lengths

    def __repr__(self) -> str:
        # Never the backups themselves: a reading's repr stays short whatever the cluster holds.
        return f"PackedSeen({len(self)} backups)"


#: No backups (a reading that kept none).
EMPTY = PackedSeen().freeze()
