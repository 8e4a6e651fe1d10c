"""The monthly report: once per route and month, whoever runs it, delivered through the outbox
to the route's channel with last month's figures and worst clusters."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.ledger.reporter import MonthlyReporter, last_month
from bot.outbox.change import Change
from bot.outbox.executor import DeliveryExecutor
from bot.store import Store
from bot.store.claims import SKIPPED_CLAIM
from tests.ledger.test_service import _daily, _seen
from tests.world import deliver

DEC_7 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _config() -> BotConfig:
    return BotConfig.model_validate(
        {
            "watch": {"folders": ["f1"]},
            "reports": [
                {"channel": "C0TEAM", "timezone": "Europe/Moscow"},
                {"channel": "C0SHOP", "match": {"labels": {"team": "shop"}}},
            ],
        }
    )


async def test_each_route_gets_last_months_report_once(
    store: Store, executor: DeliveryExecutor, fake_slack: FakeSlack
) -> None:
    await store.commit(
        Change(
            ledger=(
                _seen("c1", "logs-prod", _daily(), labels={"team": "obs"}),
                _seen("c2", "orders-prod", _daily({11, 12, 13}), labels={"team": "shop"}),
            )
        )
    )
    config = _config()
    replica_a = MonthlyReporter(store, config, owner="a")
    replica_b = MonthlyReporter(store, config, owner="b")
    team, shop = config.reports

    first = await replica_a.run(team, now=DEC_7)
    again = await replica_b.run(team, now=DEC_7)
    assert first.post is not None
    assert first.key == "report:C0TEAM:2026-11"
    assert again.skipped == SKIPPED_CLAIM
    assert (await replica_b.run(shop, now=DEC_7)).post is not None
    await deliver(executor)

    [team_post] = fake_slack.top_level("C0TEAM")
    assert team_post["text"].startswith("Backup freshness of every watched cluster, 2026-11")
    assert "orders-prod: 90.28 %" in str(team_post["blocks"])
    [shop_post] = fake_slack.top_level("C0SHOP")
    assert "the clusters of this report" in shop_post["text"]
    assert "logs-prod" not in str(shop_post["blocks"])
    # The full table, one row per cluster, once, in the report's thread.
    [table] = fake_slack.files("C0TEAM")
    assert table["name"] == "backup-freshness-2026-11.csv"
    assert table["thread_ts"] == team_post["ts"]
    rows = table["content"].decode("utf-8").splitlines()
    assert len(rows) == 3  # the header and two clusters
    assert any(row.startswith("orders-prod,") or ",orders-prod," in row for row in rows)
    [shop_table] = fake_slack.files("C0SHOP")
    assert b"logs-prod" not in shop_table["content"]


def test_last_month_is_the_routes_own() -> None:
    [team, shop] = _config().reports
    # 23:30 UTC on the last day of November is already December in Moscow.
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert last_month(team, late) == "2026-11"
    assert last_month(shop, late) == "2026-10"
