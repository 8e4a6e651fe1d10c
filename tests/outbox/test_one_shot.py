"""A one-shot run (``backups-bot sweep`` or ``digest`` from a cron job) whose channel Slack
refuses returns within seconds, says so, and leaves its posts queued for when the channel works.

The verb runs as the CLI runs it (``main`` with its arguments, its own event loop, the settings
from the environment) against a simulated cloud, the fake Slack and a store on loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import clock
from bot.app.cli import main
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.server import SimCloud
from bot.outbox.change import OutboxState
from bot.outbox.executor import DeliveryExecutor
from bot.store import Store
from tests.waiting import wait_until
from tests.world import (  # noqa: F401  (fixtures)
    FOLDER,
    ONCALL_CHANNEL,
    TEAM_CHANNEL,
    fake_slack,
    make_fleet,
    make_notifier,
    seed_backups,
)

#: The verb waits this long for its posts by default (``--wait``); it once did, with a refused
#: channel, before it returned.
DEFAULT_WAIT = 120.0


@pytest.fixture
async def cli_env(
    fake_slack: FakeSlack,  # noqa: F811  (the fixture of that name)
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[SimCloud]:
    """The environment of a ``backups-bot`` process: a simulated cloud with two stale
    PRODUCTION clusters (its fleet dated around the real clock, which the verb reads), alerts to
    the on-call channel and a digest to the team's."""
    now = clock.now()
    sim = SimCloud(SimConfig(), make_fleet(now))
    seed_backups(sim, now)
    await sim.start()
    config = tmp_path / "backups-bot.yaml"
    config.write_text(
        f"watch: {{folders: [{FOLDER}]}}\n"
        f"alerts:\n  - channel: {ONCALL_CHANNEL}\n    match: {{environment: PRODUCTION}}\n"
        f"digests:\n  - channel: {TEAM_CHANNEL}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "YC_MDB_ENDPOINT": sim.url,
        "YC_RESOURCE_MANAGER_ENDPOINT": sim.url,
        "YC_OPERATION_ENDPOINT": sim.url,
        "YC_IAM_TOKEN": DEFAULT_STATIC_TOKEN,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": store_url,
        "BACKUPS_BOT_CONFIG": str(config),
    }.items():
        monkeypatch.setenv(name, value)
    yield sim
    await sim.stop()


async def run_cli(*argv: str) -> int:
    # The verb runs its own event loop; this test's loop keeps serving the sim and fake Slack.
    return await asyncio.to_thread(main, list(argv))


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("verb", "refused", "told"),
    [("sweep", ONCALL_CHANNEL, TEAM_CHANNEL), ("digest", TEAM_CHANNEL, ONCALL_CHANNEL)],
)
async def test_a_one_shot_run_to_a_refused_channel_returns_in_seconds_with_its_posts_queued(
    fake_slack: FakeSlack,  # noqa: F811
    store_url: str,
    capsys: pytest.CaptureFixture[str],
    verb: str,
    refused: str,
    told: str,
) -> None:
    fake_slack.refuse_channel(refused, "channel_not_found")
    started = time.monotonic()

    status = await run_cli(verb)

    took = time.monotonic() - started
    err = capsys.readouterr().err
    # It waited its whole --wait (two minutes) before; a bound that only catches that.
    assert took < DEFAULT_WAIT / 4, f"{verb} took {took:.1f} s"
    assert status == 1
    assert f"in {refused}: still queued (last answer: channel_not_found)" in err
    # Slack was asked once (the rest waited behind the refusal), and the bot's other channel
    # was told, once.
    asked = [c for c in fake_slack.calls_to("chat.postMessage") if c.args["channel"] == refused]
    assert len(asked) == 1
    assert fake_slack.messages(refused) == []
    [notice] = fake_slack.top_level(told)
    assert "channel_not_found" in notice["text"]

    async with await Store.open(store_url) as store:
        waiting = await store.outbox.list_posts(states=OutboxState.OPEN)
        assert waiting
        assert {p.channel for p in waiting} == {refused}
        # The channel is fixed; the next `serve` (its executor, started) delivers them, once.
        fake_slack.allow_channel(refused)
        notifier = make_notifier(fake_slack)
        executor = DeliveryExecutor(store, notifier, owner="serve")
        await executor.start()
        try:

            async def delivered() -> bool:
                posts = await store.outbox.list_posts(ids=[p.id for p in waiting])
                return all(p.state == OutboxState.SENT for p in posts)

            await wait_until(delivered, what="the queued posts in Slack")
        finally:
            await executor.aclose()
            await notifier.aclose()
    assert [m["text"] for m in fake_slack.messages(refused)] == [p.payload["text"] for p in waiting]
