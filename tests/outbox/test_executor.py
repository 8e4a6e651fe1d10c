"""The delivery executor against a fake Slack that behaves like the real one: it loses answers
after posting, paces, refuses channels and tokens and content, and keeps a searchable history.

Every test queues posts with Store.commit (as the watcher does) and lets a real executor deliver
them over HTTP on loopback; what Slack ends up showing is what is asserted.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event

from bot.demo.fake_slack import HTML_ERROR_PAGE, STRICT_LIMITS, FakeSlack, WindowPace, elapsed
from bot.demo.fake_slack import Pace as SlackPace
from bot.ops.metrics import Metrics
from bot.outbox.change import Change, OutboxState
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.pacing import Pace
from bot.outbox.posts import EVENT_TYPE, OutboundPost, PostKind
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.store.conftest import OpenStore
from tests.waiting import wait_until

#: Fast enough for tests, and slower than the fake's own pace where that is on.
FAST = Pace(posts_per_second=200, post_burst=50, updates_per_second=200, update_burst=50)


class Watch:
    """A ChannelWatch that remembers what it was told."""

    def __init__(self) -> None:
        self.refused: list[tuple[str, str]] = []
        self.recovered: list[str] = []

    async def channel_refused(self, channel: str, code: str, now: datetime) -> None:
        self.refused.append((channel, code))

    async def channel_recovered(self, channel: str, now: datetime) -> None:
        self.recovered.append(channel)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def make_notifier(slack: FakeSlack, *, timeout: int = 5) -> SlackNotifier:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, timeout=timeout)
    return SlackNotifier(client)


def quick_backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Retries within milliseconds, but a Retry-After as Slack said it."""
    return timedelta(seconds=retry_after) if retry_after else timedelta(milliseconds=20)


#: Every executor a test made, closed after it (cancelling what it still sends).
_MADE: list[DeliveryExecutor] = []


@pytest.fixture(autouse=True)
async def _close_executors(open_store: OpenStore) -> AsyncIterator[None]:
    # Depends on the stores, so that it runs first at teardown: executors stop before the
    # databases they write to are closed.
    yield
    while _MADE:
        await _MADE.pop().aclose(timeout=5)


def make_executor(
    store: Store,
    slack: FakeSlack,
    *,
    owner: str = "replica-a",
    pace: Pace = FAST,
    timeout: int = 5,
    metrics: Metrics | None = None,
    watch: Watch | None = None,
) -> DeliveryExecutor:
    executor = DeliveryExecutor(
        store,
        make_notifier(slack, timeout=timeout),
        owner=owner,
        pace=pace,
        metrics=metrics,
        watch=watch,
        poll_interval=0.02,
        backoff=quick_backoff,
    )
    _MADE.append(executor)
    return executor


def post(text: str, channel: str = "C1", **kw: object) -> OutboundPost:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}}]
    return OutboundPost(
        kind=kw.pop("kind", PostKind.ALERT),  # type: ignore[arg-type]
        channel=channel,
        payload={"text": text, "blocks": blocks},
        **kw,  # type: ignore[arg-type]
    )


async def queue(store: Store, *posts: OutboundPost) -> list[str]:
    committed = await store.commit(Change(posts=list(posts)), now=datetime.now(UTC))
    assert committed is not None
    return [p.id for p in posts]


def _is(read: Callable[[], Awaitable[object]], expected: object) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await read() == expected

    return check


def outbox_ids(slack: FakeSlack, channel: str | None = None) -> list[str]:
    """The outbox id each message in Slack carries, oldest first."""
    out = []
    for message in slack.messages(channel):
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == EVENT_TYPE:
            out.append(metadata["event_payload"]["outbox_id"])
    return out


def delivered(metrics: Metrics, kind: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "backups_bot_deliveries_total", {"kind": kind, "outcome": outcome}
    )
    return value or 0.0


