"""Reading a fleet builds no repr of a large structure: a repr of 1,000 readings was 8.4 MB of
text (and 110 MiB at 10,000 clusters), built when asyncio.run formatted its finished main task."""

from __future__ import annotations

import reprlib

from bot.app.cli import run_main
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.fleet import generate_fleet
from bot.demo.simcloud.server import SimCloud
from bot.fleet.reader import FleetReading, read_fleet
from tests.world import NOW, make_cloud, make_config

#: A few KB: a log line or an exception message, not a fleet.
FEW_KB = 4096


async def _read(clusters: int) -> FleetReading:
    config = SimConfig(folders=1, clusters_per_folder=clusters, backups_per_cluster=5, seed=7)
    sim = SimCloud(config, generate_fleet(config, NOW))
    await sim.start()
    cloud = make_cloud(sim)
    try:
        return await read_fleet(cloud, make_config(watch={"folders": sim.fleet.folder_ids()}))
    finally:
        await cloud.aclose()
        await sim.stop()


def test_reading_1000_clusters_and_ending_the_loop_builds_no_long_repr() -> None:
    built: list[int] = []

    class Watched(reprlib.Repr):
        # reprlib.repr is what asyncio's task repr used: record every repr it makes of the
        # result, as long as it is.
        def repr1(self, x: object, level: int) -> str:
            text = super().repr1(x, level)
            built.append(len(text))
            return text

    fleet = run_main(_read(1000))

    assert len(fleet.clusters) == 1000
    assert fleet.errors == ()
    # The reading, and each of its clusters, says itself in a line...
    assert len(repr(fleet)) < FEW_KB
    assert max(len(repr(r)) for r in fleet.clusters) < FEW_KB
    # ...and so does whatever reprlib makes of it (as a finished task's repr does).
    Watched().repr(fleet)
    assert max(built) < FEW_KB
