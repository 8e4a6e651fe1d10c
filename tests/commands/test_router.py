"""The dispatcher on its own, against the simulated cloud: every text gets an answer."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import clock
from bot.app.wiring import build_features, open_components
from bot.chat.actions import Invocation
from bot.cloud.client import CloudClient
from bot.commands.grammar import COMMAND_NAMES
from bot.commands.router import Reply, Router
from bot.config import BotConfig
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.server import SimCloud
from bot.ops.metrics import Metrics
from bot.queries.actions import LIST_NEXT_PAGE
from bot.slack.blocks import SLACK
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


def router_for(cloud: CloudClient, config: BotConfig, *, metrics: Metrics | None = None) -> Router:
    """The router of a process with no watcher: the commands that read the cloud."""
    return build_features(cloud, config, metrics=metrics).router


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


async def test_list_reads_whole_pages_shows_the_limit_and_counts_the_command(
    sim: SimCloud, cloud: CloudClient
) -> None:
    metrics = Metrics()
    dispatcher = router_for(cloud, CONFIG, metrics=metrics)
    reply = await dispatcher.run(f"list {LOGS} --limit 3", USER, now=clock.now())
    assert reply.ok
    assert reply.ephemeral
    text = all_text(SLACK.render(reply.messages[0]))
    assert [backup_id(LOGS, n) in text for n in range(5)] == [True, True, True, False, False]
    # Every page, of the API's largest size: the newest backup may be on any of them.
    sizes = {r.query.get("pageSize") for r in sim.requests if r.path.endswith("/backups")}
    assert sizes == {"1000"}
    sample = metrics.registry.get_sample_value(
        "backups_bot_commands_total", {"command": "list", "outcome": "ok"}
    )
    assert sample == 1


async def test_list_defaults_to_ten_backups(sim: SimCloud, cloud: CloudClient) -> None:
    reply = await router_for(cloud, CONFIG).run(f"list {LOGS}", USER, now=clock.now())
    assert reply.ok
    text = all_text(SLACK.render(reply.messages[0]))
    assert backup_id(LOGS, 9) in text
    assert backup_id(LOGS, 10) not in text


# --- list over any order, any paging --------------------------------------------------------------


@pytest.fixture
async def paged() -> AsyncIterator[SimCloud]:
    """The cloud pages logs-prod 4 at a time, in its seeded order, starting with an empty page."""
    config = SimConfig(max_page_size=4, empty_pages=1)
    async with SimCloud(config, make_fleet(clock.now())) as cloud:
        yield cloud


def _shown(reply: Reply) -> list[str]:
    text = all_text(SLACK.render(reply.messages[0]))
    found = re.findall(rf"{LOGS}:snapshot-\d{{4}}", text)
    return list(dict.fromkeys(found))


def _next(reply: Reply) -> str | None:
    for block in SLACK.render(reply.messages[0])["blocks"]:
        if block["type"] == "actions":
            return str(block["elements"][0]["value"])
    return None


async def _click_through(dispatcher: Router, first: Reply) -> list[list[str]]:
    pages = [_shown(first)]
    value = _next(first)
    while value is not None:
        reply = await dispatcher.run_action(LIST_NEXT_PAGE.id, value, USER, now=clock.now())
        assert reply.ok, all_text(SLACK.render(reply.messages[0]))
        pages.append(_shown(reply))
        value = _next(reply)
    return pages


async def test_list_and_next_page_show_every_backup_once_newest_first_in_any_order(
    paged: SimCloud,
) -> None:
    async with CloudClient.from_settings(make_settings("http://127.0.0.1:9/", paged.url)) as cloud:
        dispatcher = router_for(cloud, CONFIG)
        first = await dispatcher.run(f"list {LOGS} --limit 7", USER, now=clock.now())
        pages = await _click_through(dispatcher, first)
    # The cloud's order is not newest first, and its pages are smaller than asked for.
    listed = [r for r in paged.requests if r.path.endswith(f"{LOGS}/backups")]
    assert len(listed) >= 1 + 7  # an empty page, then ceil(25 / 4) pages, per reading
    assert [len(page) for page in pages] == [7, 7, 7, 4]
    assert [b for page in pages for b in page] == [backup_id(LOGS, n) for n in range(25)]


async def test_a_next_page_button_from_before_a_restart_still_works(paged: SimCloud) -> None:
    settings = make_settings("http://127.0.0.1:9/", paged.url)
    async with CloudClient.from_settings(settings) as cloud:
        first = await router_for(cloud, CONFIG).run(f"list {LOGS}", USER, now=clock.now())
    value = _next(first)
    assert value is not None
    async with CloudClient.from_settings(settings) as cloud:  # a new process: nothing kept
        second = await router_for(cloud, CONFIG).run_action(
            LIST_NEXT_PAGE.id, value, USER, now=clock.now()
        )
    assert _shown(second) == [backup_id(LOGS, n) for n in range(10, 20)]


async def test_a_backup_landing_between_clicks_does_not_shift_the_next_page(
    paged: SimCloud,
) -> None:
    async with CloudClient.from_settings(make_settings("http://127.0.0.1:9/", paged.url)) as cloud:
        dispatcher = router_for(cloud, CONFIG)
        first = await dispatcher.run(f"list {LOGS}", USER, now=clock.now())
        paged.add_backup(LOGS, created_at=clock.now())
        value = _next(first)
        assert value is not None
        second = await dispatcher.run_action(LIST_NEXT_PAGE.id, value, USER, now=clock.now())
        again = await dispatcher.run(f"list {LOGS} --limit 1", USER, now=clock.now())
    assert _shown(second) == [backup_id(LOGS, n) for n in range(10, 20)]
    assert backup_id(LOGS, 0) not in all_text(SLACK.render(again.messages[0]))  # the new one is


async def test_a_next_page_button_of_the_older_format_starts_over_and_says_so(
    sim: SimCloud, cloud: CloudClient
) -> None:
    old = json.dumps({"c": LOGS, "t": "b2xkLXRva2Vu", "l": 10})
    reply = await router_for(cloud, CONFIG).run_action(LIST_NEXT_PAGE.id, old, USER, now=NOW)
    assert reply.ok
    assert _shown(reply) == [backup_id(LOGS, n) for n in range(10)]
    assert "older version of the bot" in all_text(SLACK.render(reply.messages[0]))
    assert all(r.query.get("pageToken") != "b2xkLXRva2Vu" for r in sim.requests)  # not sent


async def test_a_typed_page_token_is_a_position_and_a_foreign_one_is_refused(
    sim: SimCloud, cloud: CloudClient
) -> None:
    dispatcher = router_for(cloud, CONFIG)
    first = await dispatcher.run(f"list {LOGS} --limit 5", USER, now=clock.now())
    value = _next(first)
    assert value is not None
    position = json.loads(value)["p"]
    typed = await dispatcher.run(
        f"list {LOGS} --limit 5 --page-token {position}", USER, now=clock.now()
    )
    assert _shown(typed) == [backup_id(LOGS, n) for n in range(5, 10)]
    foreign = await dispatcher.run(f"list {LOGS} --page-token abc", USER, now=clock.now())
    assert foreign.usage_error
    assert "not a place in a list" in all_text(SLACK.render(foreign.messages[0]))


@pytest.mark.parametrize(
    "value",
    [
        json.dumps({"c": LOGS, "p": "not-a-position", "l": 10}),
        json.dumps({"c": LOGS, "p": "12x~id", "l": 10}),
        json.dumps({"c": LOGS, "p": 5, "l": 10}),
        json.dumps({"c": LOGS, "p": "1~", "l": 10}),
    ],
)
async def test_a_forged_position_gets_a_clear_message(cloud: CloudClient, value: str) -> None:
    reply = await router_for(cloud, CONFIG).run_action(LIST_NEXT_PAGE.id, value, USER, now=NOW)
    assert not reply.ok
    assert "not one the bot made" in all_text(SLACK.render(reply.messages[0]))


async def test_an_unreadable_backup_is_left_out_of_the_list_and_counted(
    sim: SimCloud, cloud: CloudClient
) -> None:
    body = {"backups": [{"id": f"{LOGS}:ok", "createdAt": "2026-11-20T10:00:00Z"}, {"id": 1}]}
    sim.inject_fault(rf"/clusters/{LOGS}/backups$", 200, body=body, times=None)
    reply = await router_for(cloud, CONFIG).run(f"list {LOGS}", USER, now=NOW)
    assert reply.ok
    text = all_text(SLACK.render(reply.messages[0]))
    assert f"{LOGS}:ok" in text
    assert "1 sent by the cloud could not be read" in text


async def test_a_usage_error_is_flagged_and_counted(cloud: CloudClient) -> None:
    metrics = Metrics()
    reply = await router_for(cloud, CONFIG, metrics=metrics).run("lst", USER, now=NOW)
    assert not reply.ok
    assert reply.usage_error
    sample = metrics.registry.get_sample_value(
        "backups_bot_commands_total", {"command": "unknown", "outcome": "usage_error"}
    )
    assert sample == 1


async def test_a_denial_is_not_a_usage_error(sim: SimCloud, cloud: CloudClient) -> None:
    metrics = Metrics()
    reply = await router_for(cloud, CONFIG, metrics=metrics).run(f"backup {LOGS}", USER, now=NOW)
    assert not reply.ok
    assert not reply.usage_error
    assert "may run `backup`" in all_text(SLACK.render(reply.messages[0]))
    sample = metrics.registry.get_sample_value(
        "backups_bot_commands_total", {"command": "backup", "outcome": "denied"}
    )
    assert sample == 1
    assert [r for r in sim.requests if r.method != "GET"] == []  # no backup was started


async def test_a_group_member_passes_the_rule(cloud: CloudClient) -> None:
    member = Invocation("U0SOMEONE", "C0TESTCHAN", user_groups=frozenset({ONCALL_GROUP}))
    reply = await router_for(cloud, CONFIG).run(f"backup {LOGS}", member, now=NOW)
    assert "watcher" in all_text(SLACK.render(reply.messages[0]))


async def test_folder_answers_for_a_folder_with_no_config(
    sim: SimCloud, cloud: CloudClient
) -> None:
    reply = await router_for(cloud, BotConfig()).run(f"folder {FOLDER}", USER, now=NOW)
    assert reply.ok
    assert "logs-prod" in all_text(SLACK.render(reply.messages[0]))


async def test_an_unknown_button_gets_a_message(cloud: CloudClient) -> None:
    reply = await router_for(cloud, CONFIG).run_action("nope", "", USER, now=NOW)
    assert not reply.ok
    assert "nope" in all_text(SLACK.render(reply.messages[0]))


def test_a_candidate_group_is_only_one_that_a_rule_names(cloud: CloudClient) -> None:
    assert router_for(cloud, CONFIG).candidate_groups() == {ONCALL_GROUP}
    assert router_for(cloud, BotConfig()).candidate_groups() == frozenset()


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
def live_dispatcher() -> Iterator[tuple[asyncio.Runner, Router]]:
    with asyncio.Runner() as runner:
        sim = SimCloud(SimConfig(), make_fleet(clock.now()))
        runner.run(sim.start())
        client = CloudClient.from_settings(make_settings("http://127.0.0.1:9/api/", sim.url))
        try:
            yield runner, router_for(client, CONFIG)
        finally:
            runner.run(client.aclose())
            runner.run(sim.stop())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts)
def test_any_command_text_gets_an_answer_and_never_raises(
    live_dispatcher: tuple[asyncio.Runner, Router], text: str
) -> None:
    runner, dispatcher = live_dispatcher
    reply = runner.run(dispatcher.run(text, USER, now=NOW))
    assert reply.messages
    for message in reply.messages:
        assert_within_limits(SLACK.render(message))
    assert reply.ok or reply.messages[0].text
    assert "Traceback" not in all_text(SLACK.render(reply.messages[0]))
    if not reply.ok:
        assert "Something went wrong on my side" not in reply.messages[0].text


async def test_an_unreadable_backup_is_counted_in_the_metrics_of_a_wired_bot(
    sim: SimCloud, tmp_path: Path
) -> None:
    body = {"backups": [{"id": f"{LOGS}:ok"}, {"id": f"{LOGS}:bad", "sizeBytes": "lots"}]}
    sim.inject_fault(rf"/clusters/{LOGS}/backups$", 200, body=body, times=None)
    settings = make_settings("http://127.0.0.1:9/api/", sim.url).model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}
    )
    async with open_components(settings, CONFIG, role="test", slack=False) as parts:
        reply = await parts.router.run(f"list {LOGS}", USER, now=NOW)
        assert reply.ok
        body_text, _ = parts.metrics.render()
    assert (
        'backups_bot_cloud_items_skipped_total{kind="backup",method="Cluster.listBackups"} 1.0'
        in body_text.decode()
    )


# --- why, and whether a restore would work -----------------------------------------------------


async def test_get_says_whether_a_restore_would_fit_and_shows_the_size_trend(
    sim: SimCloud, cloud: CloudClient
) -> None:
    from bot.demo.simcloud.fleet import GIB

    newest = sim.fleet.backup(backup_id(LOGS, 0))
    assert newest is not None
    newest.free_space_required_bytes = 40 * GIB
    sim.add_operation(LOGS, created_at=clock.now(), error="Snapshot <failed> & retried")
    reply = await router_for(cloud, CONFIG).run(f"get {backup_id(LOGS, 0)}", USER, now=clock.now())
    assert reply.ok
    text = all_text(SLACK.render(reply.messages[0]))
    assert (
        "A restore of this backup into a cluster of this shape would fit: it needs 40 GiB free, "
        "the data nodes have 1.5 TiB." in text
    )
    # The 14 newest of its 25 backups, oldest first: each newer one 1 GiB smaller.
    trend = re.search(r"Last 14 backups, oldest first: size `([▁▂▃▄▅▆▇█]{14})` 40 GiB–53 GiB", text)
    assert trend is not None
    assert trend.group(1)[0] == "█"
    assert trend.group(1)[-1] == "▁"
    assert "The last backup attempt" in text
    assert "failed: Snapshot &lt;failed&gt; &amp; retried" in text
    assert "Backup retention policies: none" in text


async def test_get_flags_a_backup_older_than_any_version_the_cloud_restores_to(
    sim: SimCloud, cloud: CloudClient
) -> None:
    old = sim.fleet.backup(backup_id(LOGS, 24))
    assert old is not None
    old.opensearch_version = "2.8.1"
    reply = await router_for(cloud, CONFIG).run(f"get {backup_id(LOGS, 24)}", USER, now=clock.now())
    text = all_text(SLACK.render(reply.messages[0]))
    assert (
        "Its OpenSearch 2.8.1 is older than any version the cloud restores to (the oldest is 2.12)."
        in text
    )
    # Where the service lists no versions, nothing is said of them; and it is asked once.
    sim.fleet.versions = None
    fresh = CloudClient.from_settings(make_settings("http://127.0.0.1:9/api/", sim.url))
    try:
        dispatcher = router_for(fresh, CONFIG)
        for _ in range(2):
            reply = await dispatcher.run(f"get {backup_id(LOGS, 24)}", USER, now=clock.now())
            assert reply.ok
            assert "older than any version" not in all_text(SLACK.render(reply.messages[0]))
    finally:
        await fresh.aclose()
    assert len([r for r in sim.requests_to(r"/versions$") if r.status == 404]) == 1


async def test_get_still_shows_the_backup_when_its_cluster_cannot_be_read(
    sim: SimCloud, cloud: CloudClient
) -> None:
    sim.inject_fault(rf"/clusters/{LOGS}$", 503, times=None)
    sim.inject_fault(rf"/clusters/{LOGS}/operations$", 403, times=None)
    reply = await router_for(cloud, CONFIG).run(f"get {backup_id(LOGS, 0)}", USER, now=clock.now())
    assert reply.ok
    text = all_text(SLACK.render(reply.messages[0]))
    assert backup_id(LOGS, 0) in text
    assert "Its cluster could not be read" in text
    assert "The cluster's operations could not be read: Permission denied" in text
    assert "would fit" not in text


async def test_list_heads_the_backups_with_the_last_attempt_and_the_trend(
    sim: SimCloud, cloud: CloudClient
) -> None:
    sim.set_state(LOGS, health="DEGRADED")
    sim.add_operation(LOGS, created_at=clock.now(), done=False)
    reply = await router_for(cloud, CONFIG).run(f"list {LOGS} --limit 3", USER, now=clock.now())
    assert reply.ok
    text = all_text(SLACK.render(reply.messages[0]))
    assert "A backup has been running for 0s" in text
    assert "Last 14 backups, oldest first: size `" in text
    assert "Cluster health DEGRADED" in text
    # Its operations were read (every page, the empty ones the cloud may send included).
    assert sim.requests_to(rf"/clusters/{LOGS}/operations$")
