"""What the message tests share: clusters, backups and reports to render, and the checks every
card passes as Slack gets it (valid Block Kit within Slack's limits, nothing broadcast)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block

from bot.cloud.models import Backup, Cluster, Environment
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.slack.budget import (
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_TEXT,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
)
from tests.slack.payload import Payload

NOW = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
CONSOLE = "https://console.yandex.cloud"
MAX_AGE = MaxAge(timedelta(hours=26), MaxAgeSource.SCHEDULE, "daily at 03:00 UTC")
GIB = 1024**3
HOSTILE = "<!channel> & <@U0BOSS> <https://evil.example|click> *bold* `tick`"
BROADCASTS = re.compile(r"<!(channel|here|everyone)>|<@U0BOSS>|<https://evil")


def texts_of(value: Any) -> list[str]:
    """Every ``text`` string in a block tree."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(texts_of(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(texts_of(item))
    return found


def assert_valid(message: Payload) -> None:
    """Slack's block models accept every block unchanged, and the message is within limits."""
    assert message.text.strip(), "every message needs a plain-text fallback"
    assert 0 < len(message.blocks) <= MAX_BLOCKS
    for block in message.blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict() == block  # validates, and nothing was dropped or renamed
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= MAX_SECTION_TEXT
            fields = block.get("fields", [])
            assert len(fields) <= MAX_SECTION_FIELDS
            assert all(len(f["text"]) <= MAX_FIELD_TEXT for f in fields)
        elif block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER_TEXT
        elif block["type"] == "context":
            assert len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
        elif block["type"] == "actions":
            for element in block["elements"]:
                assert len(element["value"]) <= MAX_BUTTON_VALUE
                assert len(element["text"]["text"]) <= MAX_BUTTON_TEXT
    total = len(message.text) + sum(len(t) for t in texts_of(message.blocks))
    assert total <= MAX_MESSAGE_TEXT
    json.dumps(message.payload())


def assert_no_broadcast(message: Payload) -> None:
    for text in [message.text, *texts_of(message.blocks)]:
        assert not BROADCASTS.search(text), text


def cluster(name: str = "orders-prod", **fields: Any) -> Cluster:
    data: dict[str, Any] = {
        "id": "c9qcluster000000001",
        "folder_id": "b1gfolder0000000001",
        "name": name,
        "environment": Environment.PRODUCTION,
        "labels": {"tier": "critical"},
    }
    data.update(fields)
    return Cluster(**data)


def backup(backup_id: str, hours_ago: float, size: int = 10 * GIB) -> Backup:
    return Backup(
        id=backup_id,
        created_at=NOW - timedelta(hours=hours_ago),
        size_bytes=size,
        indices_total=42,
    )


def report(state: FreshnessState, hours_ago: float | None = 30, **kw: Any) -> FreshnessReport:
    at = NOW - timedelta(hours=hours_ago) if hours_ago is not None else None
    return FreshnessReport(
        cluster_id="c9qcluster000000001",
        state=state,
        max_age=MAX_AGE,
        newest_backup_id="b-0001" if at else None,
        newest_backup_at=at,
        age=NOW - at if at else None,
        **kw,
    )


def all_text(messages: list[Payload]) -> str:
    return "\n".join(t for m in messages for t in texts_of(m.blocks))
