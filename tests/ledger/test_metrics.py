"""The ledger's figures in Prometheus: the month to date per watched cluster, labelled like the
per-cluster freshness metrics, set after each sweep."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from bot.alerts.sweep import Sweeper
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.ops.metrics import Metrics
from bot.store import Store
from tests.world import CONSOLE_URL, FOLDER, IDS, NOW, HoldingSim


def _samples(metrics: Metrics, name: str) -> dict[str, float]:
    body, _type = metrics.render()
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name:
                assert sample.labels["folder"] == FOLDER
                found[sample.labels["cluster"]] = sample.value
    return found


async def test_a_sweep_sets_each_clusters_share_and_error_budget(
    sim: HoldingSim, cloud: CloudClient, store: Store, config: BotConfig
) -> None:
    metrics = Metrics()
    sweeper = Sweeper(cloud, store, config, metrics=metrics, console_url=CONSOLE_URL, owner="a")
    await sweeper.run(now=NOW)
    later = NOW + timedelta(hours=6)
    sim.add_backup(IDS.fresh, created_at=later - timedelta(hours=1))
    await sweeper.run(now=later)

    ratio = _samples(metrics, "backups_bot_objective_ratio")
    budget = _samples(metrics, "backups_bot_error_budget_remaining_seconds")
    # logs-prod was fresh all along; orders-prod was 4 h past its 26 h at the first sweep.
    assert ratio["logs-prod"] == 1.0
    assert ratio["orders-prod"] < 1.0
    assert ratio["new-cluster"] == 0.0  # never backed up
    assert budget["orders-prod"] < budget["logs-prod"]
    assert "archive" not in ratio  # stopped all the time observed: no share
    assert "archive" in budget
