"""A channel that refuses the bot is announced in the bot's other channels, once, and its
recovery in the notice's thread: the executor and ChannelNotices together, on a fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import BotConfig
from bot.demo.fake_slack import FakeSlack
from bot.outbox.change import Change
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.notices import ChannelNotices
from bot.outbox.pacing import Pace
from bot.outbox.posts import OutboundPost, PostKind
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.waiting import wait_until

ONCALL, TEAM = "C0ONCALL", "C0TEAM"
FAST = Pace(posts_per_second=200, post_burst=50, updates_per_second=200, update_burst=50)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def config() -> BotConfig:
    return BotConfig.model_validate(
        {
            "watch": {"folders": ["b1gfolder"]},
            "alerts": [{"channel": ONCALL}],
            "digests": [{"channel": TEAM}],
        }
    )


async def test_a_refusing_channel_is_announced_once_elsewhere_and_its_recovery_in_the_thread(
    store: Store, slack: FakeSlack
) -> None:
    slack.refuse_channel(TEAM, "not_in_channel")
    notifier = SlackNotifier(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))

    def start_executor() -> DeliveryExecutor:
        executor = DeliveryExecutor(
            store,
            notifier,
            owner="a",
            pace=FAST,
            poll_interval=0.02,
            backoff=lambda _attempts, after: timedelta(seconds=after or 0.02),
        )
        executor.watch = ChannelNotices(store, config(), queued=executor.wake)
        return executor

    executor = start_executor()
    now = datetime.now(UTC)
    digest = OutboundPost(PostKind.DIGEST, TEAM, {"text": "digest"})
    more = OutboundPost(PostKind.DIGEST, TEAM, {"text": "tomorrow's digest"})
    await store.commit(Change(posts=[digest]), now=now)
    await executor.start()
    try:
        await wait_until(lambda: slack.messages(ONCALL), what="the notice in the on-call channel")
        await store.commit(Change(posts=[more]), now=now)
        executor.wake()
        [notice] = slack.messages(ONCALL)
        assert f"<#{TEAM}>" in str(notice["blocks"])
        assert "not_in_channel" in notice["text"]
        [incident] = await store.incidents.list_incidents(open_only=True)
        assert incident.key == f"channel:{TEAM}"
        [problem] = await store.outbox.channel_problems()
        assert problem.next_try - problem.since == timedelta(hours=1)  # tried again hourly

        # Invited, and the bot restarted: both digests go out, in order, and the notice gets its
        # all-clear in its thread; nothing more is announced.
        slack.invite(TEAM)
        await executor.aclose()
        executor = start_executor()
        await executor.start()
        await wait_until(lambda: len(slack.messages(TEAM)) == 2, what="the waiting digests")
        await wait_until(
            lambda: slack.replies(ONCALL, notice["ts"]), what="the all-clear in the thread"
        )
    finally:
        await executor.aclose()
        await notifier.aclose()
    assert [m["text"] for m in slack.messages(TEAM)] == ["digest", "tomorrow's digest"]
    [all_clear] = slack.replies(ONCALL, notice["ts"])
    assert "takes my posts again" in all_clear["text"]
    assert len(slack.top_level(ONCALL)) == 1
    assert await store.incidents.list_incidents(open_only=True) == []