async def test_posts_go_out_in_order_and_replies_land_in_their_parents_thread(
    store: Store, slack: FakeSlack
) -> None:
    alert = post("alert")
    reply = post("reminder", kind=PostKind.REMINDER, parent_id=alert.id)
    update = post("alert, updated", kind=PostKind.ALERT_UPDATE, parent_id=alert.id)
    other = post("elsewhere", channel="C2")
    ids = await queue(store, alert, reply, update, other)

    result = await make_executor(store, slack).deliver(ids)

    assert result.ok
    [top] = slack.top_level("C1")
    assert top["text"] == "alert, updated"
    assert [m["text"] for m in slack.replies("C1", top["ts"])] == ["reminder"]
    assert [m["text"] for m in slack.messages("C2")] == ["elsewhere"]
    sent = {p.id: p for p in result.posts}
    assert sent[alert.id].ts == top["ts"]
    assert sent[update.id].state == OutboxState.SENT
    # Every post carries its outbox id, and links are not unfurled.
    assert outbox_ids(slack, "C1") == [alert.id, reply.id]
    assert all(m["unfurl_links"] is False for m in slack.messages("C1"))


@pytest.mark.parametrize("mode", ["500_html", "503_json", "reset"])
async def test_a_post_whose_answer_is_lost_is_found_not_posted_again(
    store: Store, slack: FakeSlack, mode: str
) -> None:
    metrics = Metrics()
    slack.lose_next("chat.postMessage", mode=mode)  # type: ignore[arg-type]
    first, second = post("first"), post("second")
    await queue(store, first, second)

    result = await make_executor(store, slack, metrics=metrics).deliver(timeout=30)

    assert result.ok, result.posts
    assert outbox_ids(slack, "C1") == [first.id, second.id]
    assert [m["text"] for m in slack.messages("C1")] == ["first", "second"]
    assert {p.id: p.ts for p in result.posts}[first.id] == slack.messages("C1")[0]["ts"]
    assert delivered(metrics, "alert", "in_doubt") == 1
    assert delivered(metrics, "alert", "found") == 1


#: Every shape of an answer to a post that is not Slack's JSON answer, each after Slack posted.
UNREADABLE = ["200_html", "200_no_ok", "200_truncated", "200_wrong_type", "200_cut"]


@pytest.mark.parametrize("mode", UNREADABLE)
async def test_a_post_whose_answer_cannot_be_read_is_looked_for_and_is_in_slack_once(
    store: Store, slack: FakeSlack, mode: str
) -> None:
    metrics = Metrics()
    slack.lose_next("chat.postMessage", mode=mode)  # type: ignore[arg-type]
    first, second = post("first"), post("second")
    await queue(store, first, second)

    result = await make_executor(store, slack, metrics=metrics).deliver(timeout=30)

    assert result.ok, result.posts
    assert outbox_ids(slack, "C1") == [first.id, second.id]
    assert len(slack.posts("C1")) == 2  # Slack was asked once for each: nothing posted blind
    assert {p.id: p.ts for p in result.posts}[first.id] == slack.messages("C1")[0]["ts"]
    assert delivered(metrics, "alert", "in_doubt") == 1
    assert delivered(metrics, "alert", "found") == 1
    assert delivered(metrics, "alert", "retried") == 0


async def test_a_proxy_that_answers_every_post_with_a_page_still_leaves_each_post_once(
    store: Store, slack: FakeSlack
) -> None:
    # What was seen: three answers in a row a proxy's HTML page with 200; each post once.
    slack.lose_next("chat.postMessage", mode="200_html", times=3)
    posts = [post(f"m{n}") for n in range(3)]
    ids = await queue(store, *posts)

    result = await make_executor(store, slack).deliver(ids, timeout=30)

    assert result.ok
    assert outbox_ids(slack, "C1") == ids
    assert len(slack.calls_to("chat.postMessage")) == 3
    assert len(slack.lost) == 3


async def test_an_update_whose_answer_cannot_be_read_is_simply_sent_again(
    store: Store, slack: FakeSlack
) -> None:
    alert = post("v0")
    await queue(store, alert)
    executor = make_executor(store, slack)
    assert (await executor.deliver(timeout=30)).ok
    slack.lose_next("chat.update", mode="200_no_ok")
    update = post("v1", kind=PostKind.ALERT_UPDATE, parent_id=alert.id)
    await queue(store, update)

    result = await executor.deliver([update.id], timeout=30)

    assert result.ok
    assert [m["text"] for m in slack.messages("C1")] == ["v1"]
    assert len(slack.calls_to("chat.update")) == 2  # idempotent: sent again, not looked for


async def test_an_answer_later_than_the_timeout_is_found_not_posted_again(
    store: Store, slack: FakeSlack
) -> None:
    slack.lose_next("chat.postMessage", mode="late", delay=3.0)
    [only] = await queue(store, post("once"))

    result = await make_executor(store, slack, timeout=1).deliver(timeout=30)

    assert result.ok
    assert outbox_ids(slack) == [only]


