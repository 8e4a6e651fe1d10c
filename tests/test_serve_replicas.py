"""Two ``backups-bot serve`` replicas against one real PostgreSQL database, one simulated cloud
and one fake Slack: every scheduled sweep is claimed in the database before it posts, so each
alert goes out exactly once, and a replica killed mid-run is taken over once its lease expires.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.simcloud.server import SimCloud
from bot.store import Store
from bot.store.tables import alerts, run_claims
from bot.testing.fake_slack import FakeSlack
from bot.watch.sweep import slot_key
from tests.store.conftest import fresh_postgres_url  # noqa: F401  (a fixture)
from tests.test_runtime import (
    APP_TOKEN,
    BOT_TOKEN,
    ServeProcess,
    alert_posts,
    assert_clean_logs,
    serve_env,
    serving,
    start_sim,
    write_config,
)
from tests.waiting import free_port, wait_until
from tests.watch.conftest import IDS

pytestmark = pytest.mark.postgres

#: A sweep every 2 s; a replica that stops renewing loses its claims 3 s later.
EVERY = timedelta(seconds=2)
LEASE = timedelta(seconds=3)

#: The summary line of a sweep that ran: ``sweep sweep:<slot>: 5 clusters read, ...``.
SUMMARY = re.compile(r"^sweep (sweep:\S+): \d+ clusters? read")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as fake:
        yield fake


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path / "backups-bot.yaml", every="2s", lease="3s")


async def start_replicas(
    stack: AsyncExitStack,
    sim: SimCloud,
    slack: FakeSlack,
    database_url: str,
    config: Path,
    tmp_path: Path,
) -> list[ServeProcess]:
    ports: set[int] = set()
    while len(ports) < 2:
        ports.add(free_port())
    replicas = []
    for port in sorted(ports):
        env = serve_env(sim, slack, database_url=database_url, config=config, port=port)
        replicas.append(await stack.enter_async_context(serving(env, tmp_path)))
    await asyncio.gather(*(replica.wait_serving() for replica in replicas))
    return replicas


def swept_slots(replicas: list[ServeProcess]) -> list[str]:
    """The slots each replica really swept (not skipped), over both replicas."""
    return [
        match.group(1)
        for replica in replicas
        for message in replica.messages()
        if (match := SUMMARY.match(message))
    ]


async def test_two_replicas_sweep_each_slot_once_and_post_each_alert_once(
    fresh_postgres_url: str,  # noqa: F811
    slack: FakeSlack,
    config_file: Path,
    tmp_path: Path,
) -> None:
    sim = await start_sim(latency=0.02)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(sim.stop)
        replicas = await start_replicas(
            stack, sim, slack, fresh_postgres_url, config_file, tmp_path
        )
        await asyncio.sleep(7)
        codes = await asyncio.gather(*(replica.terminate() for replica in replicas))

    assert codes == [0, 0], [replica.output() for replica in replicas]
    # Each alert exactly once, in total.
    posted = alert_posts(slack)
    assert len(posted) == 2, posted
    assert sorted(text.split(":", 1)[1].split()[0] for text in posted) == [
        "new-cluster",
        "the",
    ]
    # Every slot swept by one replica only, and several slots went by.
    slots = swept_slots(replicas)
    assert len(slots) >= 3, slots
    assert [slot for slot, n in Counter(slots).items() if n > 1] == []
    # The claims table agrees: one finished claim per swept slot.
    async with await Store.open(fresh_postgres_url) as store, store.engine.connect() as conn:
        claims = (await conn.execute(select(run_claims))).all()
    assert sorted(claim.key for claim in claims) == sorted(slots)
    assert all(claim.finished_at is not None for claim in claims)
    for replica in replicas:
        assert_clean_logs(replica)
        assert replica.messages()[-1] == "stopped"


async def test_a_replica_killed_mid_run_is_taken_over_after_its_lease(
    fresh_postgres_url: str,  # noqa: F811
    slack: FakeSlack,
    config_file: Path,
    tmp_path: Path,
) -> None:
    # Slow reads make a sweep take a while; the first alert post is rate limited for 20 s, so
    # the replica that holds the sweep has reserved that incident and is stuck mid-run.
    slack.fail_next("chat.postMessage", status=429, retry_after=20)
    sim = await start_sim(latency=0.3)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(sim.stop)
        replicas = await start_replicas(
            stack, sim, slack, fresh_postgres_url, config_file, tmp_path
        )
        await wait_until(lambda: slack.rejected, timeout=15, what="the first alert post")
        assert sim.requests_to(r"/backups$")
        stuck_text = str(slack.rejected[0].args["text"])
        stuck_cluster = IDS.stale if "orders-prod" in stuck_text else IDS.never

        # Which replica holds the reservation: the owner of the sweep slot that reserved it.
        store = await Store.open(fresh_postgres_url)
        stack.push_async_callback(store.close)
        async with store.engine.connect() as conn:
            reserved = (
                await conn.execute(select(alerts).where(alerts.c.cluster_id == stuck_cluster))
            ).one()
            assert reserved.message_ts is None
            reserved_at = reserved.last_notified_at or reserved.opened_at
            owner = await conn.scalar(
                select(run_claims.c.owner).where(
                    run_claims.c.key == slot_key(reserved_at, EVERY),
                    run_claims.c.finished_at.is_(None),
                )
            )
        assert owner is not None
        doomed = next(r for r in replicas if f":{r.pid}:" in owner)
        survivor = next(r for r in replicas if r is not doomed)
        await doomed.kill()

        # The survivor posts the incident the dead replica reserved once its lease is over.
        taken_over_after = await wait_until(
            lambda: len(alert_posts(slack)) >= 2, timeout=15, what="the take-over"
        )
        await asyncio.sleep(2 * EVERY.total_seconds())  # and nothing more after it
        assert await survivor.terminate() == 0

    posted = alert_posts(slack)
    assert len(posted) == 2, posted
    assert len(set(posted)) == 2
    assert stuck_text in posted
    # Not at once (the reservation was the dead replica's for a lease), and not much later.
    assert 1.0 < taken_over_after < 10
    async with await Store.open(fresh_postgres_url) as store, store.engine.connect() as conn:
        left = (await conn.execute(select(run_claims).where(run_claims.c.owner == owner))).all()
        still_open = (await conn.execute(select(alerts).where(alerts.c.message_ts.is_(None)))).all()
    # The dead replica's claim was never finished; no incident is left unposted.
    assert [claim.finished_at for claim in left] == [None]
    assert still_open == []
    assert_clean_logs(survivor)
    assert survivor.messages()[-1] == "stopped"
