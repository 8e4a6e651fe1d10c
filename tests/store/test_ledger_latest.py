"""Ledger.latest: each cluster's newest backup, maximum age and state now, in a few reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ledger.model import ClusterState, Observation, SeenBackup
from bot.outbox.change import Change
from bot.store import Store

NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


def seen(cluster_id: str, at: datetime, backups: list[datetime], **kw: object) -> Change:
    values: dict = {
        "cluster_id": cluster_id,
        "name": cluster_id,
        "folder_id": "b1g",
        "at": at,
        "backups": tuple(SeenBackup(f"{cluster_id}-{i}", done) for i, done in enumerate(backups)),
        "max_age": timedelta(hours=26),
        "max_age_source": "default",
        "state": ClusterState.RUNNING,
    }
    values.update(kw)
    return Change(ledger=(Observation(**values),))


async def test_latest_is_the_newest_backup_and_what_is_in_force_now(store: Store) -> None:
    day_ago = NOW - timedelta(days=1)
    await store.commit(seen("a", day_ago, [day_ago - timedelta(hours=3)]))
    await store.commit(
        seen(
            "a",
            NOW,
            [day_ago - timedelta(hours=3), NOW - timedelta(hours=1)],
            max_age=timedelta(hours=8),
        )
    )
    await store.commit(seen("b", NOW, [], state=ClusterState.STOPPED))
    latest = {item.cluster_id: item for item in await store.ledger.latest()}
    assert set(latest) == {"a", "b"}
    assert latest["a"].newest_backup_at == NOW - timedelta(hours=1)
    assert latest["a"].newest_backup_at.tzinfo is not None
    assert latest["a"].max_age == timedelta(hours=8)
    assert latest["a"].state == ClusterState.RUNNING
    assert latest["b"].newest_backup_at is None
    assert latest["b"].state == ClusterState.STOPPED
