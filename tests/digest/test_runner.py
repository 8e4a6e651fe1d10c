"""The daily digest end to end: SimCloud and FakeSlack on loopback, the store on SQLite and on the
real PostgreSQL. Nothing of ours is mocked; ``now`` is handed in.

The runner queues a digest (its top post and the parts of its thread) with tomorrow's figures and
the run's end in one commit; the delivery executor posts it. Each test runs, delivers, and looks
at the fake Slack."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app.cli import main
from bot.cloud.client import CloudClient
from bot.config import BotConfig, DigestRoute
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import GIB, generate_fleet
from bot.demo.simcloud.server import SimCloud
from bot.digest.runner import (
    DigestRunner,
    DigestStatus,
    digest_route_key,
    fires_once_a_day,
    run_key,
)
from bot.drills.model import DrillOutcome, DrillRecord, DrillStep
from bot.freshness.memory import FACT_HAD_SCHEDULE
from bot.i18n.catalog import ngettext
from bot.ops.metrics import Metrics
from bot.outbox.change import Change, OutboxState, RunFinish
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.posts import OutboundPost, PostKind
from bot.slack.budget import (
    MAX_BLOCK_TEXT,
    MAX_BLOCKS,
    MAX_MESSAGE_TEXT,
    MAX_SECTION_TEXT,
    block_text_length,
)
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from bot.store.claims import SKIPPED_CLAIM
from bot.store.facts import MARKER_LAST_DIGEST
from tests.drills.conftest import drill_config
from tests.store.conftest import OpenStore
from tests.store.conftest import postgres_store_url as postgres_store_url  # (a fixture)
from tests.waiting import wait_until
from tests.world import (
    CONSOLE_URL,
    FOLDER,
    IDS,
    NOW,
    TEAM_CHANNEL,
    DeliveryClock,
    deliver,
    deliver_with,
    make_cloud,
    make_config,
    make_executor,
    make_notifier,
    replies,
    texts,
    top_level,
)

ROOT = Path(__file__).resolve().parents[2]


def runner(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier | None,
    config: BotConfig,
    *,
    owner: str = "replica-a",
    metrics: Metrics | None = None,
) -> DigestRunner:
    return DigestRunner(cloud, store, config, metrics=metrics, console_url=CONSOLE_URL, owner=owner)


def sections(message: dict[str, Any]) -> list[str]:
    """The mrkdwn texts of a message's section blocks."""
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def cluster_order(message: dict[str, Any]) -> list[str]:
    """Cluster ids in the order the message's rows show them."""
    return re.findall(r"/cluster/([a-z0-9]+)/backups", "\n".join(sections(message)))


