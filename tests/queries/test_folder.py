"""``/backups folder``: the cloud's folder listing promises no order, so the newest backup of a
cluster may be on its last page; the reply reads the whole listing and keeps only what it shows.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.chat.actions import Invocation
from bot.cloud.client import CloudClient
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.server import SimCloud
from bot.queries import service as queries
from bot.store import Store
from tests.slack.payload import slack
from tests.world import (
    FOLDER,
    IDS,
    NOW,
    make_cloud,
    make_config,
    make_features,
    make_fleet,
    seed_backups,
)

ASKER = Invocation(user_id="U0ASKER", channel_id="C0ASKED")
MANY = 2_600  # more than two pages of 1,000, more than the 2,000 the bot once stopped at


async def _crowded_sim(seed: int) -> tuple[SimCloud, str]:
    sim = SimCloud(SimConfig(seed=seed), make_fleet())
    seed_backups(sim)
    for n in range(MANY):
        sim.add_backup(IDS.stale, created_at=NOW - timedelta(days=20, minutes=n))
    newest = sim.add_backup(IDS.stale, created_at=NOW - timedelta(hours=1))
    await sim.start()
    return sim, newest.id


@pytest.fixture
async def crowded() -> AsyncIterator[tuple[SimCloud, str, CloudClient]]:
    """The stale cluster with MANY old backups and one from an hour ago that the shuffled
    listing (seeded, as the real one promises no order) serves after the first 2,000."""
    for seed in range(40):
        sim, newest = await _crowded_sim(seed)
        client = make_cloud(sim)
        listed = [b.id async for b in client.list_folder_backups(FOLDER)]
        if listed.index(newest) >= 2_000:  # past where the bot once stopped reading
            break
        await client.aclose()
        await sim.stop()
    else:
        raise AssertionError("no seed puts the newest backup past the first 2,000")
    yield sim, newest, client
    await client.aclose()
    await sim.stop()


async def folder_text(cloud: CloudClient, store: Store) -> str:
    features = make_features(cloud, store, make_config())
    try:
        reply = await features.router.run(f"folder {FOLDER}", ASKER, now=NOW)
    finally:
        await features.backups.aclose()
    assert reply.ok, reply.messages[0].text
    [card] = reply.messages
    return json.dumps(slack(card).blocks, ensure_ascii=False)


async def test_the_newest_backup_is_shown_wherever_the_listing_puts_it(
    crowded: tuple[SimCloud, str, CloudClient], store: Store
) -> None:
    _sim, newest, client = crowded
    text = await folder_text(client, store)
    assert newest in text
    assert f"{MANY + 4:,} backups" in text  # every backup read is counted, not only those kept
    assert "particular order" not in text  # everything was read: no caveat


async def test_past_the_read_limit_it_says_plainly_what_it_read(
    crowded: tuple[SimCloud, str, CloudClient], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "FOLDER_READ_LIMIT", 500)
    text = await folder_text(crowded[2], store)
    assert "more than 500 backups" in text
    assert "in no particular order" in text
