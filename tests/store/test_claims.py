"""Run claims: each scheduled run is done by exactly one replica, and taken over if it dies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from bot.store import Store
from tests.store.conftest import OpenStore

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
LEASE = timedelta(minutes=5)
KEY = "digest:C0TEAM:2024-05-01"


async def test_first_claimer_wins_and_the_second_is_refused(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    assert not await store.claims.claim_run(
        KEY, "replica-b", now=NOW + timedelta(minutes=4), lease=LEASE
    )


async def test_same_owner_claiming_again_renews_its_lease(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    assert await store.claims.claim_run(
        KEY, "replica-a", now=NOW + timedelta(minutes=4), lease=LEASE
    )
    # The renewed lease runs to 09:39, so at 09:37 the run is still held.
    assert not await store.claims.claim_run(
        KEY, "replica-b", now=NOW + timedelta(minutes=7), lease=LEASE
    )


async def test_a_dead_owners_run_is_taken_over_after_its_lease(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    assert await store.claims.claim_run(KEY, "replica-b", now=later, lease=LEASE)
    # The old owner, back from a pause, has lost it: it can neither renew nor finish.
    assert not await store.claims.renew_claim(KEY, "replica-a", now=later, lease=LEASE)
    assert not await store.claims.finish_run(KEY, "replica-a", now=later)
    assert not await store.claims.run_finished(KEY)


async def test_lease_ending_exactly_now_is_still_held(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    assert not await store.claims.claim_run(KEY, "replica-b", now=NOW + LEASE, lease=LEASE)


async def test_renewing_keeps_the_run_from_being_taken_over(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    assert await store.claims.renew_claim(
        KEY, "replica-a", now=NOW + timedelta(minutes=4), lease=LEASE
    )
    assert not await store.claims.claim_run(
        KEY, "replica-b", now=NOW + timedelta(minutes=8), lease=LEASE
    )


async def test_renewing_a_run_never_claimed_fails(store: Store) -> None:
    assert not await store.claims.renew_claim(KEY, "replica-a", now=NOW, lease=LEASE)


async def test_a_finished_run_is_never_claimed_again(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    assert await store.claims.finish_run(KEY, "replica-a", now=NOW + timedelta(minutes=1))
    assert await store.claims.run_finished(KEY)
    next_day = NOW + timedelta(days=1)
    assert not await store.claims.claim_run(KEY, "replica-b", now=next_day, lease=LEASE)
    assert not await store.claims.claim_run(KEY, "replica-a", now=next_day, lease=LEASE)
    assert not await store.claims.renew_claim(KEY, "replica-a", now=next_day, lease=LEASE)


async def test_finishing_twice_is_safe_to_retry(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    assert await store.claims.finish_run(KEY, "replica-a", now=NOW)
    assert await store.claims.finish_run(KEY, "replica-a", now=NOW + timedelta(minutes=1))


async def test_finishing_a_run_never_claimed_fails(store: Store) -> None:
    assert not await store.claims.finish_run(KEY, "replica-a", now=NOW)
    assert not await store.claims.run_finished(KEY)


async def test_a_released_run_can_be_claimed_at_once_by_another(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    await store.claims.release_run(KEY, "replica-a")
    assert not await store.claims.run_finished(KEY)
    assert await store.claims.claim_run(
        KEY, "replica-b", now=NOW + timedelta(seconds=1), lease=LEASE
    )


async def test_releasing_someone_elses_run_changes_nothing(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    await store.claims.release_run(KEY, "replica-b")
    assert not await store.claims.claim_run(KEY, "replica-b", now=NOW, lease=LEASE)


async def test_releasing_a_finished_run_keeps_it_finished(store: Store) -> None:
    assert await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=LEASE)
    assert await store.claims.finish_run(KEY, "replica-a", now=NOW)
    await store.claims.release_run(KEY, "replica-a")
    assert await store.claims.run_finished(KEY)
    assert not await store.claims.claim_run(KEY, "replica-b", now=NOW, lease=LEASE)


async def test_runs_are_claimed_independently(store: Store) -> None:
    assert await store.claims.claim_run("digest:C1:2024-05-01", "replica-a", now=NOW, lease=LEASE)
    assert await store.claims.claim_run("digest:C2:2024-05-01", "replica-b", now=NOW, lease=LEASE)


async def test_non_positive_lease_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="lease"):
        await store.claims.claim_run(KEY, "replica-a", now=NOW, lease=timedelta(0))


async def test_naive_now_is_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await store.claims.claim_run(KEY, "replica-a", now=NOW.replace(tzinfo=None), lease=LEASE)


async def test_times_in_other_zones_compare_as_the_same_instants(store: Store) -> None:
    # 12:30 in Moscow is 09:30 UTC: the lease must end at 09:35 UTC, not at 12:35.
    in_moscow = NOW.astimezone(timezone(timedelta(hours=3)))
    assert await store.claims.claim_run(KEY, "replica-a", now=in_moscow, lease=LEASE)
    assert await store.claims.claim_run(
        KEY, "replica-b", now=NOW + timedelta(minutes=6), lease=LEASE
    )


async def test_many_replicas_claiming_at_once_make_exactly_one_winner(
    open_store: OpenStore, store_url: str
) -> None:
    # Each "replica" has its own engine and connections. SQLite is embedded: its replicas are
    # processes on one host sharing the file, so fewer of them make the point.
    replicas = 20 if store_url.startswith("postgresql") else 4
    stores = [await open_store() for _ in range(replicas)]
    start = asyncio.Event()

    async def claim(index: int, store: Store) -> bool:
        await start.wait()
        return await store.claims.claim_run(KEY, f"replica-{index}", now=NOW, lease=LEASE)

    tasks = [asyncio.create_task(claim(i, s)) for i, s in enumerate(stores)]
    start.set()
    results = await asyncio.gather(*tasks)
    assert results.count(True) == 1


async def test_many_replicas_taking_over_an_expired_run_make_exactly_one_winner(
    open_store: OpenStore, store_url: str
) -> None:
    replicas = 20 if store_url.startswith("postgresql") else 4
    stores = [await open_store() for _ in range(replicas)]
    assert await stores[0].claims.claim_run(KEY, "dead-replica", now=NOW, lease=LEASE)
    later = NOW + 2 * LEASE
    results = await asyncio.gather(
        *(
            s.claims.claim_run(KEY, f"replica-{i}", now=later, lease=LEASE)
            for i, s in enumerate(stores)
        )
    )
    assert results.count(True) == 1
