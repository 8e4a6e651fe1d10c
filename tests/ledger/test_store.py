"""The ledger's store keeps what each sweep saw, in the sweep's transaction, on SQLite and
PostgreSQL alike, and forgets what is older than its retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ledger.model import ClusterState, Observation, SeenBackup, Span
from bot.outbox.change import Change
from bot.store import Store

T0 = datetime(2026, 11, 1, tzinfo=UTC)
H = timedelta(hours=1)
DAY = timedelta(days=1)


def _seen(
    at: datetime,
    backups: list[datetime],
    *,
    state: ClusterState = ClusterState.RUNNING,
    max_age: timedelta = 26 * H,
    source: str = "schedule",
) -> Observation:
    return Observation(
        cluster_id="c1",
        at=at,
        backups=tuple(
            SeenBackup(f"b-{b:%Y%m%d%H}", b, b - 10 * timedelta(minutes=1), 1000) for b in backups
        ),
        max_age=max_age,
        max_age_source=source,
        state=state,
        name="logs-prod",
        folder_id="f1",
    )


async def test_a_sweep_keeps_every_backup_listed_once_and_extends_its_span(store: Store) -> None:
    first = [T0 - 3 * DAY, T0 - 2 * DAY, T0 - DAY]
    assert await store.commit(Change(ledger=(_seen(T0, first),))) is not None
    again = [*first, T0 + DAY - H]
    assert await store.commit(Change(ledger=(_seen(T0 + DAY, again),))) is not None

    [history] = await store.ledger.histories(start=T0 - 10 * DAY, end=T0 + 10 * DAY)
    assert [b.completed_at for b in history.backups] == [*first, T0 + DAY - H]
    assert history.backups[0].size_bytes == 1000
    assert history.spans == (Span(T0 - 3 * DAY, T0 + DAY),)
    assert history.name == "logs-prod"
    assert history.folder_id == "f1"
    assert [(m.max_age, m.source) for m in history.max_ages] == [(26 * H, "schedule")]


async def test_a_gap_the_cloud_no_longer_lists_begins_a_new_span(store: Store) -> None:
    await store.commit(Change(ledger=(_seen(T0, [T0 - DAY]),)))
    # Twenty days later the cloud lists only the last two weeks: what was between is unknown.
    later = T0 + 20 * DAY
    listed = [later - 14 * DAY + H, later - H]
    await store.commit(Change(ledger=(_seen(later, listed),)))

    [history] = await store.ledger.histories(start=T0 - 10 * DAY, end=later + DAY)
    assert history.spans == (Span(T0 - DAY, T0), Span(listed[0], later))


async def test_changes_of_maximum_age_and_state_are_kept_once_each(store: Store) -> None:
    await store.commit(Change(ledger=(_seen(T0, [T0 - H]),)))
    await store.commit(Change(ledger=(_seen(T0 + H, [T0 - H]),)))
    await store.commit(
        Change(
            ledger=(
                _seen(
                    T0 + 2 * H,
                    [T0 - H],
                    state=ClusterState.STOPPED,
                    max_age=6 * H,
                    source="override",
                ),
            )
        )
    )
    await store.commit(Change(ledger=(_seen(T0 + 3 * H, [T0 - H]),)))

    [history] = await store.ledger.histories(start=T0 - DAY, end=T0 + DAY)
    assert [(m.since, m.max_age, m.source) for m in history.max_ages] == [
        (T0, 26 * H, "schedule"),
        (T0 + 2 * H, 6 * H, "override"),
        (T0 + 3 * H, 26 * H, "schedule"),
    ]
    assert [(s.since, s.state) for s in history.states] == [
        (T0, ClusterState.RUNNING),
        (T0 + 2 * H, ClusterState.STOPPED),
        (T0 + 3 * H, ClusterState.RUNNING),
    ]


async def test_a_period_reads_its_backups_and_the_newest_before_it(store: Store) -> None:
    backups = [T0 - 3 * DAY, T0 - 2 * DAY, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]
    await store.commit(Change(ledger=(_seen(T0 + 4 * DAY, backups),)))

    [history] = await store.ledger.histories(start=T0, end=T0 + 2 * DAY + H)
    assert [b.completed_at for b in history.backups] == [T0 - 2 * DAY, T0 + DAY, T0 + 2 * DAY]


async def test_pruning_forgets_the_old_but_keeps_what_is_in_force(store: Store) -> None:
    backups = [T0 + i * DAY for i in range(10)]
    await store.commit(Change(ledger=(_seen(T0 + 10 * DAY, backups),)))
    await store.commit(
        Change(ledger=(_seen(T0 + 11 * DAY, backups, max_age=6 * H, source="override"),))
    )

    removed = await store.ledger.prune(before=T0 + 5 * DAY + H)

    assert removed == 5  # the backups of days 0..4; day 5's is the one in force at the cutoff
    [history] = await store.ledger.histories(start=T0, end=T0 + 20 * DAY)
    assert [b.completed_at for b in history.backups] == backups[5:]
    assert [m.max_age for m in history.max_ages] == [26 * H, 6 * H]


async def test_a_cluster_not_seen_for_the_retention_is_forgotten_whole(store: Store) -> None:
    await store.commit(Change(ledger=(_seen(T0, [T0 - DAY]),)))
    await store.ledger.prune(before=T0 + DAY)
    assert await store.ledger.histories(start=T0 - 10 * DAY, end=T0 + 10 * DAY) == []
    assert await store.ledger.cluster_ids() == []
