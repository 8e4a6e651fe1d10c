"""The month's ledger as CSV (one row per cluster, opens in a spreadsheet) and the
``backups-bot report`` verb that prints it, or the text, from the store alone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.ledger.messages import CSV_COLUMNS, report_csv
from bot.ledger.model import ClusterHistory, MaxAgeChange, SeenBackup, Span
from bot.ledger.policy import FleetLedger, ledger_of
from bot.outbox.change import Change
from bot.store import Store
from tests.ledger.test_service import _daily, _seen

NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)
H = timedelta(hours=1)


def _history(cluster_id: str, name: str, backups: list[datetime]) -> ClusterHistory:
    return ClusterHistory(
        cluster_id=cluster_id,
        name=name,
        folder_id="f1",
        backups=tuple(SeenBackup(f"b{i}", b) for i, b in enumerate(backups)),
        max_ages=(MaxAgeChange(NOV - 10 * 24 * H, 26 * H, "schedule"),),
        spans=(Span(NOV - 10 * 24 * H, DEC),),
    )


def test_the_csv_has_a_header_and_one_row_per_cluster_worst_first() -> None:
    good = _history("c1", "logs-prod", _daily())
    bad = _history("c2", 'orders "prod", eu', _daily({11, 12, 13}))
    fleet = FleetLedger(
        NOV,
        DEC,
        0.995,
        tuple(ledger_of(h, start=NOV, end=DEC, now=DEC, target=0.995) for h in (good, bad)),
    )
    rows = list(csv.DictReader(io.StringIO(report_csv(fleet, month="2026-11"))))
    assert [r["cluster"] for r in rows] == ['orders "prod", eu', "logs-prod"]
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0]["share_percent"] == "90.2778"
    assert rows[0]["outside_hours"] == "70.00"
    assert rows[0]["breaches"] == "1"
    assert rows[0]["longest_gap_hours"] == "96.00"
    assert rows[0]["longest_gap_start"] == "2026-11-10T03:00:00Z"
    assert rows[1]["share_percent"] == "100.0000"
    assert rows[1]["observed_hours"] == "720.00"
    assert float(rows[1]["error_budget_left_hours"]) == pytest.approx(3.6)


async def test_the_report_verb_prints_the_csv_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    async with await Store.open(url) as store:
        await store.commit(
            Change(
                ledger=(
                    _seen("c1", "logs-prod", _daily(), at=DEC),
                    _seen("c2", "orders-prod", _daily({11, 12, 13}), at=DEC),
                )
            )
        )
    config = tmp_path / "bot.yaml"
    config.write_text("watch: {folders: [f1]}\nslo: {target: 99%}\n", encoding="utf-8")
    monkeypatch.setenv("BACKUPS_BOT_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)

    import asyncio

    assert await asyncio.to_thread(main, ["report", "--month", "2026-11", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["cluster"], r["target_percent"]) for r in rows] == [
        ("orders-prod", "99"),
        ("logs-prod", "99"),
    ]

    assert await asyncio.to_thread(main, ["report", "--month", "2026-11"]) == 0
    text = capsys.readouterr().out
    assert "Backup freshness of every watched cluster, 2026-11" in text
    assert "orders-prod: 90.28 %" in text

    assert await asyncio.to_thread(main, ["report", "--month", "11/2026"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
