"""A verb over a large fleet builds no repr of a large structure.

Python 3.11's ``asyncio.run`` formats the repr of its main task when it puts the SIGINT handler
back, and a finished task's repr holds ``reprlib.repr`` of its result, which calls ``repr()`` in
full on every item before cutting the text short: the 10,000-cluster digest built 110 MiB of
dataclass reprs that way. The verbs run as the console script runs them (``main``, in the main
thread, where that path is taken), against a simulated cloud of 1,000 clusters served from a
thread of this test.
"""

from __future__ import annotations

import asyncio
import logging
import reprlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import clock
from bot.app.cli import main, run_main
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import generate_fleet
from bot.demo.simcloud.server import SimCloud

#: A repr longer than this is "large": a log line or a short error is far below it.
LARGE = 4096


class RecordingRepr(reprlib.Repr):
    """The stdlib's reprlib, noting how long each full ``repr()`` it cuts short was."""

    def __init__(self) -> None:
        super().__init__()
        self.longest = 0

    def repr_instance(self, x: Any, level: int) -> str:
        self.longest = max(self.longest, len(repr(x)))
        return super().repr_instance(x, level)


class LongestRecord(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.longest = 0
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.longest = max(self.longest, len(record.getMessage()))


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingRepr:
    recorder = RecordingRepr()
    monkeypatch.setattr(reprlib, "aRepr", recorder)
    monkeypatch.setattr(reprlib, "repr", recorder.repr)
    return recorder


@pytest.fixture
def large_cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimCloud]:
    """1,000 simulated clusters, some stale, served by a thread of its own, and the environment
    of a ``backups-bot`` process that watches them and has a digest route."""
    now = clock.now()
    config = SimConfig(
        folders=1, clusters_per_folder=1_000, backups_per_cluster=3, stale_fraction=0.05, seed=7
    )
    sim = SimCloud(config, generate_fleet(config, now))
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        async with sim:
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(timeout=120), "the simulated cloud did not start"
    [folder] = sim.fleet.folder_ids()
    path = tmp_path / "backups-bot.yaml"
    path.write_text(
        f"watch: {{folders: [{folder}]}}\ndigests:\n  - channel: C0TEAM\n"
        "alerts:\n  - channel: C0ONCALL\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "YC_MDB_ENDPOINT": sim.url,
        "YC_RESOURCE_MANAGER_ENDPOINT": sim.url,
        "YC_OPERATION_ENDPOINT": sim.url,
        "YC_IAM_TOKEN": DEFAULT_STATIC_TOKEN,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'state.db'}",
        "BACKUPS_BOT_CONFIG": str(path),
        "LOG_LEVEL": "DEBUG",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        yield sim
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()


def test_run_main_returns_the_result_without_building_its_repr(recording: RecordingRepr) -> None:
    class Loud:
        def __repr__(self) -> str:
            return "x" * 1_000_000

    async def big() -> list[Loud]:
        return [Loud()] * 100

    got = run_main(big())

    assert len(got) == 100
    assert recording.longest < LARGE


@pytest.mark.parametrize("verb", ["digest", "sweep"])
def test_a_dry_run_over_1000_clusters_builds_no_large_repr(
    large_cloud: SimCloud,
    recording: RecordingRepr,
    capsys: pytest.CaptureFixture[str],
    verb: str,
) -> None:
    assert threading.current_thread() is threading.main_thread()
    logged = LongestRecord()
    logging.getLogger().addHandler(logged)
    try:
        status = main([verb, "--dry-run"])
    finally:
        logging.getLogger().removeHandler(logged)

    out = capsys.readouterr().out
    assert status == 0, out
    # It did read the fleet (1,000 clusters), and nothing on the way built a large repr: not
    # asyncio's repr of the finished main task, not a log line.
    assert "1,000" in out or "1000" in out
    assert recording.longest < LARGE
    assert logged.longest < LARGE
