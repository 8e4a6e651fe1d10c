"""Limits on what a person or a channel can make the bot do, through the real Bolt app: over
the limit, the answer says "slow down, try again in N s" at once, and the cloud is not asked."""

from __future__ import annotations

import json

from bot.alerts.actions import LIST_BACKUPS
from bot.config import Access, AccessRule, BotConfig, Limits, Watch
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.server import SimCloud
from tests.slack.harness import FOLDER, LEAD, LOGS, ONCALL_GROUP, all_text, running_bot

LIMITED = BotConfig(
    watch=Watch(folders=[FOLDER]),
    access=Access(
        folders=[FOLDER],
        rules=[AccessRule(commands=["backup"], users=[LEAD], usergroups=[ONCALL_GROUP])],
    ),
    limits=Limits(user_per_minute=3, channel_per_minute=5),
)


def _listings(sim: SimCloud) -> int:
    """How many listings were started: first pages only (the simulator may answer a listing
    with several pages, empty ones included)."""
    return len(
        [r for r in sim.requests if r.path.endswith("/backups") and not r.query.get("pageToken")]
    )


async def test_a_person_over_the_limit_is_told_to_slow_down_and_the_cloud_is_not_asked(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url, config=LIMITED) as bot:
        answers = [all_text(await bot.ask(f"list {LOGS} --limit 1")) for _ in range(4)]
        help_text = all_text(await bot.ask("help"))  # help reaches no cloud: not counted
        other = all_text(await bot.ask(f"list {LOGS} --limit 1", user_id="U0SOMEONEELSE"))
    assert all("Slow down" not in a for a in answers[:3])
    assert "Slow down, try again in 20 s." in answers[3]
    assert "limits.user_per_minute" in answers[3]
    assert "/backups list" in help_text
    assert "Slow down" not in other
    assert _listings(sim) == 4  # three of the first person's, one of the other's


async def test_a_busy_channel_is_told_to_slow_down_whoever_asks(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url, config=LIMITED) as bot:
        answers = [
            all_text(await bot.ask(f"list {LOGS} --limit 1", user_id=f"U0PERSON{i}"))
            for i in range(6)
        ]
        elsewhere = all_text(await bot.ask(f"list {LOGS} --limit 1", channel_id="C0QUIET"))
    assert ["Slow down" in a for a in answers] == [False] * 5 + [True]
    assert "limits.channel_per_minute" in answers[5]
    assert "Slow down" not in elsewhere


async def test_button_clicks_count_toward_the_same_limit(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    value = json.dumps({"c": LOGS, "r": "route"})
    async with running_bot(fake_slack, sim.url, config=LIMITED) as bot:
        for _ in range(3):
            await bot.ask(f"list {LOGS} --limit 1")
        ack = await bot.click(LIST_BACKUPS.id, value, key="click")
        assert ack.status == 200
        answer = await bot.reply("click")
    assert "Slow down, try again in" in all_text(answer)
    assert _listings(sim) == 3
