"""``/backups slo`` and ``/backups history`` read the ledger the sweeps kept, on SQLite and
PostgreSQL, and answer within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.alerts.model import AlertEntry, AlertStatus
from bot.chat.card import Card
from bot.config import BotConfig
from bot.errors import UsageError
from bot.ledger.model import ClusterState, Observation, SeenBackup
from bot.ledger.service import LedgerService
from bot.outbox.change import Change
from bot.slack.blocks import SLACK
from bot.store import Store
from tests.cards import texts_of
from tests.store.conftest import save_alert

NOW = datetime(2026, 12, 1, tzinfo=UTC)
NOV = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
H = timedelta(hours=1)


def _seen(
    cluster_id: str,
    name: str,
    backups: list[datetime],
    *,
    at: datetime = NOW,
    folder: str = "f1",
    labels: dict[str, str] | None = None,
    state: ClusterState = ClusterState.RUNNING,
) -> Observation:
    return Observation(
        cluster_id=cluster_id,
        at=at,
        backups=tuple(
            SeenBackup(f"{cluster_id}:b{b:%m%d%H}", b, b - H, 5 * 1024**3) for b in backups
        ),
        max_age=26 * H,
        max_age_source="schedule",
        state=state,
        name=name,
        folder_id=folder,
        labels=tuple(sorted((labels or {}).items())),
        environment="PRODUCTION",
    )


def _daily(skip: set[int] = frozenset()) -> list[datetime]:  # type: ignore[assignment]
    return [NOV - DAY + i * DAY + 3 * H for i in range(32) if i not in skip]


def _text(card: Card) -> str:
    payload: dict[str, Any] = SLACK.render(card)  # within Slack's budgets, or it raises
    return "\n".join(texts_of(payload.get("blocks", [])))


async def _fleet(store: Store) -> None:
    await store.commit(
        Change(
            ledger=(
                _seen("c1", "logs-prod", _daily(), labels={"team": "obs"}),
                _seen("c2", "orders-prod", _daily({11, 12, 13}), labels={"team": "shop"}),
                _seen("c3", "hidden-prod", _daily({5}), folder="f2"),
            )
        )
    )


def _service(store: Store, **config: Any) -> LedgerService:
    return LedgerService(store, BotConfig.model_validate({"watch": {"folders": ["f1"]}, **config}))


async def test_slo_shows_the_share_the_worst_cluster_and_the_budget(store: Store) -> None:
    await _fleet(store)
    text = _text(await _service(store).slo(None, "2026-11", now=NOW))
    # orders-prod missed three nights: 3 days - 2 h outside; logs-prod none.
    assert "Backup freshness of every watched cluster, 2026-11" in text
    assert "• orders-prod: 90.28 %, worst gap 4d from 2026-11-10 03:00 UTC" in text
    assert "logs-prod:" not in text
    assert "hidden-prod" not in text  # folder f2 is not shown (access.folders: the watched)
    assert "overspent by" in text
    assert "Per day: `" in text


async def test_slo_of_a_match_keeps_only_its_clusters(store: Store) -> None:
    await _fleet(store)
    text = _text(await _service(store).slo("label:team=obs", "2026-11", now=NOW))
    assert "*100.00 %*" in text
    assert "Every cluster is at or above its target." in text
    assert "1 cluster in the ledger." in text


async def test_slo_with_an_override_judges_a_cluster_by_its_own_target(store: Store) -> None:
    await _fleet(store)
    service = _service(
        store,
        slo={
            "target": "99.5%",
            "overrides": [{"match": {"cluster": "orders-prod"}, "target": "90%"}],
        },
    )
    text = _text(await service.slo(None, "2026-11", now=NOW))
    assert "Every cluster is at or above its target." in text


async def test_slo_of_something_the_ledger_does_not_know_says_so(store: Store) -> None:
    await _fleet(store)
    with pytest.raises(UsageError, match="no cluster or folder `nope`"):
        await _service(store).slo("nope", None, now=NOW)


async def test_history_tells_backups_gaps_incidents_and_changes_in_one_timeline(
    store: Store,
) -> None:
    await _fleet(store)
    await store.commit(
        Change(
            ledger=(_seen("c2", "orders-prod", [NOW - H], at=NOW + H, state=ClusterState.STOPPED),)
        )
    )
    await save_alert(
        store,
        AlertEntry(
            cluster_id="c2",
            route_key="alert:C1:x",
            status=AlertStatus.RESOLVED,
            channel="C1",
            opened_at=NOV + 11 * DAY + 5 * H,
            acknowledged_by="U0ONCALL",
            acknowledged_at=NOV + 11 * DAY + 6 * H,
            resolved_at=NOV + 13 * DAY + 3 * H,
        ),
    )
    await store.operations.record_operation("op1", "c2", "U0LEAD", "C1", None, now=NOV + 12 * DAY)
    text = _text(await _service(store).history("orders-prod", 30, now=NOW + 2 * H))
    assert "History of orders-prod, the last 30 days" in text
    assert ":warning: no backup for 4d (max 1d 2h), until `c2:b111403`" in text
    assert "acknowledged by <@U0ONCALL>" in text
    assert ":rotating_light: alert opened" in text
    assert ":white_check_mark: resolved" in text
    assert "backup started from Slack by <@U0LEAD>: still running" in text
    assert ":double_vertical_bar: stopped" in text
    assert "1 breach outside it" in text


async def test_history_of_a_cluster_the_ledger_does_not_keep_says_so(store: Store) -> None:
    with pytest.raises(UsageError, match="no cluster `ghost`"):
        await _service(store).history("ghost", 30, now=NOW)