async def test_a_post_left_sending_by_a_dead_process_is_found_by_the_next_one(
    open_store: OpenStore, slack: FakeSlack
) -> None:
    # The first process posts, and is gone before Slack's answer arrives (cancelled mid-call,
    # as a kill would leave it): the row stays "sending".
    store = await open_store()
    slack.lose_next("chat.postMessage", mode="late", delay=30.0)
    [only] = await queue(store, post("once"))
    doomed = make_executor(store, slack, owner="dead", timeout=60)
    await doomed.start()
    await wait_until(lambda: slack.messages("C1"), what="the post to reach Slack")
    await doomed.aclose(timeout=0)
    [left] = await store.outbox.list_posts(ids=[only])
    assert left.state == OutboxState.SENDING
    await store.claims.release_run("outbox:C1", "dead")  # its lease, run out

    successor = make_executor(await open_store(), slack, owner="next")
    result = await successor.deliver([only], timeout=30)

    assert result.ok
    assert outbox_ids(slack) == [only]


async def test_without_history_scopes_a_lost_answer_is_posted_again_and_said_once(
    store: Store, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.remove_scopes("channels:history", "groups:history")
    first, second = post("first"), post("second")
    executor = make_executor(store, slack)

    with caplog.at_level(logging.WARNING, logger="bot.outbox.executor"):
        await queue(store, first)
        slack.lose_next("chat.postMessage", mode="500_json")
        assert (await executor.deliver([first.id], timeout=30)).ok
        await queue(store, second)
        slack.lose_next("chat.postMessage", mode="503_json")
        result = await executor.deliver(timeout=30)

    assert result.ok
    # At least once: each lost post appears twice, and it was said once.
    assert Counter(outbox_ids(slack)) == {first.id: 2, second.id: 2}
    assert executor.can_verify is False
    said = [r for r in caplog.records if "may not read channel history" in r.getMessage()]
    assert len(said) == 1


async def test_a_429_holds_back_its_channel_only_and_honours_retry_after(
    store: Store, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    await queue(
        store, post("1st"), post("2nd"), post("1st", channel="C2"), post("2nd", channel="C2")
    )
    started = elapsed()

    result = await make_executor(store, slack).deliver(timeout=30)

    assert result.ok
    assert [m["text"] for m in slack.messages("C1")] == ["1st", "2nd"]
    assert [m["text"] for m in slack.messages("C2")] == ["1st", "2nd"]
    [refused] = slack.rejected  # one refusal, no storm of retries
    held = str(refused.args["channel"])
    other = "C2" if held == "C1" else "C1"
    # The other channel did not wait for the refused one's Retry-After; the refused one did.
    assert slack.posts(other)[-1].at < slack.posts(held)[0].at
    assert slack.posts(held)[0].at - started >= 0.95


async def test_a_channel_that_refuses_the_bot_is_parked_reported_once_and_retried(
    store: Store, slack: FakeSlack
) -> None:
    slack.refuse_channel("C1", "not_in_channel")
    watch = Watch()
    executor = make_executor(store, slack, watch=watch)
    ids = await queue(store, post("a"), post("b"), post("fine", channel="C2"))

    async def states() -> list[str]:
        return [p.state for p in await store.outbox.list_posts(ids=ids)]

    await executor.start()
    await wait_until(store.outbox.channel_problems, what="C1 to be parked")
    await wait_until(_is(states, ["pending", "pending", "sent"]), what="C2's post and C1 waiting")

    # C2 went out; C1's posts wait, attempted once, not given up, and reported once.
    def attempts_on_c1() -> int:
        return len([c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "C1"])

    assert attempts_on_c1() == 1
    assert watch.refused == [("C1", "not_in_channel")]
    [problem] = await store.outbox.channel_problems()
    assert (problem.channel, problem.code) == ("C1", "not_in_channel")
    # More posts for the parked channel do not make it try again before its hour is up, while
    # other channels go on.
    await queue(store, post("c"), post("also fine", channel="C2"))
    await wait_until(lambda: len(slack.messages("C2")) == 2, what="C2's second post")
    assert attempts_on_c1() == 1
    assert watch.refused == [("C1", "not_in_channel")]
    await executor.aclose()

    # Someone invites the bot; a restart (or the hourly retry) delivers everything, in order.
    slack.invite("C1")
    restarted = make_executor(store, slack, watch=watch)
    await restarted.start()
    try:
        await wait_until(lambda: len(slack.messages("C1")) == 3, what="C1's posts")
    finally:
        await restarted.aclose()
    assert [m["text"] for m in slack.messages("C1")] == ["a", "b", "c"]
    assert watch.recovered == ["C1"]
    assert await store.outbox.channel_problems() == []
    assert {p.state for p in await store.outbox.list_posts(ids=ids)} == {"sent"}


async def test_deliver_returns_at_once_when_its_posts_wait_for_a_parked_channel(
    store: Store, slack: FakeSlack
) -> None:
    slack.refuse_channel("C1", "channel_not_found")
    watch = Watch()
    refused, fine = [post("a"), post("b")], post("fine", channel="C2")
    ids = await queue(store, *refused, fine)
    started = elapsed()

    result = await make_executor(store, slack, watch=watch).deliver(ids, timeout=120)

    # Parked for an hour: nothing to wait for within two minutes, so it says so at once.
    assert elapsed() - started < 30
    assert [p.state for p in result.posts] == ["pending", "pending", "sent"]
    assert result.posts[0].error == "channel_not_found"  # and the second never tried
    assert watch.refused == [("C1", "channel_not_found")]
    assert len(slack.calls_to("chat.postMessage")) == 2


async def test_deliver_waits_for_a_retry_due_before_its_deadline_and_not_for_one_after(
    store: Store, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    [soon] = await queue(store, post("soon"))
    executor = make_executor(store, slack)

    within = await executor.deliver([soon], timeout=30)

    assert within.ok  # waited out Retry-After: 1
    slack.fail_next("chat.postMessage", status=429, retry_after=60)
    [late] = await queue(store, post("late"))
    started = elapsed()
    after = await executor.deliver([late], timeout=30)
    assert elapsed() - started < 20  # Retry-After: 60 is past the deadline: not waited for
    assert [(p.state, p.error) for p in after.posts] == [("pending", "ratelimited")]


async def test_a_channel_waiting_out_a_retry_leaves_the_database_alone_meanwhile(
    store: Store, slack: FakeSlack
) -> None:
    # Its oldest post waits for Retry-After; the posts behind it are due, which once made every
    # round start a worker that found the oldest not due, and the loop spin on the outbox: some
    # 200 reads a second. Now a round a poll reads what is due, and the channel is left to rest.
    slack.fail_next("chat.postMessage", status=429, retry_after=5)
    ids = await queue(store, post("1st"), post("2nd"), post("3rd"))
    executor = make_executor(store, slack)
    executor.poll_interval = 0.25
    await executor.start()

    async def refused() -> bool:
        first = await store.outbox.get_post(ids[0])
        return first is not None and (first.state, first.error) == ("pending", "ratelimited")

    await wait_until(refused, what="the refusal of the first")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        await asyncio.sleep(1.5)  # a timing claim: what the loop reads while nothing is due
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)
        await executor.aclose()

    assert len(statements) < 40, statements[:10]
    assert {p.state for p in await store.outbox.list_posts(ids=ids)} == {"pending"}


async def test_a_revoked_token_parks_every_channel(store: Store, slack: FakeSlack) -> None:
    slack.revoke_token("token_revoked")
    ids = await queue(store, post("a"), post("b", channel="C2"), post("c", channel="C3"))
    executor = make_executor(store, slack)
    await executor.start()
    await wait_until(store.outbox.channel_problems, what="the token to be parked")

    async def none_in_flight() -> bool:
        return all(p.state == "pending" for p in await store.outbox.list_posts(ids=ids))

    await wait_until(none_in_flight, what="the attempts in flight to be answered")
    tried = len(slack.calls_to("chat.postMessage"))

    # Parked whole: nothing more is tried, whatever else is queued (at most the attempts
    # already in flight when the first refusal came, one per channel, were made).
    await queue(store, post("d"), post("e", channel="C4"))
    await executor.deliver(timeout=0.5)
    await executor.aclose()
    assert 1 <= tried <= 3
    assert len(slack.calls_to("chat.postMessage")) == tried
    assert {p.state for p in await store.outbox.list_posts(ids=ids)} == {"pending"}
    assert [p.channel for p in await store.outbox.channel_problems()] == ["*"]


async def test_a_message_slack_refuses_for_its_blocks_goes_again_as_text(
    open_store: OpenStore,
) -> None:
    async with FakeSlack(limits=STRICT_LIMITS) as slack:
        store = await open_store()
        big = "x" * 2900
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": big}}] * 5
        too_long = OutboundPost(
            kind=PostKind.DIGEST, channel="C1", payload={"text": "digest", "blocks": blocks}
        )
        await queue(store, too_long)
        metrics = Metrics()

        result = await make_executor(store, slack, metrics=metrics).deliver(timeout=10)

        assert result.ok
        [message] = slack.messages("C1")
        assert message["text"] == "digest"
        assert message["blocks"] == []
        assert delivered(metrics, "digest", "text_only") == 1


async def test_a_non_json_answer_is_a_failure_with_a_code_not_a_crash(
    store: Store, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=502, body=HTML_ERROR_PAGE, retry_after=None)
    slack.fail_next(
        "chat.postMessage", status=200, body='{"ok": tru', content_type="application/json"
    )
    [only] = await queue(store, post("once"))

    result = await make_executor(store, slack).deliver(timeout=30)

    assert result.ok
    assert outbox_ids(slack) == [only]


async def test_only_the_newest_of_several_queued_updates_is_sent(
    store: Store, slack: FakeSlack
) -> None:
    alert = post("v0")
    updates = [post(f"v{i}", kind=PostKind.ALERT_UPDATE, parent_id=alert.id) for i in (1, 2, 3)]
    await queue(store, alert, *updates)

    result = await make_executor(store, slack).deliver(timeout=10)

    assert result.ok
    assert [m["text"] for m in slack.messages("C1")] == ["v3"]
    assert len(slack.calls_to("chat.update")) == 1
    assert [p.state for p in result.posts] == ["sent", "superseded", "superseded", "sent"]


async def test_a_storm_keeps_to_slacks_pace_without_a_single_429(
    store: Store, slack: FakeSlack
) -> None:
    # Slack's shape (a steady rate per channel, a small burst), twenty times faster; the
    # executor's pace is below it.
    slack.pace("chat.postMessage", SlackPace(rate=20, burst=2))
    ids = await queue(store, *(post(f"m{i}") for i in range(12)))
    executor = make_executor(store, slack, pace=Pace(posts_per_second=15, post_burst=1))

    result = await executor.deliver(ids, timeout=30)

    assert result.ok
    assert len(slack.messages("C1")) == 12
    assert slack.throttled == []


async def test_after_a_ratelimited_a_channel_stops_bursting_and_keeps_to_slacks_window(
    store: Store, slack: FakeSlack
) -> None:
    # Slack counts three posts in any second here (the strict model, three times faster); the
    # executor bursts three and then posts five a second, which a token bucket would allow.
    slack.pace("chat.postMessage", WindowPace(calls=3, seconds=1.0))
    ids = await queue(store, *(post(f"m{n}") for n in range(6)), post("elsewhere", channel="C2"))
    executor = make_executor(store, slack, pace=Pace(posts_per_second=5, post_burst=3))

    result = await executor.deliver(ids, timeout=60)

    assert result.ok
    assert [m["text"] for m in slack.messages("C1")] == [f"m{n}" for n in range(6)]
    [refused] = slack.throttled  # one refusal, then it learned
    assert refused.args["channel"] == "C1"
    assert executor.pacer.careful("C1")
    assert not executor.pacer.careful("C2")
    # After the refusal, one post at a time, a full second apart as Slack received them.
    after = [p.at for p in slack.posts("C1")][3:]
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(after))


async def test_two_executors_deliver_each_post_once(
    open_store: OpenStore, slack: FakeSlack
) -> None:
    first, second = await open_store(), await open_store()
    ids = await queue(first, *(post(f"m{i}", channel=f"C{i % 3}") for i in range(15)))
    a = make_executor(first, slack, owner="a", pace=Pace(posts_per_second=30, post_burst=2))
    b = make_executor(second, slack, owner="b", pace=Pace(posts_per_second=30, post_burst=2))

    results = await asyncio.gather(a.deliver(ids, timeout=30), b.deliver(ids, timeout=30))

    assert all(r.ok for r in results)
    assert sorted(outbox_ids(slack)) == sorted(ids)