def top_posts(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """The digests' top posts in a channel (not the parts of their threads)."""
    return [
        m
        for m in slack.messages(channel)
        if not m.get("thread_ts") and ", continued (part " not in m["text"]
    ]


# --- what a digest says ------------------------------------------------------------------------


async def test_it_posts_the_digest_to_the_route_channel_with_problems_first(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    config = make_config()
    metrics = Metrics()

    [result] = await runner(cloud, store, notifier, config, metrics=metrics).run_all(now=NOW)
    # Queued, with the run finished and the figures saved, but not in Slack yet.
    assert result.status == DigestStatus.QUEUED
    assert [p.kind for p in result.posts] == [PostKind.DIGEST, PostKind.FILE]
    assert await store.claims.run_finished(result.run_key or "")
    assert fake_slack.messages() == []
    assert await store.facts.get_marker(MARKER_LAST_DIGEST) is None
    await deliver_with(store, notifier, metrics=metrics)

    assert result.run_key == f"digest:{digest_route_key(config.digests[0])}:2026-03-02"
    message, thread = fake_slack.messages(TEAM_CHANNEL)
    assert message["text"] == (
        "Backups digest · Mon 2 Mar 2026: 1 fresh, 2 stale, 1 never, 0 unknown, 1 stopped"
    )
    assert message["blocks"][0]["text"]["text"] == "Backups digest · Mon 2 Mar 2026"
    assert sections(message)[0].startswith("*5 clusters*: :white_check_mark: 1 fresh")
    # Worst first: within stale, search-pre (2 days old) is more overdue than orders-prod (30 h).
    assert cluster_order(message) == [IDS.never, IDS.prestable, IDS.stale, IDS.stopped]
    # The fresh one is counted on top, and in the file of every cluster, in the thread.
    assert cluster_order(thread) == []
    [table] = fake_slack.files(TEAM_CHANNEL)
    assert table["ts"] == thread["ts"]
    assert table["name"] == "backups-digest-2026-03-02.csv"
    rows = table["content"].decode().splitlines()[1:]
    ids = [IDS.never, IDS.prestable, IDS.stale, IDS.stopped, IDS.fresh]
    assert [row.split(",")[1] for row in rows] == ids
    assert thread["thread_ts"] == message["ts"]  # in the top post's thread
    assert IDS.other not in json.dumps([message, thread])  # not in a watched folder
    assert fake_slack.messages() == [message, thread]  # nothing anywhere else
    # The store marks the digest posted when Slack took its top post (the executor's clock).
    posted_at = await store.facts.get_marker(MARKER_LAST_DIGEST)
    assert posted_at is not None
    assert posted_at >= NOW
    assert set(await store.figures.get_figures(digest_route_key(config.digests[0]))) == {
        IDS.never,
        IDS.stale,
        IDS.prestable,
        IDS.stopped,
        IDS.fresh,
    }
    assert metrics.digests_posted_total._value.get() == 1
    assert metrics.last_successful_digest_timestamp_seconds._value.get() >= NOW.timestamp()


async def test_the_next_days_digest_shows_what_changed_and_flags_a_shrunk_backup(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    config = make_config()
    digests = runner(cloud, store, notifier, config)
    await digests.run_all(now=NOW)
    await deliver(executor)
    # Overnight: logs-prod gets a backup 60 % smaller than the one before it.
    sim.add_backup(IDS.fresh, created_at=NOW + timedelta(hours=18), size_bytes=2 * GIB)

    [result] = await digests.run_all(now=NOW + timedelta(days=1))
    await deliver(executor)

    assert result.status == DigestStatus.QUEUED
    _first, second = top_posts(fake_slack, TEAM_CHANNEL)
    assert second["blocks"][0]["text"]["text"] == "Backups digest · Tue 3 Mar 2026"
    [fresh_line] = [s for s in sections(second)[1].split("\n") if IDS.fresh in s]
    assert ":warning: the newest backup is 60% smaller" in fresh_line
    # What changed since the last digest is in the file: -3 GiB and one backup more for
    # logs-prod, nothing elsewhere; the first digest had nothing to compare with.
    before, after = (f["content"].decode() for f in fake_slack.files(TEAM_CHANNEL))
    [fresh_row] = [row for row in after.splitlines() if f",{IDS.fresh}," in row]
    # (then the note and the three drill columns, empty: no drills are configured)
    assert fresh_row.endswith(f",{-3 * GIB},1,,,,")
    [stale_row] = [row for row in after.splitlines() if f",{IDS.stale}," in row]
    assert stale_row.endswith(",0,0,,,,")
    [first_row] = [row for row in before.splitlines() if f",{IDS.stale}," in row]
    assert first_row.endswith(",,,,,,")


async def test_the_digest_shows_the_last_drills_from_the_store(
    cloud: CloudClient, store: Store, notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    config = drill_config()
    started = NOW - timedelta(days=2)
    for cluster_id, outcome, restored in (
        (IDS.fresh, DrillOutcome.FAILED, None),
        (IDS.stale, DrillOutcome.PASSED, started + timedelta(minutes=23)),
    ):
        await store.drills.start_drill(
            DrillRecord(
                id=f"d{cluster_id[:10]}",
                cluster_id=cluster_id,
                cluster_name="",
                folder_id=FOLDER,
                channel=TEAM_CHANNEL,
                time_limit=timedelta(hours=1),
                started_at=started,
                step=DrillStep.DONE,
                restored_at=restored,
                finished_at=started + timedelta(minutes=40),
                outcome=outcome,
            )
        )
    [result] = await runner(cloud, store, notifier, config).run_all(now=NOW)
    await deliver_with(store, notifier)
    assert result.digest is not None
    never = result.digest.never_drilled
    assert never >= 1  # the other PRODUCTION clusters the drill route covers
    assert result.digest.drill_failed == 1
    [top] = top_posts(fake_slack, TEAM_CHANNEL)
    flags = ngettext("{n} cluster never drilled", "{n} clusters never drilled", never)
    assert f":test_tube: {flags.format(n=never)} · 1 last drill failed" in sections(top)[0]
    [table] = [f["content"].decode() for f in fake_slack.files(TEAM_CHANNEL)]
    cells = {row.split(",")[1]: row.split(",")[-3:] for row in table.splitlines()[1:]}
    assert cells[IDS.fresh] == [started.isoformat(), "failed", ""]
    assert cells[IDS.stale] == [started.isoformat(), "passed", "23"]
    assert cells[IDS.never] == ["", "never", ""]


async def test_a_cluster_whose_schedule_was_removed_is_reported_as_unscheduled(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    await store.facts.set_fact(FACT_HAD_SCHEDULE, json.dumps([IDS.never]))

    await runner(cloud, store, notifier, make_config()).run_all(now=NOW)
    await deliver(executor)

    [message] = top_posts(fake_slack, TEAM_CHANNEL)
    assert "1 unscheduled" in message["text"]
    assert "Snapshot schedule removed, not checked." in sections(message)[1]


async def test_only_problems_hides_fresh_rows_but_counts_them(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    config = make_config(digests=[{"channel": TEAM_CHANNEL, "only_problems": True}])

    await runner(cloud, store, notifier, config).run_all(now=NOW)
    await deliver(executor)

    [message] = fake_slack.messages(TEAM_CHANNEL)
    assert IDS.fresh not in cluster_order(message)
    assert "1 fresh" in message["text"]
    assert "1 cluster with fresh backups not shown" in json.dumps(message)


async def test_a_route_match_restricts_the_digest(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    config = make_config(
        digests=[
            {"channel": TEAM_CHANNEL, "match": {"labels": {"team": "shop"}}},
            {"channel": "C0PRE", "match": {"environment": "prestable"}},
        ]
    )

    results = await runner(cloud, store, notifier, config).run_all(now=NOW)
    await deliver(executor)

    assert [r.status for r in results] == [DigestStatus.QUEUED, DigestStatus.QUEUED]
    assert cluster_order(fake_slack.messages(TEAM_CHANNEL)[0]) == [IDS.stale]
    assert cluster_order(fake_slack.messages("C0PRE")[0]) == [IDS.prestable]


# --- at most once a day ------------------------------------------------------------------------


async def test_a_digest_already_posted_today_is_not_posted_again_after_a_restart(
    sim: SimCloud, open_store: OpenStore, fake_slack: FakeSlack
) -> None:
    config = make_config()
    route = config.digests[0]
    for attempt, now in enumerate([NOW, NOW + timedelta(hours=5)]):
        # A new process each time: its own store connection, client, notifier and owner.
        store, cloud, notifier = await open_store(), make_cloud(sim), make_notifier(fake_slack)
        executor = make_executor(store, notifier, owner=f"pid-{attempt}")
        try:
            result = await runner(cloud, store, notifier, config, owner=f"pid-{attempt}").run_route(
                route, now=now
            )
            await deliver(executor)
        finally:
            await executor.aclose()
            await cloud.aclose()
            await notifier.aclose()
        expected = DigestStatus.QUEUED if attempt == 0 else DigestStatus.ALREADY_POSTED
        assert result.status == expected
    assert len(top_posts(fake_slack, TEAM_CHANNEL)) == 1


async def test_the_local_date_names_the_run_in_the_routes_time_zone(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    # 23:30 UTC on Monday is already Tuesday in Moscow (UTC+3).
    config = make_config(digests=[{"channel": TEAM_CHANNEL, "timezone": "Europe/Moscow"}])
    late = NOW.replace(hour=23, minute=30)

    [result] = await runner(cloud, store, notifier, config).run_all(now=late)
    await deliver(executor)

    assert result.run_key is not None
    assert result.run_key.endswith(":2026-03-03")
    assert fake_slack.messages(TEAM_CHANNEL)[0]["text"].startswith(
        "Backups digest · Tue 3 Mar 2026"
    )


def test_a_schedule_firing_several_times_a_day_gets_a_run_per_fire_time() -> None:
    once = DigestRoute(channel="C1", schedule="30 9 * * *", timezone="Europe/London")
    twice = DigestRoute(channel="C1", schedule="0 9,17 * * *", timezone="Europe/London")
    assert fires_once_a_day(once.schedule)
    assert not fires_once_a_day(twice.schedule)
    assert run_key("k", once, NOW) == "digest:k:2026-03-02"
    assert run_key("k", twice, NOW.replace(hour=17)) == "digest:k:2026-03-02T17:00"


@pytest.mark.parametrize(
    ("schedule", "once"),
    [
        ("30 9 * * mon-fri", True),
        ("0 9-9 * * *", True),  # one time of day, however it is written
        ("0 23 1 * *", True),
        ("0 9,17 * * *", False),
        ("*/30 9 * * *", False),
        ("0 * * * *", False),
        ("30 9 * *", False),  # no schedule at all
        ("61 9 * * *", False),
    ],
)
def test_a_schedule_fires_once_a_day_when_the_engine_finds_one_time_of_day(
    schedule: str, once: bool
) -> None:
    assert fires_once_a_day(schedule) is once


@pytest.mark.postgres
async def test_two_replicas_running_the_same_digest_at_once_post_it_exactly_once(
    sim: SimCloud, postgres_store_url: str, fake_slack: FakeSlack
) -> None:
    config = make_config()
    route = config.digests[0]
    stores = [await Store.open(postgres_store_url) for _ in range(2)]
    clouds = [make_cloud(sim) for _ in range(2)]
    notifiers = [make_notifier(fake_slack) for _ in range(2)]
    try:
        results = await asyncio.gather(
            *(
                runner(clouds[i], stores[i], notifiers[i], config, owner=f"replica-{i}").run_route(
                    route, now=NOW
                )
                for i in range(2)
            )
        )
        for i in range(2):
            await deliver_with(stores[i], notifiers[i], owner=f"replica-{i}")
    finally:
        for i in range(2):
            await stores[i].close()
            await clouds[i].aclose()
            await notifiers[i].aclose()

    statuses = sorted(r.status for r in results)
    assert statuses.count(DigestStatus.QUEUED) == 1
    [other] = [s for s in statuses if s != DigestStatus.QUEUED]
    assert other in (DigestStatus.SKIPPED, DigestStatus.ALREADY_POSTED)
    assert len(top_posts(fake_slack, TEAM_CHANNEL)) == 1


async def test_a_manual_digest_posts_even_after_the_scheduled_one(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    digests = runner(cloud, store, notifier, make_config())
    await digests.run_all(now=NOW)

    [manual] = await digests.run_all(now=NOW + timedelta(minutes=5), force=True)
    [scheduled] = await digests.run_all(now=NOW + timedelta(minutes=10))
    await deliver(executor)

    assert manual.status == DigestStatus.QUEUED
    assert manual.run_key is not None
    assert manual.run_key.startswith("digest-manual:")
    assert scheduled.status == DigestStatus.ALREADY_POSTED
    assert len(top_posts(fake_slack, TEAM_CHANNEL)) == 2


async def test_a_dry_run_returns_the_messages_and_touches_nothing(
    cloud: CloudClient, store: Store, fake_slack: FakeSlack
) -> None:
    config = make_config()

    [result] = await runner(cloud, store, None, config).run_all(now=NOW, dry_run=True)

    assert result.status == DigestStatus.DRY_RUN
    assert len(result.messages) == 1  # the top post; the fresh cluster is in the file
    assert result.table is not None
    assert IDS.fresh in result.table.content.decode()
    assert result.messages[0].text.startswith("Backups digest · Mon 2 Mar 2026")
    assert fake_slack.calls == []
    assert result.posts == ()
    assert await store.outbox.list_posts() == []
    assert await store.figures.get_figures(digest_route_key(config.digests[0])) == {}
    assert await store.facts.get_marker(MARKER_LAST_DIGEST) is None
    assert not await store.claims.run_finished(
        f"digest:{digest_route_key(config.digests[0])}:2026-03-02"
    )


async def test_a_fleet_that_cannot_be_listed_posts_nothing_and_hands_the_run_back(
    sim: SimCloud, cloud: CloudClient, store: Store, notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    config = make_config()
    sim.inject_fault(r"/clusters$", 403, times=None)

    [result] = await runner(cloud, store, notifier, config).run_all(now=NOW)

    assert result.status == DigestStatus.FAILED
    assert "could not be listed" in result.detail
    assert await store.outbox.list_posts() == []  # an empty digest would say all is well
    assert fake_slack.messages() == []
    # Handed back: another replica (or the retry) may take it at once.
    assert await store.claims.claim_run(
        result.run_key or "", "replica-b", now=NOW, lease=timedelta(1)
    )


async def test_a_folder_that_cannot_be_listed_is_named_in_the_digest(
    sim: SimCloud,
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    # Two watched folders; the other one refuses listing (the sim answers 403 for a folder it
    # does not know). The digest posts what it saw, and says what it could not see.
    config = make_config(watch={"folders": [FOLDER, "b1gunknownfolder0009"]})

    [result] = await runner(cloud, store, notifier, config).run_all(now=NOW)
    await deliver(executor)

    assert result.status == DigestStatus.QUEUED
    [message] = top_posts(fake_slack, TEAM_CHANNEL)
    warning = next(s for s in sections(message) if s.startswith(":warning: *Not in this digest:*"))
    assert "b1gunknownfolder0009" in warning
    assert IDS.stale in json.dumps(message)


async def test_a_digest_cancelled_mid_run_hands_its_claim_back(
    sim: SimCloud, cloud: CloudClient, store: Store, notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    config = make_config()
    sim.inject_fault(r"/backups$", 200, times=None, delay=30.0, body={"backups": []})
    task = asyncio.create_task(runner(cloud, store, notifier, config).run_all(now=NOW))
    await wait_until(lambda: sim.requests_to(r"/backups$"), what="the digest to wait on the cloud")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    key = f"digest:{digest_route_key(config.digests[0])}:2026-03-02"
    assert not await store.claims.run_finished(key)
    assert await store.claims.claim_run(key, "replica-b", now=NOW, lease=timedelta(minutes=5))
    assert await store.outbox.list_posts() == []
    assert fake_slack.messages() == []


# --- a large fleet, and failures midway --------------------------------------------------------


@pytest.fixture
async def big_sim() -> AsyncIterator[SimCloud]:
    """300 clusters with 3 backups each, in one folder, about a third of them stale."""
    config = SimConfig(
        folders=1, clusters_per_folder=300, backups_per_cluster=3, seed=7, stale_fraction=0.3
    )
    sim = SimCloud(config, generate_fleet(config, NOW))
    await sim.start()
    yield sim
    await sim.stop()


def big_config(sim: SimCloud) -> BotConfig:
    return make_config(watch={"folders": sim.fleet.folder_ids()}, alerts=[])


def assert_within_slack_limits(message: dict[str, Any]) -> None:
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert all(len(text) <= MAX_SECTION_TEXT for text in sections(message))
    assert len(message["text"]) + sum(len(t) for t in sections(message)) <= MAX_MESSAGE_TEXT
    assert block_text_length(message["blocks"]) <= MAX_BLOCK_TEXT


async def test_a_large_fleet_is_one_post_and_the_rest_in_its_thread_losing_no_row(
    big_sim: SimCloud, store: Store, fake_slack: FakeSlack
) -> None:
    cloud, notifier = make_cloud(big_sim), make_notifier(fake_slack)
    try:
        [result] = await runner(cloud, store, notifier, big_config(big_sim)).run_all(now=NOW)
        await deliver_with(store, notifier)
    finally:
        await cloud.aclose()
        await notifier.aclose()

    assert result.status == DigestStatus.QUEUED
    parts = len(result.posts) - 2
    assert [p.kind for p in result.posts] == [
        PostKind.DIGEST,
        *[PostKind.DIGEST_PART] * parts,
        PostKind.FILE,
    ]
    messages = fake_slack.messages(TEAM_CHANNEL)
    [top] = top_level(messages)
    thread = replies(messages, top["ts"])
    assert len(messages) == len(result.messages) + 1 > 2
    assert 1 <= parts <= 4
    assert [top, *thread] == messages  # every part and the file in its thread, in order
    assert top["text"].startswith("Backups digest · Mon 2 Mar 2026: ")
    assert [m["text"] for m in messages[:-1]] == [m.text for m in result.messages]
    for message in messages:
        assert_within_slack_limits(message)
    shown = [cid for m in messages for cid in cluster_order(m)]
    assert len(shown) == len(set(shown))  # no cluster twice
    [table] = fake_slack.files(TEAM_CHANNEL)
    rows = [row.split(",")[1] for row in table["content"].decode().splitlines()[1:]]
    assert sorted(rows) == sorted(big_sim.fleet.clusters)  # every cluster exactly once


class RefusingThirdPost(FakeSlack):
    """Slack that answers the third chat.postMessage with 429 (Retry-After: 1), once."""

    def _post_message(self, args: dict[str, Any]) -> web.Response:
        response = super()._post_message(args)
        if len(self.calls_to("chat.postMessage")) == 2:
            self.fail_next("chat.postMessage", status=429, retry_after=1)
        return response


async def _refused(store: Store, post: OutboundPost) -> bool:
    queued = await store.outbox.get_post(post.id)
    return queued is not None and (queued.state, queued.error) == (
        OutboxState.PENDING,
        "ratelimited",
    )


async def test_a_digest_refused_part_way_posts_only_its_missing_parts_when_retried(
    big_sim: SimCloud, open_store: OpenStore
) -> None:
    config = big_config(big_sim)
    route = config.digests[0]
    delivery_clock = DeliveryClock()
    async with RefusingThirdPost() as slack:
        store, cloud, notifier = await open_store(), make_cloud(big_sim), make_notifier(slack)
        first = make_executor(store, notifier, owner="replica-a", delivery_clock=delivery_clock)
        try:
            result = await runner(cloud, store, notifier, config).run_route(route, now=NOW)
            assert result.status == DigestStatus.QUEUED
            posts = result.posts
            assert len(posts) >= 3

            # The top post and the first part go out; Slack refuses the second part.
            drained = await first.deliver([p.id for p in posts[:2]], timeout=15)
            assert drained.ok
            await wait_until(lambda: _refused(store, posts[2]), what="the refusal of part 2")
            assert len(slack.messages(TEAM_CHANNEL)) == 2
            waiting = await store.outbox.list_posts(states=OutboxState.OPEN)
            assert [p.id for p in waiting] == [p.id for p in posts[2:]]
            assert await store.facts.get_marker(MARKER_LAST_DIGEST) is not None  # the top is out

            # Past Retry-After, another replica delivers what is missing, and only that.
            delivery_clock.advance(timedelta(seconds=5))
            other = make_executor(
                await open_store(), notifier, owner="replica-b", delivery_clock=delivery_clock
            )
            try:
                await deliver(other)
            finally:
                await other.aclose()
        finally:
            await first.aclose()
            await cloud.aclose()
            await notifier.aclose()

        messages = slack.messages(TEAM_CHANNEL)
        assert [m["text"] for m in messages[:-1]] == [m.text for m in result.messages]
        [top] = top_level(messages)
        assert replies(messages, top["ts"]) == messages[1:]
        # Each part once, and the file once.
        assert len(slack.calls_to("chat.postMessage")) == len(posts) - 1
        assert len(slack.files(TEAM_CHANNEL)) == 1
        assert len(slack.rejected) == 1
        figures = await store.figures.get_figures(digest_route_key(route))
        assert len(figures) == len(big_sim.fleet.clusters)
        assert await store.claims.run_finished(result.run_key or "")


async def test_a_digest_whose_runner_died_before_its_commit_is_taken_over_and_posted_once(
    cloud: CloudClient,
    store: Store,
    notifier: SlackNotifier,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    config = make_config()
    route = config.digests[0]
    claim = run_key(digest_route_key(route), route, NOW)
    lease = config.sweep.lease
    # A replica claimed today's digest and died while building it: nothing committed.
    assert await store.claims.claim_run(claim, "dead-replica", now=NOW, lease=lease)
    digests = runner(cloud, store, notifier, config)

    held = await digests.run_route(route, now=NOW + timedelta(minutes=1))
    taken = await digests.run_route(route, now=NOW + lease + timedelta(seconds=1))
    # Had it only been slow, its commit now finds the run taken and writes nothing.
    late = Change(
        posts=[OutboundPost(PostKind.DIGEST, TEAM_CHANNEL, {"text": "a late digest"})],
        finish_run=RunFinish(claim, "dead-replica", NOW + lease + timedelta(minutes=1)),
    )
    assert await store.commit(late, now=NOW + lease + timedelta(minutes=1)) is None
    await deliver(executor)

    assert (held.status, held.detail) == (DigestStatus.SKIPPED, SKIPPED_CLAIM)
    assert taken.status == DigestStatus.QUEUED
    assert taken.run_key == claim
    [digest] = top_posts(fake_slack, TEAM_CHANNEL)
    assert digest["text"].startswith("Backups digest · Mon 2 Mar 2026")
    assert [p.id for p in await store.outbox.list_posts()] == [p.id for p in taken.posts]
    again = await digests.run_route(route, now=NOW + timedelta(hours=1))
    assert again.status == DigestStatus.ALREADY_POSTED


# --- the command -------------------------------------------------------------------------------


def write_config(path: Path, config: BotConfig) -> Path:
    path.write_text(config.model_dump_json(), encoding="utf-8")  # JSON is YAML
    return path


def cli_env(tmp_path: Path, sim: SimCloud, slack: FakeSlack, config: BotConfig) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "YC_MDB_ENDPOINT": sim.url,
        "YC_RESOURCE_MANAGER_ENDPOINT": sim.url,
        "YC_OPERATION_ENDPOINT": sim.url,
        "YC_IAM_TOKEN": DEFAULT_STATIC_TOKEN,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "BACKUPS_BOT_CONFIG": str(write_config(tmp_path / "bot.yaml", config)),
        "YC_CONSOLE_URL": CONSOLE_URL,
    }


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "digest",
        *args,
        env=env,
        cwd=env["TMP_CWD"],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_digest_command_prints_a_dry_run_and_posts_for_real(
    sim: SimCloud, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, sim, fake_slack, make_config())
    env["TMP_CWD"] = str(tmp_path)
    env["PYTHONPATH"] = str(ROOT)

    code, out, err = await run_cli(env, "--dry-run")
    assert (code, err) == (0, "")
    assert "Backups digest · " in out
    assert "new-cluster" in out
    assert "orders-prod" in out
    assert fake_slack.calls == []

    code, out, err = await run_cli(env, "--json", "--channel", TEAM_CHANNEL)
    assert code == 0, err
    [result] = json.loads(out)
    assert result["status"] == "queued"
    assert result["channel"] == TEAM_CHANNEL
    assert {post["state"] for post in result["posts"]} == {"sent"}
    posted = texts(fake_slack.messages(TEAM_CHANNEL))
    assert posted == [m["text"] for m in result["messages"]] + [result["file"]["comment"]]


def test_the_digest_command_refuses_a_channel_without_a_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(watch={"folders": [FOLDER]})
    monkeypatch.setenv("BACKUPS_BOT_CONFIG", str(write_config(tmp_path / "bot.yaml", config)))
    monkeypatch.chdir(tmp_path)

    assert main(["digest", "--channel", "C0NOWHERE", "--dry-run"]) == 2

    err = capsys.readouterr().err
    assert "no digest route posts to channel C0NOWHERE" in err
    assert TEAM_CHANNEL in err
