"""InFlight: the answers still being worked on after their acknowledgement."""

from __future__ import annotations

import asyncio
import logging

import pytest

from handlers import InFlight
from tests.waiting import wait_until


async def test_started_work_is_in_flight_until_it_ends() -> None:
    in_flight = InFlight()
    release = asyncio.Event()
    done: list[str] = []

    async def work() -> None:
        await release.wait()
        done.append("done")

    in_flight.start(work(), name="answer U1")
    assert len(in_flight) == 1
    assert not await in_flight.drain(0.05)
    release.set()
    assert await in_flight.drain(1)
    assert len(in_flight) == 0
    assert done == ["done"]


async def test_an_exception_escaping_the_work_is_logged_not_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    in_flight = InFlight()

    async def broken() -> None:
        raise RuntimeError("bug after the ack")

    with caplog.at_level(logging.ERROR, logger="handlers"):
        in_flight.start(broken())
        assert await in_flight.drain(1)
    assert len(in_flight) == 0
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in caplog.records), (
        caplog.records
    )


async def test_cancelled_work_leaves_nothing_in_flight(caplog: pytest.LogCaptureFixture) -> None:
    in_flight = InFlight()
    running: list[asyncio.Task[object] | None] = []

    async def forever() -> None:
        running.append(asyncio.current_task())
        await asyncio.Event().wait()

    in_flight.start(forever())
    await wait_until(lambda: running, what="the work to start")
    (task,) = running
    assert task is not None
    task.cancel()
    assert await in_flight.drain(1)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
