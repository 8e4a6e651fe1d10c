"""The monthly report's restore drills: read from the drills table (the ledger keeps no copy),
the clusters proven restorable in the month and their restore times against the drill route's
``rto_target``, in the report's post, its CSV, ``/backups slo`` and ``backups-bot report``."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.drills.model import DrillOutcome, DrillRecord, DrillStep
from bot.ledger.policy import month_drills
from bot.ledger.reporter import MonthlyReporter
from bot.outbox.change import Change
from bot.outbox.executor import DeliveryExecutor
from bot.store import Store
from tests.ledger.test_service import _daily, _seen
from tests.world import deliver

NOV_10 = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
DEC_7 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)

DRILLS = [
    {
        "match": {"labels": {"team": "shop"}},
        "folder": "f1",
        "network": "enpnet",
        "subnets": {"ru-central1-a": "e9bsub"},
        "channel": "C0TEAM",
        "rto_target": "30m",
    },
    {
        "match": {"labels": {"team": "obs"}},
        "folder": "f1",
        "network": "enpnet",
        "subnets": {"ru-central1-a": "e9bsub"},
        "channel": "C0TEAM",
    },
]


def drill(
    cluster_id: str,
    started: datetime,
    outcome: DrillOutcome,
    restore: timedelta | None = None,
    *,
    number: int = 0,
) -> DrillRecord:
    return DrillRecord(
        id=f"d{cluster_id}{started:%m%d%H%M}{number}",
        cluster_id=cluster_id,
        cluster_name="",
        folder_id="f1",
        channel="C0TEAM",
        time_limit=timedelta(hours=3),
        started_at=started,
        step=DrillStep.DONE,
        restored_at=started + restore if restore is not None else None,
        finished_at=started + 50 * M,
        outcome=outcome,
    )


def test_a_cluster_is_proven_restorable_when_a_drill_of_the_month_passed() -> None:
    records = [
        drill("c1", NOV_10, DrillOutcome.FAILED),
        drill("c1", NOV_10 + timedelta(days=1), DrillOutcome.PASSED, 20 * M),
        drill("c1", NOV_10 + timedelta(days=2), DrillOutcome.PASSED, 40 * M),
        drill("c2", NOV_10, DrillOutcome.FAILED),
        drill("elsewhere", NOV_10, DrillOutcome.PASSED, M),  # not one of the report's
    ]
    month = month_drills(
        records,
        [("c1", "orders-prod"), ("c2", "logs-prod"), ("c3", "users-prod"), ("c4", "dev")],
        rto_target=lambda cid: 30 * M if cid == "c1" else None,
        covered=lambda cid: cid != "c4",
    )
    c1, c2 = month.of("c1"), month.of("c2")
    assert c1 is not None
    assert c2 is not None
    assert month.of("elsewhere") is None
    assert (c1.passed, c1.failed, c1.slowest, c1.within_target) == (2, 1, 40 * M, False)
    assert c1.proven
    assert not c2.proven
    assert [c.cluster_id for c in month.worst_first()] == ["c2", "c1"]
    assert month.undrilled == ("users-prod",)  # dev: no drill route covers it


async def _ledger_and_drills(store: Store) -> None:
    await store.commit(
        Change(
            ledger=(
                _seen("c1", "logs-prod", _daily(), labels={"team": "obs"}),
                _seen("c2", "orders-prod", _daily(), labels={"team": "shop"}),
                _seen("c3", "users-prod", _daily(), labels={"team": "shop"}),
                _seen("c4", "dev", _daily(), labels={"team": "dev"}),
            )
        )
    )
    for record in (
        drill("c1", NOV_10, DrillOutcome.PASSED, 12 * M),
        drill("c2", NOV_10, DrillOutcome.PASSED, 45 * M),
        drill("c3", NOV_10, DrillOutcome.FAILED),
        # December's drill is not November's.
        drill("c3", DEC_7 - timedelta(days=1), DrillOutcome.PASSED, M),
    ):
        await store.drills.start_drill(record)


async def test_the_monthly_report_says_which_clusters_were_proven_restorable(
    store: Store, executor: DeliveryExecutor, fake_slack: FakeSlack
) -> None:
    await _ledger_and_drills(store)
    config = BotConfig.model_validate(
        {"watch": {"folders": ["f1"]}, "reports": [{"channel": "C0TEAM"}], "drills": DRILLS}
    )
    [route] = config.reports
    assert (await MonthlyReporter(store, config, owner="a").run(route, now=DEC_7)).post
    await deliver(executor)
    [post] = fake_slack.top_level("C0TEAM")
    text = str(post["blocks"])
    assert "*Restore drills:* 2 of 3 drilled clusters proven restorable (a drill passed):" in text
    assert ":x: users-prod: no drill passed (1 failed)" in text
    assert ":warning: orders-prod: restored in 45m, slower than its target 30m" in text
    assert ":white_check_mark: logs-prod: restored in 12m" in text
    assert "dev" not in text  # no drill route covers it: not "undrilled"
    [table] = fake_slack.files("C0TEAM")
    rows = {r["cluster"]: r for r in csv.DictReader(io.StringIO(table["content"].decode()))}
    assert [
        rows["orders-prod"][k]
        for k in ("drills_passed", "drills_failed", "slowest_restore_minutes", "rto_target_minutes")
    ] == ["1", "0", "45", "30"]
    assert rows["users-prod"]["drills_failed"] == "1"
    assert rows["users-prod"]["slowest_restore_minutes"] == ""
    assert rows["dev"]["drills_passed"] == ""


async def test_a_covered_cluster_without_a_drill_in_the_month_is_counted(store: Store) -> None:
    await _ledger_and_drills(store)
    config = BotConfig.model_validate(
        {
            "watch": {"folders": ["f1"]},
            "reports": [{"channel": "C0TEAM"}],
            "drills": [{**DRILLS[0], "match": {}}],  # every cluster
        }
    )
    [route] = config.reports
    result = await MonthlyReporter(store, config, owner="a").run(route, now=DEC_7)
    assert result.post is not None
    text = str(result.post.payload["blocks"])
    assert "1 cluster a drill route covers was not drilled in this period." in text


async def test_without_drills_the_report_says_nothing_of_them(store: Store) -> None:
    await store.commit(Change(ledger=(_seen("c1", "logs-prod", _daily()),)))
    config = BotConfig.model_validate(
        {"watch": {"folders": ["f1"]}, "reports": [{"channel": "C0TEAM"}]}
    )
    [route] = config.reports
    result = await MonthlyReporter(store, config, owner="a").run(route, now=DEC_7)
    assert result.post is not None
    assert "drill" not in str(result.post.payload).lower()


async def test_the_report_verb_has_the_drills_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    async with await Store.open(url) as store:
        await _ledger_and_drills(store)
    config = tmp_path / "bot.yaml"
    config.write_text(
        "watch: {folders: [f1]}\n"
        "drills:\n"
        "  - {match: {labels: {team: shop}}, folder: f1, network: enpnet,\n"
        "     subnets: {ru-central1-a: e9bsub}, channel: C0TEAM, rto_target: 30m}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BACKUPS_BOT_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)

    assert await asyncio.to_thread(main, ["report", "--month", "2026-11", "--csv"]) == 0
    rows = {r["cluster"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["orders-prod"]["slowest_restore_minutes"] == "45"
    assert rows["logs-prod"]["drills_passed"] == "1"  # drilled, by a route since removed

    assert await asyncio.to_thread(main, ["report", "--month", "2026-11"]) == 0
    text = capsys.readouterr().out
    assert "2 of 3 drilled clusters proven restorable" in text
    assert "orders-prod: restored in 45m, slower than its target 30m" in text
