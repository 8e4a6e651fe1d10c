"""*Start backup now* pressed on the Home tab (a view: no channel, no message) reports the
backup's outcome in the cluster's open alert's thread, as the alert's own button does."""

from __future__ import annotations

from bot.alerts.actions import START_BACKUP, AlertRef
from bot.alerts.model import AlertEntry, AlertStatus
from bot.chat.actions import Invocation
from bot.config import BotConfig
from bot.outbox.change import Change
from bot.store import Store
from tests.world import IDS, NOW, ONCALL_CHANNEL, HoldingSim, make_cloud, make_features

ALERT_TS = "1764650000.000100"


async def test_a_backup_started_from_the_home_tab_reports_in_the_alerts_thread(
    sim: HoldingSim, store: Store, config: BotConfig
) -> None:
    await store.commit(
        Change(
            alerts=[
                AlertEntry(
                    cluster_id=IDS.stale,
                    route_key="route",
                    status=AlertStatus.FIRING,
                    channel=ONCALL_CHANNEL,
                    message_ts=ALERT_TS,
                    opened_at=NOW,
                )
            ]
        ),
        now=NOW,
    )
    cloud = make_cloud(sim)
    watch = make_features(cloud, store, config)
    assert watch.backups is not None
    try:
        bound = next(b for b in watch.backups.actions() if b.action is START_BACKUP)
        value = START_BACKUP.value(AlertRef(IDS.stale, "route"))
        await bound.run(value, Invocation("U0ALICE", ""), NOW)
        [pending] = await store.operations.list_pending_operations()
    finally:
        await watch.backups.aclose()
        await cloud.aclose()
    assert pending.channel == ONCALL_CHANNEL
    assert pending.thread_ts == ALERT_TS
