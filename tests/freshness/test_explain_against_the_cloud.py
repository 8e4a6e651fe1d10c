"""Why a backup is late, and whether a restore would work, end to end against the simulated cloud.

Each of the six points of the feature, through the sweep, the digest and ``status``: failed backup
attempts named in the alert, a DEAD cluster said first, retention policies as a schedule source
(and a cluster or endpoint without them asked once per process), restore readiness, the trend,
and what it all costs in requests: a fresh fleet's sweep asks for no operations at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.alerts.sweep import Sweeper
from bot.app.wiring import Features
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.fleet import (
    GIB,
    SimCluster,
    SimMaintenance,
    SimNodeGroup,
    SimPolicy,
    SimSchedule,
    generate_fleet,
)
from bot.demo.simcloud.server import SimCloud
from bot.digest.runner import DigestRunner
from bot.outbox.executor import DeliveryExecutor
from bot.slack.blocks import SLACK
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.world import (
    CONSOLE_URL,
    FOLDER,
    IDS,
    NOW,
    ONCALL_CHANNEL,
    alert_of,
    make_cloud,
    make_config,
    make_features,
    replies,
    sweep_and_deliver,
)

OPERATIONS = r"/clusters/[^/]+/operations$"
POLICIES = r"/retention_policies$"
CLUSTER_POLICIES = r"/clusters/[^/]+/retention_policies$"
FOLDER_POLICIES = r"/folders/[^/]+/retention_policies$"
HOSTILE = "<!channel> Snapshot failed: repository `yc-backups` is read-only & throttled"


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    """SQLite only: what is read from the cloud, not the store, is what these tests are about."""
    async with await Store.open(sqlite_url) as opened:
        yield opened


def sweeper(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> Sweeper:
    return Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="replica-a")


def service(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> Features:
    return make_features(cloud, store, config)


def headline(message: dict[str, Any]) -> str:
    return str(message["blocks"][0]["text"]["text"])


def block_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload["blocks"], ensure_ascii=False)


def add_cluster(sim: SimCloud, cluster_id: str, name: str, **fields: Any) -> SimCluster:
    return sim.fleet.add_cluster(
        SimCluster(
            id=cluster_id,
            folder_id=FOLDER,
            name=name,
            created_at=NOW - timedelta(days=300),
            **fields,
        )
    )


# --- 1. failed backup attempts -----------------------------------------------------------------


async def test_an_alert_names_the_last_failed_attempt_and_its_time_escaped_in_the_alert_itself(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    # orders-prod's newest backup is from yesterday's 03:00 slot; today's 03:00 attempt failed,
    # and so did the retry at 06:00.
    sim.add_operation(IDS.stale, created_at=NOW - timedelta(hours=6), error="timed out")
    sim.add_operation(IDS.stale, created_at=NOW - timedelta(hours=3), error=HOSTILE)

    await sweep_and_deliver(sweeper(cloud, store, notifier, config), executor, now=NOW)

    alert = alert_of(fake_slack, "orders-prod")
    text = headline(alert)
    at = int((NOW - timedelta(hours=3)).timestamp())
    assert f"The last backup attempt, <!date^{at}^" in text
    assert "2026-03-02 06:00 UTC>, failed: &lt;!channel&gt; Snapshot failed" in text
    assert "read-only &amp; throttled (2 attempts in a row have failed)" in text
    assert "<!channel>" not in json.dumps(alert["blocks"])
    assert "the last backup attempt failed" in alert["text"]


async def test_reminders_name_the_last_attempt_too(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sweep = sweeper(cloud, store, notifier, config)
    await sweep_and_deliver(sweep, executor, now=NOW)
    # A backup was started an hour later and still runs when the reminder is due.
    sim.add_operation(IDS.stale, created_at=NOW + timedelta(hours=3), done=False)
    await sweep_and_deliver(sweep, executor, now=NOW + timedelta(hours=4, minutes=1))

    alert = alert_of(fake_slack, "orders-prod")
    [reminder] = replies(fake_slack.messages(ONCALL_CHANNEL), alert["ts"])
    assert "A backup has been running for 1h 1m" in block_text(reminder)


async def test_a_fresh_cluster_past_a_slot_without_its_backup_is_in_question(
    sim: SimCloud, cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> None:
    # Hourly at :00; the newest backup is from 07:00, so 08:00 passed without one (fresh still:
    # the maximum is 3 h). Its operations say why: the 08:00 backup is still running.
    add_cluster(sim, "c9qhourlyprod0000007", "hourly-prod", schedule=SimSchedule("hourly"))
    sim.add_backup("c9qhourlyprod0000007", created_at=NOW - timedelta(hours=1, minutes=55))
    sim.add_operation("c9qhourlyprod0000007", created_at=NOW - timedelta(hours=1), done=False)

    message = await service(cloud, store, notifier, config).queries.status_view(None, now=NOW)

    text = block_text(SLACK.render(message))
    row = next(r for r in text.split("\\n\\n") if "hourly-prod" in r)
    assert "A backup has been running for 1h" in row
    asked = {r.path.split("/")[-2] for r in sim.requests_to(OPERATIONS)}
    assert "c9qhourlyprod0000007" in asked
    assert IDS.fresh not in asked  # fresh and on schedule: not asked


async def test_a_sweep_over_an_all_fresh_fleet_makes_no_list_operations_request(
    store: Store, notifier: SlackNotifier
) -> None:
    sim_config = SimConfig(folders=2, clusters_per_folder=40, backups_per_cluster=5, seed=17)
    async with SimCloud(sim_config, generate_fleet(sim_config, NOW)) as sim:
        cloud = make_cloud(sim)
        try:
            config = make_config(watch={"folders": sim.fleet.folder_ids()})
            result = await sweeper(cloud, store, notifier, config).run(now=NOW)
        finally:
            await cloud.aclose()
    assert result.ok
    assert result.clusters == 80
    assert result.posted == []
    assert sim.requests_to(OPERATIONS) == []
    # The clusters with no snapshot schedule had their policies read (they could set the
    # maximum age); the scheduled ones did not. A folder with two or more of them has its
    # policies listed in one request (ListByFolder), a folder with one asks for that cluster's.
    unscheduled: dict[str, list[str]] = {}
    for c in sim.fleet.clusters.values():
        if c.schedule is None:
            unscheduled.setdefault(c.folder_id, []).append(c.id)
    assert unscheduled
    by_folder = sorted(r.path.split("/")[-2] for r in sim.requests_to(FOLDER_POLICIES))
    by_cluster = sorted(r.path.split("/")[-2] for r in sim.requests_to(CLUSTER_POLICIES))
    assert by_folder == sorted(f for f, ids in unscheduled.items() if len(ids) > 1)
    assert by_cluster == sorted(i for ids in unscheduled.values() if len(ids) == 1 for i in ids)
    assert len(sim.requests_to(POLICIES)) < sum(len(ids) for ids in unscheduled.values())


async def test_operations_that_cannot_be_read_are_said_and_change_nothing(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sim.inject_fault(OPERATIONS, 403, times=None)
    result = await sweep_and_deliver(sweeper(cloud, store, notifier, config), executor, now=NOW)
    assert {p.subject.partition(" ")[0] for p in result.posted} == {IDS.stale, IDS.never}
    text = headline(alert_of(fake_slack, "orders-prod"))
    assert "The cluster's operations could not be read: Permission denied" in text


# --- 2. the cluster's own state ----------------------------------------------------------------


async def test_an_alert_for_a_dead_cluster_says_so_first(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sim.set_state(IDS.stale, status="ERROR", health="DEAD")
    await sweep_and_deliver(sweeper(cloud, store, notifier, config), executor, now=NOW)
    alert = alert_of(fake_slack, "orders-prod")
    text = headline(alert)
    first = text.split("\n")[1]
    assert first.endswith(
        "*: cluster is DEAD: backups cannot run; the newest backup is 1d 6h old; "
        "the maximum is 1d 2h"
    )
    assert "Cluster status ERROR" in text
    assert alert["text"].startswith("FIRING: orders-prod: cluster is DEAD: backups cannot run;")


async def test_a_degraded_or_updating_cluster_is_shown_and_a_stopped_one_still_not_alerted(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    sim.set_state(IDS.stale, status="UPDATING", health="DEGRADED")
    sim.set_state(IDS.stopped, status="STOPPED", health="DEAD")
    result = await sweep_and_deliver(sweeper(cloud, store, notifier, config), executor, now=NOW)
    assert IDS.stopped not in {p.subject for p in result.posted}
    text = headline(alert_of(fake_slack, "orders-prod"))
    assert "*: the newest backup is 1d 6h old" in text  # nothing blocks: not said first
    assert "Cluster health DEGRADED, status UPDATING" in text

    status = await service(cloud, store, notifier, config).queries.status_view(None, now=NOW)
    rows = block_text(SLACK.render(status))
    assert "Cluster stopped, not checked." in rows


async def test_a_planned_maintenance_over_the_backup_window_is_mentioned(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    tomorrow_3am = NOW.replace(hour=3) + timedelta(days=1)
    sim.fleet.clusters[IDS.stale].maintenance = SimMaintenance(
        "Upgrade <OpenSearch> to 2.17.1", delayed_until=tomorrow_3am + timedelta(minutes=20)
    )
    sim.fleet.clusters[IDS.never].maintenance = SimMaintenance(
        "Elsewhere", delayed_until=tomorrow_3am
    )  # no schedule, so no backup window to overlap
    await sweep_and_deliver(sweeper(cloud, store, notifier, config), executor, now=NOW)
    text = headline(alert_of(fake_slack, "orders-prod"))
    assert ":wrench: A planned maintenance, delayed until <!date^" in text
    assert (
        "overlaps the 03:00 UTC backup slot (daily at 03:00 UTC): Upgrade &lt;OpenSearch&gt;"
        in text
    )
    assert ":wrench:" not in headline(alert_of(fake_slack, "new-cluster"))


# --- 3. retention policies ---------------------------------------------------------------------


async def test_a_policy_schedule_sets_the_maximum_age_of_a_cluster_without_snapshot_schedule(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    config: BotConfig,
    executor: DeliveryExecutor,
) -> None:
    # Backed up 10 h ago: fresh by the default (1d 2h), stale by its policy (every 6 h + 2 h).
    add_cluster(
        sim,
        "c9qpolicyprod0000008",
        "policy-prod",
        policies=[SimPolicy("p1", "four-a-day", minute="0", hour="*/6", retain_for_days=3)],
    )
    sim.add_backup("c9qpolicyprod0000008", created_at=NOW - timedelta(hours=10))

    await sweep_and_deliver(sweeper(cloud, store, notifier, config), executor, now=NOW)

    alert = alert_of(fake_slack, "policy-prod")
    assert "the newest backup is 10h old; the maximum is 8h" in headline(alert)
    assert "Max age from retention policy four-a-day (0 */6 * * *), plus grace" in json.dumps(
        alert["blocks"]
    )
    status = await service(cloud, store, notifier, config).queries.status_view(
        "policy-prod", now=NOW
    )
    assert "Backup retention policies: *four-a-day* `0 */6 * * *` UTC, kept 3 days" in block_text(
        SLACK.render(status)
    )


async def test_a_cluster_without_retention_policies_costs_one_request_per_process(
    sim: SimCloud, store: Store, notifier: SlackNotifier, config: BotConfig
) -> None:
    # new-cluster has no snapshot schedule: its policies could set its maximum age. The cloud
    # answers 404 for it: asked once, then never again by this process. (The cloud here lists
    # no policies by folder, so each cluster's are asked for.)
    sim.config = replace(sim.config, retention_policies_by_folder=False)
    sim.fleet.clusters[IDS.never].policies = None
    add_cluster(sim, "c9qpolicyprod0000008", "policy-prod")  # offered, none: asked each sweep
    cloud = make_cloud(sim)
    try:
        sweep = sweeper(cloud, store, notifier, config)
        for hours in (0, 1, 2):
            result = await sweep.run(now=NOW + timedelta(hours=hours), manual=True)
            assert result.ok
        status = await service(cloud, store, notifier, config).queries.status_view(
            "new-cluster", now=NOW
        )
    finally:
        await cloud.aclose()
    # The folder's listing answered 501 once: never asked again.
    assert len(sim.requests_to(FOLDER_POLICIES)) == 1
    asked = [r.path.split("/")[-2] for r in sim.requests_to(CLUSTER_POLICIES)]
    assert asked.count(IDS.never) == 1
    # Three sweeps, and the re-read that confirms its new incident (it has no backup) once.
    assert asked.count("c9qpolicyprod0000008") == 4
    assert "Backup retention policies: not offered for this cluster" in block_text(
        SLACK.render(status)
    )


async def test_a_service_without_retention_policies_costs_one_request_per_process(
    store: Store, notifier: SlackNotifier, config: BotConfig
) -> None:
    from tests.world import make_fleet, seed_backups

    async with SimCloud(SimConfig(retention_policies=False), make_fleet()) as sim:
        seed_backups(sim)
        add_cluster(sim, "c9qpolicyprod0000008", "policy-prod")
        cloud = make_cloud(sim)
        try:
            sweep = sweeper(cloud, store, notifier, config)
            for hours in (0, 1):
                assert (await sweep.run(now=NOW + timedelta(hours=hours), manual=True)).ok
            await service(cloud, store, notifier, config).queries.status_view("logs-prod", now=NOW)
        finally:
            await cloud.aclose()
        # 501 for the first folder and the first cluster asked: neither listing is offered,
        # for any folder or cluster.
        assert len(sim.requests_to(FOLDER_POLICIES)) == 1
        assert len(sim.requests_to(CLUSTER_POLICIES)) == 1


# --- 4. restore readiness ----------------------------------------------------------------------


async def test_the_digest_warns_of_a_newest_backup_that_would_not_fit_and_of_no_other(
    sim: SimCloud, cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> None:
    sim.fleet.clusters[IDS.fresh].node_groups = [SimNodeGroup("hot", 100 * GIB, 2, ("DATA",))]
    sim.add_backup(
        IDS.fresh, created_at=NOW - timedelta(hours=1), free_space_required_bytes=300 * GIB
    )
    sim.add_backup(IDS.stale, created_at=NOW - timedelta(hours=29), free_space_required_bytes=GIB)
    runner = DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="r")
    [result] = await runner.run_all(now=NOW, dry_run=True)
    top = block_text(SLACK.render(result.messages[0]))
    assert top.count("would not fit") == 1
    # A fresh cluster, in the top post's problems for its warning, in a few words.
    [line] = [line for line in top.split("\\n") if "logs-prod" in line]  # JSON's \\n
    assert ":warning: the newest backup would not fit a restore" in line


async def test_status_of_one_cluster_shows_restore_readiness_policies_and_the_trend(
    sim: SimCloud, cloud: CloudClient, store: Store, notifier: SlackNotifier, config: BotConfig
) -> None:
    for hours, size in ((20, 50), (10, 60), (1, 20)):
        sim.add_backup(
            IDS.fresh,
            created_at=NOW - timedelta(hours=hours),
            size_bytes=size * GIB,
            free_space_required_bytes=size * GIB,
        )
    message = await service(cloud, store, notifier, config).queries.status_view(
        "logs-prod", now=NOW
    )
    text = block_text(SLACK.render(message))
    assert (
        "A restore of the newest backup into a cluster of this shape would fit: it needs "
        "20 GiB free, the data nodes have 1.5 TiB." in text
    )
    assert "Backup retention policies: none" in text
    trend = re.search(r"Last 5 backups, oldest first: size `([^`]+)` 5 GiB–60 GiB", text)
    assert trend is not None
    assert trend.group(1) == "▁▇█▁▃"  # 5, 50, 60, 5 and 20 GiB, oldest first
    assert "The last backup attempt" in text  # one cluster in full: its operations are read
