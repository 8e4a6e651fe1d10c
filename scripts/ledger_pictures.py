"""The README's pictures of ``/backups slo`` and ``/backups history``: the demo fleet as of
2026-12-07 09:00 UTC, its 100 days replayed into the ledger as ``backups-bot demo`` does at
start. Run from the repository's root: ``.venv/bin/python scripts/ledger_pictures.py``."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime

sys.path.insert(0, ".")

from bot.app.demo import demo_config, seed_ledger
from bot.demo.console import render_console
from bot.demo.simcloud import SimCloud, SimConfig
from bot.demo.simcloud.fleet import demo_fleet
from bot.demo.simcloud.history import demo_history
from bot.ledger.service import LedgerService
from bot.slack.blocks import SLACK
from bot.store import Store
from tests.world import make_cloud

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


async def main() -> None:
    fleet = demo_fleet(NOW)
    history = demo_history(fleet, NOW)
    async with SimCloud(SimConfig(latency=0.0), fleet=fleet) as sim:
        cloud = make_cloud(sim)
        with tempfile.TemporaryDirectory() as tmp:
            store = await Store.open(f"sqlite+aiosqlite:///{tmp}/ledger.db")
            config = demo_config(fleet)
            await seed_ledger(store, cloud, config, history)
            service = LedgerService(store, config)
            pictures = [
                ("/backups slo --month 2026-10", await service.slo(None, "2026-10", now=NOW)),
                (
                    "/backups history catalog-staging --days 60",
                    await service.history("catalog-staging", 60, now=NOW),
                ),
            ]
            for command, card in pictures:
                print(f"> {command}")
                print(render_console(SLACK.render(card)))
                print()
            await store.close()
        await cloud.aclose()


if __name__ == "__main__":
    asyncio.run(main())
