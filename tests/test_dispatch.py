"""The dispatcher on its own, against the simulated cloud: every text gets an answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import clock
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.core.grammar import COMMAND_NAMES
from bot.dispatch import Dispatcher, Invocation
from bot.ops.metrics import Metrics
from bot.simcloud.config import SimConfig
from bot.simcloud.server import SimCloud
from tests.slack.harness import (
    CONFIG,
    FOLDER,
    LOGS,
    ONCALL_GROUP,
    all_text,
    assert_within_limits,
    backup_id,
    make_fleet,
    make_settings,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
USER = Invocation(user_id="U0TESTUSER", channel_id="C0TESTCHAN")


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    async with SimCloud(SimConfig(), make_fleet(clock.now())) as cloud:
        yield cloud


@pytest.fixture
async def cloud(sim: SimCloud) -> AsyncIterator[CloudClient]:
    client = CloudClient.from_settings(make_settings("http://127.0.0.1:9/api/", sim.url))
    try:
        yield client
    finally:
        await client.aclose()


async def test_list_uses_the_limit_as_page_size_and_counts_the_command(
    sim: SimCloud, cloud: CloudClient
) -> None:
    metrics = Metrics()
    dispatcher = Dispatcher(cloud, CONFIG, metrics=metrics)
    reply = await dispatcher.run(f"list {LOGS} --limit 3", USER, now=clock.now())
    assert reply.ok
    assert reply.ephemeral
    assert backup_id(LOGS, 2) in all_text(reply.messages[0].payload())
    assert [r.query.get("pageSize") for r in sim.requests if r.path.endswith("/backups")] == ["3"]
    sample = metrics.registry.get_sample_value(
        "backups_bot_commands_total", {"command": "list", "outcome": "ok"}
    )
    assert sample == 1


async def test_list_defaults_to_ten_backups(sim: SimCloud, cloud: CloudClient) -> None:
    reply = await Dispatcher(cloud, CONFIG).run(f"list {LOGS}", USER, now=clock.now())
    assert reply.ok
    assert [r.query.get("pageSize") for r in sim.requests if r.path.endswith("/backups")] == ["10"]


async def test_a_usage_error_is_flagged_and_counted(cloud: CloudClient) -> None:
    metrics = Metrics()
    reply = await Dispatcher(cloud, CONFIG, metrics=metrics).run("lst", USER, now=NOW)
    assert not reply.ok
    assert reply.usage_error
    sample = metrics.registry.get_sample_value(
        "backups_bot_commands_total", {"command": "unknown", "outcome": "usage_error"}
    )
    assert sample == 1


async def test_a_denial_is_not_a_usage_error(sim: SimCloud, cloud: CloudClient) -> None:
    metrics = Metrics()
    reply = await Dispatcher(cloud, CONFIG, metrics=metrics).run(f"backup {LOGS}", USER, now=NOW)
    assert not reply.ok
    assert not reply.usage_error
    assert "may run `backup`" in all_text(reply.messages[0].payload())
    sample = metrics.registry.get_sample_value(
        "backups_bot_commands_total", {"command": "backup", "outcome": "denied"}
    )
    assert sample == 1
    assert [r for r in sim.requests if r.method != "GET"] == []  # no backup was started


async def test_a_group_member_passes_the_rule(cloud: CloudClient) -> None:
    member = Invocation("U0SOMEONE", "C0TESTCHAN", user_groups=frozenset({ONCALL_GROUP}))
    reply = await Dispatcher(cloud, CONFIG).run(f"backup {LOGS}", member, now=NOW)
    assert "watcher" in all_text(reply.messages[0].payload())


async def test_folder_answers_for_a_folder_with_no_config(
    sim: SimCloud, cloud: CloudClient
) -> None:
    reply = await Dispatcher(cloud, BotConfig()).run(f"folder {FOLDER}", USER, now=NOW)
    assert reply.ok
    assert "logs-prod" in all_text(reply.messages[0].payload())


async def test_an_unknown_button_gets_a_message(cloud: CloudClient) -> None:
    reply = await Dispatcher(cloud, CONFIG).run_action("nope", "", USER, now=NOW)
    assert not reply.ok
    assert "nope" in all_text(reply.messages[0].payload())


def test_a_candidate_group_is_only_one_that_a_rule_names(cloud: CloudClient) -> None:
    assert Dispatcher(cloud, CONFIG).candidate_groups() == {ONCALL_GROUP}
    assert Dispatcher(cloud, BotConfig()).candidate_groups() == frozenset()


# --- any text at all ------------------------------------------------------------------------------

_words = st.one_of(
    st.sampled_from(
        [*COMMAND_NAMES, "--share", "--limit", "--page-token", "-h", LOGS, "logs-prod"]
    ),
    st.sampled_from(["<!channel>", "&lt;", "“", "—limit", "'", '"', "\u200b", "1h", "99999"]),
    st.text(max_size=12),
)
_texts = st.one_of(
    st.text(max_size=200),
    st.lists(_words, max_size=6).map(" ".join),
)


@pytest.fixture(scope="module")
def live_dispatcher() -> Iterator[tuple[asyncio.Runner, Dispatcher]]:
    with asyncio.Runner() as runner:
        sim = SimCloud(SimConfig(), make_fleet(clock.now()))
        runner.run(sim.start())
        client = CloudClient.from_settings(make_settings("http://127.0.0.1:9/api/", sim.url))
        try:
            yield runner, Dispatcher(client, CONFIG)
        finally:
            runner.run(client.aclose())
            runner.run(sim.stop())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts)
def test_any_command_text_gets_an_answer_and_never_raises(
    live_dispatcher: tuple[asyncio.Runner, Dispatcher], text: str
) -> None:
    runner, dispatcher = live_dispatcher
    reply = runner.run(dispatcher.run(text, USER, now=NOW))
    assert reply.messages
    for message in reply.messages:
        assert_within_limits(message.payload())
    assert reply.ok or reply.messages[0].text
    assert "Traceback" not in all_text(reply.messages[0].payload())
    if not reply.ok:
        assert "Something went wrong on my side" not in reply.messages[0].text
