"""The slim reading of a backup page: whatever it takes, the models would read the same; what it
does not take is read by the models, items left out and named as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.cloud.models import (
    DecodeError,
    backup_of,
    decode_backup_page,
    decode_backup_page_slim,
    slim_int,
    slim_time,
)

FULL = {
    "id": "b-1",
    "folderId": "f",
    "sourceClusterId": "c",
    "startedAt": "2026-12-07T09:58:00.5Z",
    "createdAt": "2026-12-07T10:00:00.123456789Z",
    "indices": ["a", "b"],
    "opensearchVersion": "2.19",
    "sizeBytes": "1234",
    "indicesTotal": 2,
    "incrementalSizeBytes": " 10 ",
    "totalSizeBytes": "+99",
    "freeSpaceRequiredBytes": "0",
}

ITEMS: list[Any] = [
    FULL,
    {"id": "proto-names", "created_at": "2026-12-07T13:00:00+03:00", "size_bytes": 5},
    {"id": "not-done"},
    {"id": "offset", "createdAt": "2026-12-07T10:00:00-05:30", "startedAt": "2026-12-07T10:00:00Z"},
    {"id": "big", "sizeBytes": str(2**63 - 1)},  # 19 digits: left to the models
    {"id": "bool", "sizeBytes": True},  # refused by both
    {"id": "float", "sizeBytes": 1.0},  # the models take it
    {"id": "naive", "createdAt": "2026-12-07T10:00:00"},  # the models take it as UTC
    {"id": "null", "createdAt": None},  # proto3: null is the default
    {"id": "early", "createdAt": "0001-01-01T00:00:00+03:00"},  # refused by the models
    {"id": ""},
    "not an object",
    {"id": "underscore", "sizeBytes": "1_000"},  # refused by the models
    {"id": "number-time", "createdAt": 1700000000},  # refused by both
]


def _page(*items: Any, token: str = "") -> bytes:
    return json.dumps({"backups": list(items), "nextPageToken": token}).encode()


@pytest.mark.parametrize(
    "item", ITEMS, ids=lambda i: str(i.get("id")) if isinstance(i, dict) else "x"
)
def test_each_item_reads_as_the_models_read_it(item: Any) -> None:
    body = _page(FULL, item, token="next")
    full = decode_backup_page(body)
    slim = decode_backup_page_slim(body)
    assert [backup_of(b) for b in slim.backups] == list(full.backups)
    assert slim.skipped == full.skipped
    assert slim.next_page_token == full.next_page_token == "next"


def test_times_and_ints_as_the_models_keep_them() -> None:
    [item] = decode_backup_page_slim(_page(FULL)).backups
    [backup] = decode_backup_page(_page(FULL)).backups
    assert slim_time(item["created_at"]) == backup.created_at
    assert slim_time(item["created_at"]).tzinfo == backup.created_at.tzinfo  # type: ignore[union-attr]
    assert slim_int(item["size_bytes"]) == backup.size_bytes == 1234
    assert slim_int(item["incremental_size_bytes"]) == backup.incremental_size_bytes == 10


def test_an_empty_body_is_an_empty_page_and_junk_is_no_page() -> None:
    page = decode_backup_page_slim(b"")
    assert page.backups == ()
    assert page.next_page_token == ""
    assert page.skipped == ()
    with pytest.raises(DecodeError):
        decode_backup_page_slim(b"{not json")
    with pytest.raises(DecodeError):
        decode_backup_page_slim(b"[]")
