"""Two ``backups-bot serve`` replicas against one real PostgreSQL database, one simulated cloud
and one fake Slack: every scheduled sweep is claimed in the database before it posts, so each
alert goes out exactly once, and a replica killed mid-run is taken over once its lease expires.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.server import SimCloud
from bot.store import Store
from bot.store.tables import outbox, run_claims
from tests.app.test_serve import (
    APP_TOKEN,
    BOT_TOKEN,
    ServeProcess,
    assert_clean_logs,
    serve_env,
    serving,
    start_sim,
    write_config,
)
from tests.store.conftest import fresh_postgres_url  # noqa: F401  (a fixture)
from tests.waiting import free_port, wait_until
from tests.world import IDS, ONCALL_CHANNEL

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


def alerted_clusters(slack: FakeSlack) -> list[str]:
    """The cluster of every alert posted, by the id its buttons carry."""
    out = []
    for call in slack.calls_to("chat.postMessage"):
        if call.args.get("thread_ts"):
            continue
        for block in call.args.get("blocks") or []:
            if block.get("type") == "actions":
                out.append(json.loads(block["elements"][0]["value"])["c"])
                break
    return out


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
        # Several slots go by, both alerts are out.
        await wait_until(
            lambda: len(set(swept_slots(replicas))) >= 3 and len(alerted_clusters(slack)) >= 2,
            timeout=30,
            what="three swept slots and both alerts",
        )
        codes = await asyncio.gather(*(replica.terminate() for replica in replicas))

    assert codes == [0, 0], [replica.output() for replica in replicas]
    # Each alert exactly once, in total: one per stale cluster.
    assert sorted(alerted_clusters(slack)) == sorted([IDS.stale, IDS.never])
    # Every slot swept by one replica only.
    slots = swept_slots(replicas)
    assert [slot for slot, n in Counter(slots).items() if n > 1] == []
    # The claims table agrees: one finished claim per swept slot.
    async with await Store.open(fresh_postgres_url) as store, store.engine.connect() as conn:
        claims = (
            await conn.execute(select(run_claims).where(run_claims.c.key.like("sweep:%")))
        ).all()
    assert sorted(claim.key for claim in claims) == sorted(slots)
    assert all(claim.finished_at is not None for claim in claims)
    for replica in replicas:
        assert_clean_logs(replica)
        assert replica.messages()[-1] == "stopped"


async def test_a_replica_killed_mid_post_is_taken_over_after_its_lease_without_a_repeat(
    fresh_postgres_url: str,  # noqa: F811
    slack: FakeSlack,
    config_file: Path,
    tmp_path: Path,
) -> None:
    # Slack makes the first alert post at once but answers it 20 s later: the replica
    # delivering the on-call channel is stuck in that call with the post in Slack.
    slack.lose_next("chat.postMessage", mode="late", delay=20)
    sim = await start_sim(latency=0.05)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(sim.stop)
        replicas = await start_replicas(
            stack, sim, slack, fresh_postgres_url, config_file, tmp_path
        )
        await wait_until(lambda: slack.lost, timeout=20, what="the first alert post")
        [stuck] = alerted_clusters(slack)

        # Which replica delivers the channel: the holder of its outbox claim.
        store = await Store.open(fresh_postgres_url)
        stack.push_async_callback(store.close)
        async with store.engine.connect() as conn:
            owner = await conn.scalar(
                select(run_claims.c.owner).where(run_claims.c.key == f"outbox:{ONCALL_CHANNEL}")
            )
        assert owner is not None
        doomed = next(r for r in replicas if f":{r.pid}:" in owner)
        survivor = next(r for r in replicas if r is not doomed)
        await doomed.kill()

        # The survivor takes the channel over once the lease is out, finds the stuck post in
        # Slack by its metadata (no second copy), and posts the other alert.
        taken_over_after = await wait_until(
            lambda: len(alerted_clusters(slack)) >= 2, timeout=20, what="the take-over"
        )
        await wait_until(
            lambda: any("was already in Slack" in m for m in survivor.messages()),
            what="the survivor to find the stuck post",
        )
        assert await survivor.terminate() == 0

    assert sorted(alerted_clusters(slack)) == sorted([IDS.stale, IDS.never])
    assert stuck in (IDS.stale, IDS.never)
    assert taken_over_after > 1.0  # not before the dead replica's lease ran out
    async with await Store.open(fresh_postgres_url) as store, store.engine.connect() as conn:
        left = (await conn.execute(select(outbox).where(outbox.c.state != "sent"))).all()
    assert left == []
    assert_clean_logs(survivor)
    assert survivor.messages()[-1] == "stopped"


async def test_a_replica_that_never_read_the_cloud_itself_is_ready_while_its_twin_sweeps(
    fresh_postgres_url: str,  # noqa: F811
    slack: FakeSlack,
    config_file: Path,
    tmp_path: Path,
) -> None:
    sim = await start_sim(latency=0.02)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(sim.stop)
        env = serve_env(
            sim, slack, database_url=fresh_postgres_url, config=config_file, port=free_port()
        )
        twin = await stack.enter_async_context(serving(env, tmp_path))
        await twin.wait_serving()
        await wait_until(lambda: swept_slots([twin]), timeout=20, what="the twin's first sweep")
        # This replica cannot reach the cloud at all (nothing listens there): every sweep slot
        # it might win is blind, and it never reads the cloud itself.
        blind_env = serve_env(
            sim,
            slack,
            database_url=fresh_postgres_url,
            config=config_file,
            port=free_port(),
            YC_MDB_ENDPOINT=f"http://127.0.0.1:{free_port()}",
            YC_RESOURCE_MANAGER_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        )
        blind = await stack.enter_async_context(serving(blind_env, tmp_path))
        await blind.wait_serving()

        async def ready() -> bool:
            status, _ = await blind.get("/readyz")
            return status == 200

        await wait_until(ready, timeout=20, what="the blind replica to be ready")
        _, body = await blind.get("/readyz")
        checks = json.loads(body)["checks"]
        assert checks["fleet"]["ok"] is True
        assert await blind.terminate() == 0
        assert await twin.terminate() == 0
    assert any("first cloud read failed" in m for m in blind.messages())
