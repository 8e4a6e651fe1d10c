"""The token bucket (pure) and the limiter that bounds requests in flight and serves its
interactive lane before its background lane."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.cloud.client import CloudClient
from bot.cloud.limits import Lane, RequestLimiter, TokenBucket, background_lane, current_lane
from bot.settings import Settings
from tests.waiting import wait_until


def test_a_bucket_lets_a_burst_through_then_spaces_requests() -> None:
    bucket = TokenBucket(2.0, burst=2.0, now=100.0)
    assert bucket.reserve(100.0) == 0.0
    assert bucket.reserve(100.0) == 0.0
    assert bucket.reserve(100.0) == pytest.approx(0.5)
    # Reservations queue: the next caller waits behind the one before it.
    assert bucket.reserve(100.0) == pytest.approx(1.0)


def test_a_bucket_refills_with_time_up_to_its_burst() -> None:
    bucket = TokenBucket(1.0, burst=3.0, now=0.0)
    for _ in range(3):
        bucket.reserve(0.0)
    assert bucket.reserve(1.0) == 0.0
    # A long pause refills to the burst, not beyond it.
    assert [bucket.reserve(100.0) for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(1.0)]


def test_a_bucket_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(0.0, now=0.0)


async def test_the_limiter_never_lets_more_than_its_cap_in_flight() -> None:
    limiter = RequestLimiter(max_in_flight=3)

    async def work() -> None:
        async with limiter.slot():
            await asyncio.sleep(0.005)

    await asyncio.gather(*(work() for _ in range(20)))
    assert limiter.peak_in_flight == 3
    assert limiter.in_flight == 0


async def test_the_limiter_spaces_requests_at_its_rate() -> None:
    loop = asyncio.get_running_loop()
    limiter = RequestLimiter(max_in_flight=10, requests_per_second=100.0)
    started = loop.time()

    async def work() -> None:
        async with limiter.slot():
            pass

    # A burst of 100 passes at once, then 20 more need 0.2 s at 100 per second.
    await asyncio.gather(*(work() for _ in range(120)))
    assert loop.time() - started >= 0.18


def test_the_limiter_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RequestLimiter(max_in_flight=0)
    with pytest.raises(ValueError, match="negative"):
        RequestLimiter(requests_per_second=-1)


# --- lanes ---------------------------------------------------------------------------------------


async def _queue(
    limiter: RequestLimiter, order: list[str], name: str, lane: Lane | None = None
) -> asyncio.Task[None]:
    """A task that takes a slot (in ``lane``, or the current one), notes ``name`` and lets go;
    returned once it waits in the queue."""

    async def take() -> None:
        async with limiter.slot(lane):
            order.append(name)

    before = limiter.waiting()
    task = asyncio.create_task(take())
    await wait_until(lambda: limiter.waiting() > before, what=f"{name} to queue", interval=0.001)
    return task


async def test_an_interactive_request_overtakes_queued_background_ones() -> None:
    limiter = RequestLimiter(max_in_flight=1)
    order: list[str] = []
    async with limiter.slot():
        tasks = [await _queue(limiter, order, f"bg{i}", Lane.BACKGROUND) for i in range(5)]
        tasks.append(await _queue(limiter, order, "person"))
        assert limiter.waiting(Lane.BACKGROUND) == 5
        assert limiter.waiting(Lane.INTERACTIVE) == 1
    await asyncio.gather(*tasks)

    assert order == ["person", "bg0", "bg1", "bg2", "bg3", "bg4"]
    assert limiter.waiting() == 0


async def test_each_lane_is_first_come_first_served() -> None:
    limiter = RequestLimiter(max_in_flight=1)
    order: list[str] = []
    async with limiter.slot():
        tasks = []
        for i in range(4):
            tasks.append(await _queue(limiter, order, f"bg{i}", Lane.BACKGROUND))
            tasks.append(await _queue(limiter, order, f"person{i}", Lane.INTERACTIVE))
    await asyncio.gather(*tasks)

    assert order == [f"person{i}" for i in range(4)] + [f"bg{i}" for i in range(4)]


async def test_with_a_rate_limit_a_person_still_overtakes_queued_background_requests() -> None:
    # 20 tokens a second after a burst of 20. The bucket's clock stands still and every request
    # queues while both slots are held, so the order below depends on no machine's speed.
    limiter = RequestLimiter(max_in_flight=2, requests_per_second=20.0, monotonic=lambda: 0.0)
    order: list[str] = []
    async with limiter.slot(), limiter.slot():
        background = [await _queue(limiter, order, f"bg{i}", Lane.BACKGROUND) for i in range(60)]
        person = await _queue(limiter, order, "person")

    await person

    # Only slot holders take tokens, so the person's token comes right after the two holders':
    # not after the 60 background requests' (3 s at this rate).
    assert order[0] == "person"
    assert sum(not task.done() for task in background) >= 55
    for task in background:  # with the clock standing still, the rest would take seconds
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    assert (limiter.in_flight, limiter.waiting()) == (0, 0)


async def test_lanes_share_the_cap_on_requests_in_flight() -> None:
    limiter = RequestLimiter(max_in_flight=4)
    rng = random.Random(7)

    async def work(lane: Lane) -> None:
        async with limiter.slot(lane):
            assert limiter.in_flight <= 4
            await asyncio.sleep(rng.random() * 0.005)

    await asyncio.gather(*(work(rng.choice(list(Lane))) for _ in range(60)))
    assert limiter.peak_in_flight == 4
    assert limiter.in_flight == 0


async def test_background_work_gets_every_slot_when_no_person_waits() -> None:
    limiter = RequestLimiter(max_in_flight=3)

    async def work() -> None:
        async with limiter.slot(Lane.BACKGROUND):
            await asyncio.sleep(0.005)

    await asyncio.gather(*(work() for _ in range(12)))
    assert limiter.peak_in_flight == 3


async def test_background_work_holds_at_most_its_share_and_people_get_the_rest() -> None:
    limiter = RequestLimiter(max_in_flight=4, background_in_flight=2)
    release = asyncio.Event()
    holding = {Lane.BACKGROUND: 0, Lane.INTERACTIVE: 0}
    most = dict(holding)
    started: list[Lane] = []

    async def work(lane: Lane) -> None:
        async with limiter.slot(lane):
            started.append(lane)
            holding[lane] += 1
            most[lane] = max(most[lane], holding[lane])
            await release.wait()
            holding[lane] -= 1

    sweep = [asyncio.create_task(work(Lane.BACKGROUND)) for _ in range(10)]
    await wait_until(lambda: limiter.waiting(Lane.BACKGROUND) == 8, what="8 sweep requests queued")
    assert (limiter.in_flight, limiter.waiting(Lane.BACKGROUND)) == (2, 8)

    people = [asyncio.create_task(work(Lane.INTERACTIVE)) for _ in range(3)]
    await wait_until(lambda: limiter.waiting(Lane.INTERACTIVE) == 1, what="a person queued")
    # Two free slots the sweep may not take: two people get them at once; the third waits
    # for the cap on the whole, like anyone.
    assert holding == {Lane.BACKGROUND: 2, Lane.INTERACTIVE: 2}
    assert limiter.waiting(Lane.INTERACTIVE) == 1

    release.set()
    await asyncio.gather(*sweep, *people)
    assert most[Lane.BACKGROUND] == 2
    # The waiting person went before the eight queued background requests.
    assert started[4:] == [Lane.INTERACTIVE] + [Lane.BACKGROUND] * 8
    assert limiter.peak_in_flight == 4
    assert (limiter.in_flight, limiter.waiting()) == (0, 0)


def test_the_background_share_defaults_to_the_whole_and_never_exceeds_it() -> None:
    assert RequestLimiter(4).background_in_flight == 4
    assert RequestLimiter(4, background_in_flight=1).background_in_flight == 1
    assert RequestLimiter(4, background_in_flight=10).background_in_flight == 4
    with pytest.raises(ValueError, match="background_in_flight must be at least 1"):
        RequestLimiter(4, background_in_flight=0)


async def _assert_capacity_is(limiter: RequestLimiter, slots: int) -> None:
    """Neither a slot lost nor one too many: a burst reaches exactly ``slots`` in flight."""
    limiter.peak_in_flight = 0

    async def work() -> None:
        async with limiter.slot():
            await asyncio.sleep(0.002)

    await asyncio.wait_for(asyncio.gather(*(work() for _ in range(4 * slots))), timeout=5)
    assert limiter.peak_in_flight == slots
    assert limiter.in_flight == 0
    assert limiter.waiting() == 0


async def test_cancelled_waiters_neither_lose_a_slot_nor_take_one() -> None:
    limiter = RequestLimiter(max_in_flight=2)
    order: list[str] = []
    async with limiter.slot(), limiter.slot():
        tasks = [
            await _queue(limiter, order, f"w{i}", lane)
            for i, lane in enumerate([Lane.BACKGROUND, Lane.INTERACTIVE] * 3)
        ]
        for i in (0, 1, 4):
            tasks[i].cancel()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=5)

    assert order == ["w3", "w5", "w2"]
    assert [t.cancelled() for t in tasks] == [True, True, False, False, True, False]
    await _assert_capacity_is(limiter, 2)


async def test_a_waiter_cancelled_right_after_it_was_handed_a_slot_passes_it_on() -> None:
    limiter = RequestLimiter(max_in_flight=1)
    order: list[str] = []
    async with limiter.slot():
        first = await _queue(limiter, order, "first")
        second = await _queue(limiter, order, "second", Lane.BACKGROUND)
    # Leaving the block handed the slot to ``first``, which has not run since: cancel it now.
    assert limiter.waiting() == 1
    first.cancel()
    await asyncio.wait_for(second, timeout=5)

    assert first.cancelled()
    assert order == ["second"]
    await _assert_capacity_is(limiter, 1)


async def test_a_slot_is_given_back_when_its_holder_is_cancelled() -> None:
    limiter = RequestLimiter(max_in_flight=1)
    holding = asyncio.Event()

    async def hold() -> None:
        async with limiter.slot():
            holding.set()
            await asyncio.Event().wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    await _assert_capacity_is(limiter, 1)


async def test_requests_are_interactive_unless_made_in_the_background_lane() -> None:
    async def lane_of_task() -> Lane:
        return current_lane()

    assert current_lane() == Lane.INTERACTIVE
    with background_lane():
        assert current_lane() == Lane.BACKGROUND
        # A task copies the context it is created in, so work spawned here stays background...
        spawned = asyncio.create_task(lane_of_task())
    # ...even when it runs after the block has ended.
    assert current_lane() == Lane.INTERACTIVE
    assert await spawned == Lane.BACKGROUND
    assert await asyncio.create_task(lane_of_task()) == Lane.INTERACTIVE


async def test_a_task_created_in_the_background_lane_queues_there() -> None:
    limiter = RequestLimiter(max_in_flight=1)
    order: list[str] = []
    async with limiter.slot():
        with background_lane():
            sweep = await _queue(limiter, order, "sweep")
        person = await _queue(limiter, order, "person")
        assert limiter.waiting(Lane.BACKGROUND) == 1
    await asyncio.gather(sweep, person)

    assert order == ["person", "sweep"]


async def test_the_client_from_settings_gives_people_64_slots_and_the_scheduler_16() -> None:
    settings = Settings(_env_file=None, YC_IAM_TOKEN="t1.test")
    defaults = CloudClient.from_settings(settings)
    tuned = CloudClient.from_settings(
        Settings(
            _env_file=None, YC_IAM_TOKEN="t1.test", YC_MAX_IN_FLIGHT=8, YC_BACKGROUND_IN_FLIGHT=32
        )
    )
    try:
        assert (defaults.limiter.max_in_flight, defaults.limiter.background_in_flight) == (64, 16)
        assert (tuned.limiter.max_in_flight, tuned.limiter.background_in_flight) == (8, 8)
    finally:
        await defaults.aclose()
        await tuned.aclose()
