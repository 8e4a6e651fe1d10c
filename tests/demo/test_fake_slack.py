"""The fake Slack behaves as Slack does, seen through a real slack_sdk AsyncWebClient.

Each test drives the fake over loopback HTTP the way the bot does (``AsyncWebClient`` with
``base_url``, and plain aiohttp for response URLs) and asserts what Slack would answer.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo.fake_slack import (
    HTML_ERROR_PAGE,
    HTML_PROXY_PAGE,
    STRICT_LIMITS,
    STRICT_PACE,
    FakeSlack,
    Pace,
    SlackLimits,
    WindowPace,
    block_text_length,
)
from tests.waiting import wait_until

CHANNEL = "C0ONCALL"
OTHER = "C0TEAM"
#: Monday 2 March 2026, 09:00 UTC, as epoch seconds.
EPOCH = 1_772_442_000.0
TS = re.compile(r"^\d{10}\.\d{6}$")
METADATA = {"event_type": "backups_bot_post", "event_payload": {"outbox_id": "o-1"}}


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: float = EPOCH) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(clock=Clock()) as slack:
        yield slack


def client(fake: FakeSlack, *, timeout: int = 30, retry: bool = False) -> AsyncWebClient:
    """A client as plain as possible: no retries unless asked for."""
    handlers = [AsyncConnectionErrorRetryHandler(max_retry_count=1)] if retry else []
    return AsyncWebClient(
        token=fake.bot_token, base_url=fake.api_url, timeout=timeout, retry_handlers=handlers
    )


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def refusal(call: Any) -> SlackApiError:
    """The SlackApiError an awaited call raises."""
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


# --- posts, ts and metadata --------------------------------------------------------------------


async def test_a_post_keeps_its_metadata_and_unfurl_flags_and_answers_in_slacks_shape(
    fake: FakeSlack,
) -> None:
    answer = await client(fake).chat_postMessage(
        channel=CHANNEL,
        text="backup stale",
        blocks=[section("*stale*")],
        metadata=METADATA,
        unfurl_links=False,
        unfurl_media=False,
    )
    [message] = fake.messages(CHANNEL)
    assert answer["ok"] is True
    assert answer["channel"] == CHANNEL
    assert answer["ts"] == message["ts"]
    assert answer["message"]["bot_id"] == "B0BACKUPSBOT"
    assert answer["message"]["metadata"] == METADATA
    assert message["metadata"] == METADATA
    assert message["unfurl_links"] is False
    assert message["unfurl_media"] is False
    assert message["thread_ts"] is None


async def test_a_form_encoded_post_keeps_metadata_sent_as_a_json_string(fake: FakeSlack) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake.api_url + "chat.postMessage",
            data={
                "token": fake.bot_token,
                "channel": CHANNEL,
                "text": "x",
                "metadata": '{"event_type": "e", "event_payload": {"k": 1}}',
            },
        ) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    assert fake.messages(CHANNEL)[0]["metadata"] == {"event_type": "e", "event_payload": {"k": 1}}


@pytest.mark.parametrize(
    "metadata",
    [
        {"event_payload": {}},
        {"event_type": "", "event_payload": {}},
        {"event_type": "e", "event_payload": "x"},
    ],
)
async def test_malformed_metadata_is_refused_and_nothing_is_posted(
    fake: FakeSlack, metadata: dict[str, Any]
) -> None:
    error = await refusal(
        client(fake).chat_postMessage(channel=CHANNEL, text="x", metadata=metadata)
    )
    assert error.response["error"] == "invalid_metadata_format"
    assert fake.messages() == []


async def test_ts_follow_the_clock_and_stay_unique_and_increasing() -> None:
    clock = Clock()
    async with FakeSlack(clock=clock) as fake:
        web = client(fake)
        first = (await web.chat_postMessage(channel=CHANNEL, text="a"))["ts"]
        second = (await web.chat_postMessage(channel=OTHER, text="b"))["ts"]
        clock.now += 2.5
        third = (await web.chat_postMessage(channel=CHANNEL, text="c"))["ts"]
        clock.now -= 10  # a clock stepping back never repeats or reorders a ts
        fourth = (await web.chat_postMessage(channel=CHANNEL, text="d"))["ts"]
    assert [first, second, third] == ["1772442000.000000", "1772442000.000001", "1772442002.500000"]
    assert all(TS.match(ts) for ts in (first, second, third, fourth))
    assert float(fourth) > float(third)


async def test_a_malformed_thread_ts_is_refused_like_slack(fake: FakeSlack) -> None:
    for bad in ("0", "", "abc"):
        error = await refusal(
            client(fake).chat_postMessage(channel=CHANNEL, text="x", thread_ts=bad)
        )
        assert error.response["error"] == "invalid_thread_ts"
    assert fake.messages() == []


async def test_a_reply_to_no_message_is_accepted_and_visible_nowhere_in_the_channel(
    fake: FakeSlack,
) -> None:
    web = client(fake)
    answer = await web.chat_postMessage(
        channel=CHANNEL, text="orphan", thread_ts="1700000000.000001"
    )
    history = await web.conversations_history(channel=CHANNEL)
    assert answer["ok"] is True
    assert history["messages"] == []
    assert [m["text"] for m in fake.replies(CHANNEL, "1700000000.000001")] == ["orphan"]
    thread = await refusal(web.conversations_replies(channel=CHANNEL, ts="1700000000.000001"))
    assert thread.response["error"] == "thread_not_found"


# --- what Slack refuses in a message -----------------------------------------------------------


async def test_blocks_over_the_text_budget_are_refused_only_when_the_budget_is_on() -> None:
    blocks = [section("x" * 2_500) for _ in range(5)]  # 12,500 characters of block text
    assert block_text_length(blocks) == 12_500
    async with FakeSlack(limits=STRICT_LIMITS) as strict, FakeSlack() as lenient:
        error = await refusal(
            client(strict).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks)
        )
        accepted = await client(lenient).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks)
    assert error.response["error"] == "msg_blocks_too_long"
    assert strict.messages() == []
    assert accepted["ok"] is True


async def test_the_block_text_budget_is_configurable_down_to_the_lowest_refusals_seen(
    fake: FakeSlack,
) -> None:
    fake.limits = SlackLimits(block_text=11_300)
    blocks = [section("y" * 2_300) for _ in range(5)]  # 11,500
    error = await refusal(client(fake).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks))
    assert error.response["error"] == "msg_blocks_too_long"
    fake.limits = STRICT_LIMITS
    assert (await client(fake).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks))["ok"]


async def test_block_text_counts_every_text_in_the_blocks() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "abc"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "de"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "f"}]},
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "gh"}}],
        },
        {"type": "markdown", "text": "ijkl"},
        {"type": "divider"},
    ]
    assert block_text_length(blocks) == 12


async def test_text_over_forty_thousand_characters_is_msg_too_long(fake: FakeSlack) -> None:
    error = await refusal(client(fake).chat_postMessage(channel=CHANNEL, text="z" * 40_001))
    assert error.response["error"] == "msg_too_long"
    assert (await client(fake).chat_postMessage(channel=CHANNEL, text="z" * 40_000))["ok"]


BUTTON = {"type": "button", "text": {"type": "plain_text", "text": "Ack"}, "action_id": "a"}


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([section("s" * 3_001)], "/blocks/0/text/text"),
        ([section("")], "/blocks/0/text/text"),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "/blocks/0/fields",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2_001}]}],
            "/blocks/0/fields/0/text",
        ),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0/text"),
        ([section("ok")] * 51, "/blocks"),
        (
            [
                {
                    "type": "actions",
                    "elements": [{**BUTTON, "text": {"type": "plain_text", "text": "b" * 76}}],
                }
            ],
            "/blocks/0/elements/0/text",
        ),
        ([{"type": "actions", "elements": [{**BUTTON, "value": "v" * 2_001}]}], "/value"),
        ([{"type": "actions", "elements": [BUTTON] * 26}], "/blocks/0/elements"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "/elements"),
        ([{"text": "no type"}], "/blocks/0"),
    ],
    ids=[
        "section-3001",
        "section-empty",
        "11-fields",
        "field-2001",
        "header-151",
        "51-blocks",
        "button-text-76",
        "button-value-2001",
        "26-actions",
        "11-context-elements",
        "no-type",
    ],
)
async def test_blocks_block_kit_refuses_are_invalid_blocks_with_a_pointer_to_the_fault(
    fake: FakeSlack, blocks: list[dict[str, Any]], pointer: str
) -> None:
    error = await refusal(client(fake).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks))
    assert error.response["error"] == "invalid_blocks"
    [line, *_] = error.response["response_metadata"]["messages"]
    assert line.startswith("[ERROR] ")
    assert pointer in line
    assert fake.messages() == []


async def test_the_same_refusals_apply_to_updates_ephemeral_posts_and_response_urls() -> None:
    big = [section("x" * 2_500) for _ in range(5)]
    async with FakeSlack(limits=STRICT_LIMITS) as fake:
        web = client(fake)
        ts = (await web.chat_postMessage(channel=CHANNEL, text="small"))["ts"]
        update = await refusal(web.chat_update(channel=CHANNEL, ts=ts, text="t", blocks=big))
        ephemeral = await refusal(
            web.chat_postEphemeral(channel=CHANNEL, user="U0X", text="t", blocks=big)
        )
        async with (
            aiohttp.ClientSession() as session,
            session.post(fake.response_url("r"), json={"text": "t", "blocks": big}) as resp,
        ):
            status, text = resp.status, await resp.text()
        assert fake.messages(CHANNEL)[0]["text"] == "small"
    assert update.response["error"] == "msg_blocks_too_long"
    assert ephemeral.response["error"] == "msg_blocks_too_long"
    assert (status, text) == (400, "msg_blocks_too_long")
    assert fake.responses("r") == []
    assert fake.ephemeral_messages() == []


# --- pacing --------------------------------------------------------------------------------------


async def test_posts_past_the_pace_get_429_ratelimited_with_retry_after_and_are_not_posted() -> (
    None
):
    clock = Clock(100.0)
    async with FakeSlack(pace_clock=clock) as fake:
        fake.pace("chat.postMessage", Pace(rate=1.0, burst=2))
        web = client(fake)
        for n in range(2):
            await web.chat_postMessage(channel=CHANNEL, text=f"burst {n}")
        throttled = await refusal(web.chat_postMessage(channel=CHANNEL, text="too soon"))
        other = await web.chat_postMessage(channel=OTHER, text="another channel has its own pace")
        clock.now += 1.0
        later = await web.chat_postMessage(channel=CHANNEL, text="a second later")
    assert throttled.response.status_code == 429
    assert throttled.response["error"] == "ratelimited"
    assert throttled.response.headers["Retry-After"] == "1"
    assert other["ok"] is True
    assert later["ok"] is True
    assert [c.args["text"] for c in fake.throttled] == ["too soon"]
    assert "too soon" not in [m["text"] for m in fake.messages()]
    assert fake.max_posts_in_window(CHANNEL) == 2


async def test_retry_after_says_how_long_until_the_bucket_has_a_post_again() -> None:
    clock = Clock(0.0)
    async with FakeSlack(pace_clock=clock) as fake:
        fake.pace("chat.postMessage", Pace(rate=0.25, burst=1))  # one post every 4 s
        web = client(fake)
        await web.chat_postMessage(channel=CHANNEL, text="first")
        clock.now += 1.0
        throttled = await refusal(web.chat_postMessage(channel=CHANNEL, text="second"))
        fake.unpace()
        unpaced = await web.chat_postMessage(channel=CHANNEL, text="unpaced")
    assert throttled.response.headers["Retry-After"] == "3"
    assert unpaced["ok"] is True


async def test_a_workspace_tier_paces_a_method_across_channels_and_leaves_others_alone() -> None:
    clock = Clock(0.0)
    async with FakeSlack(pace_clock=clock) as fake:
        fake.pace("conversations.history", Pace(rate=50 / 60, burst=2, per_channel=False))
        web = client(fake)
        await web.conversations_history(channel=CHANNEL)
        await web.conversations_history(channel=OTHER)
        throttled = await refusal(web.conversations_history(channel="C0THIRD"))
        posts = [await web.chat_postMessage(channel=CHANNEL, text=str(n)) for n in range(5)]
    assert throttled.response.status_code == 429
    assert [c.args["channel"] for c in fake.throttled] == ["C0THIRD"]
    assert all(p["ok"] for p in posts)


async def test_the_strict_pace_refuses_a_fourth_post_in_three_seconds_that_a_bucket_takes() -> None:
    clock = Clock(0.0)
    async with FakeSlack(pace_clock=clock) as bucket, FakeSlack(pace_clock=clock) as strict:
        bucket.pace("chat.postMessage", Pace(rate=1.0, burst=3))
        strict.pace("chat.postMessage", STRICT_PACE)
        for fake in (bucket, strict):
            for n in range(3):
                await client(fake).chat_postMessage(channel=CHANNEL, text=f"burst {n}")
        clock.now = 1.0
        fourth = await client(bucket).chat_postMessage(channel=CHANNEL, text="a second later")
        refused = await refusal(client(strict).chat_postMessage(channel=CHANNEL, text="too soon"))
        other = await client(strict).chat_postMessage(channel=OTHER, text="its own window")
        clock.now = 3.0
        after = await client(strict).chat_postMessage(channel=CHANNEL, text="three seconds on")
    assert WindowPace(calls=3, seconds=3.0, per_channel=True) == STRICT_PACE
    assert fourth["ok"] is True
    assert refused.response.status_code == 429
    assert refused.response["error"] == "ratelimited"
    assert refused.response.headers["Retry-After"] == "2"  # until the first leaves the window
    assert other["ok"] is True
    assert after["ok"] is True
    assert [c.args["text"] for c in strict.throttled] == ["too soon"]
    assert strict.max_posts_in_window(CHANNEL, window=3.0) == 3


async def test_the_strict_pace_takes_one_post_a_second_for_ever() -> None:
    clock = Clock(0.0)
    async with FakeSlack(pace_clock=clock) as fake:
        fake.pace("chat.postMessage", STRICT_PACE)
        for n in range(10):
            clock.now = float(n)
            await client(fake).chat_postMessage(channel=CHANNEL, text=f"post {n}")
        taken = len(fake.throttled)
        clock.now = 9.5
        refused = await refusal(client(fake).chat_postMessage(channel=CHANNEL, text="half on"))
    assert taken == 0
    assert len(fake.messages(CHANNEL)) == 10
    assert refused.response.headers["Retry-After"] == "1"


async def test_max_posts_in_window_counts_per_channel_within_any_window() -> None:
    clock = Clock(0.0)
    async with FakeSlack(pace_clock=clock) as fake:
        web = client(fake)
        for at in (0.0, 0.3, 0.9, 1.0, 5.0):
            clock.now = at
            await web.chat_postMessage(channel=CHANNEL, text=f"at {at}")
            await web.chat_postMessage(channel=OTHER, text=f"at {at}")
    assert fake.max_posts_in_window(CHANNEL) == 3  # 0.0, 0.3, 0.9 (1.0 starts a new second)
    assert fake.max_posts_in_window() == 3
    assert fake.max_posts_in_window(CHANNEL, window=10.0) == 5
    assert [p.at for p in fake.posts(OTHER)] == [0.0, 0.3, 0.9, 1.0, 5.0]


# --- lost answers and non-JSON failures --------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "status"),
    [("500_html", 500), ("503_html", 503), ("500_json", 500), ("503_json", 503)],
)
async def test_a_5xx_after_posting_leaves_the_message_posted(
    fake: FakeSlack, mode: Any, status: int
) -> None:
    fake.lose_next("chat.postMessage", mode=mode)
    error = await refusal(client(fake).chat_postMessage(channel=CHANNEL, text="did it post?"))
    assert error.response.status_code == status
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["did it post?"]
    assert [c.args["text"] for c in fake.lost] == ["did it post?"]
    if mode.endswith("_json"):
        assert error.response["ok"] is False
    else:
        assert error.response.data == {}  # slack_sdk could read no JSON from the HTML page
    assert (await client(fake).chat_postMessage(channel=CHANNEL, text="next"))["ok"] is True


async def _raw_post(fake: FakeSlack, text: str) -> tuple[int, str, bytes]:
    """A chat.postMessage over plain aiohttp: the status, content type and body as sent."""
    headers = {"Authorization": f"Bearer {fake.bot_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake.api_url + "chat.postMessage",
            json={"channel": CHANNEL, "text": text},
            headers=headers,
        ) as resp,
    ):
        return resp.status, resp.content_type, await resp.read()


async def test_a_proxys_html_page_with_200_answers_a_post_slack_made(fake: FakeSlack) -> None:
    fake.lose_next("chat.postMessage", mode="200_html")
    status, kind, body = await _raw_post(fake, "did it post?")
    assert (status, kind, body.decode()) == (200, "text/html", HTML_PROXY_PAGE)
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["did it post?"]
    assert [c.args["text"] for c in fake.lost] == ["did it post?"]


async def test_json_without_ok_answers_a_post_slack_made(fake: FakeSlack) -> None:
    fake.lose_next("chat.postMessage", mode="200_no_ok")
    status, kind, body = await _raw_post(fake, "did it post?")
    answer = json.loads(body)
    assert (status, kind) == (200, "application/json")
    assert isinstance(answer, dict)
    assert "ok" not in answer
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["did it post?"]


async def test_slacks_answer_cut_short_is_sent_complete_and_is_no_json(fake: FakeSlack) -> None:
    fake.lose_next("chat.postMessage", mode="200_truncated")
    status, kind, body = await _raw_post(fake, "did it post?")
    assert (status, kind) == (200, "application/json")
    assert body.startswith(b'{"ok": true')
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["did it post?"]


async def test_slacks_answer_under_another_content_type_is_slacks_answer(fake: FakeSlack) -> None:
    fake.lose_next("chat.postMessage", mode="200_wrong_type")
    status, kind, body = await _raw_post(fake, "did it post?")
    answer = json.loads(body)
    assert (status, kind) == (200, "text/plain")
    [message] = fake.messages(CHANNEL)
    assert (answer["ok"], answer["ts"]) == (True, message["ts"])


async def test_a_body_that_stops_half_way_fails_the_read_after_slack_posted(
    fake: FakeSlack,
) -> None:
    fake.lose_next("chat.postMessage", mode="200_cut")
    with pytest.raises(aiohttp.ClientPayloadError):
        await _raw_post(fake, "did it post?")
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["did it post?"]
    assert len(fake.lost) == 1


async def test_an_answer_later_than_the_clients_timeout_still_posted(fake: FakeSlack) -> None:
    fake.lose_next("chat.postMessage", mode="late", delay=30.0)
    with pytest.raises(TimeoutError):
        await client(fake, timeout=1).chat_postMessage(channel=CHANNEL, text="late")
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["late"]
    assert len(fake.lost) == 1


async def test_a_slow_slack_posts_only_when_it_answers(fake: FakeSlack) -> None:
    fake.lose_next("chat.postMessage", mode="slow", delay=0.5)
    task = asyncio.create_task(client(fake).chat_postMessage(channel=CHANNEL, text="slow"))
    await wait_until(lambda: fake.calls_to("chat.postMessage"), what="the call to arrive")
    assert fake.messages() == []
    answer = await task
    assert answer["ts"] == fake.messages(CHANNEL)[0]["ts"]
    assert fake.lost == []


async def test_a_connection_dropped_after_posting_is_posted_again_by_a_retrying_client(
    fake: FakeSlack,
) -> None:
    fake.lose_next("chat.postMessage", mode="reset")
    with pytest.raises(aiohttp.ClientConnectionError):
        await client(fake).chat_postMessage(channel=CHANNEL, text="once?")
    fake.lose_next("chat.postMessage", mode="reset")
    await client(fake, retry=True).chat_postMessage(channel=CHANNEL, text="twice")
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["once?", "twice", "twice"]


async def test_lost_answers_count_down_per_method(fake: FakeSlack) -> None:
    fake.lose_next("chat.postMessage", mode="503_json", times=2)
    web = client(fake)
    outcomes = []
    for n in range(3):
        try:
            await web.chat_postMessage(channel=CHANNEL, text=f"p{n}")
            outcomes.append("ok")
        except SlackApiError as exc:
            outcomes.append(str(exc.response.status_code))
    assert (await web.auth_test())["ok"] is True  # other methods are not touched
    assert outcomes == ["503", "503", "ok"]
    assert len(fake.messages(CHANNEL)) == 3


async def test_an_update_can_lose_its_answer_too(fake: FakeSlack) -> None:
    web = client(fake)
    ts = (await web.chat_postMessage(channel=CHANNEL, text="v1"))["ts"]
    fake.lose_next("chat.update", mode="500_html")
    error = await refusal(web.chat_update(channel=CHANNEL, ts=ts, text="v2"))
    assert error.response.status_code == 500
    assert fake.messages(CHANNEL)[0]["text"] == "v2"


async def test_a_5xx_with_an_html_page_posts_nothing(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=503, retry_after=None, body=HTML_ERROR_PAGE)
    error = await refusal(client(fake).chat_postMessage(channel=CHANNEL, text="x"))
    assert error.response.status_code == 503
    assert error.response.headers["Content-Type"].startswith("text/html")
    assert fake.messages() == []
    assert len(fake.rejected) == 1


async def test_a_body_that_claims_json_and_is_not_reaches_the_client_unparsed(
    fake: FakeSlack,
) -> None:
    fake.fail_next(
        "chat.postMessage",
        status=502,
        retry_after=None,
        body='{"ok": tru',
        content_type="application/json",
    )
    error = await refusal(client(fake).chat_postMessage(channel=CHANNEL, text="x"))
    # slack_sdk then hands over the raw aiohttp response, not a SlackResponse.
    assert isinstance(error.response, aiohttp.ClientResponse)
    assert error.response.status == 502
    assert fake.messages() == []


async def test_fail_next_can_name_the_error_of_a_json_failure(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=500, retry_after=None, error="internal_error")
    error = await refusal(client(fake).chat_postMessage(channel=CHANNEL, text="x"))
    assert (error.response.status_code, error.response["error"]) == (500, "internal_error")


async def test_unknown_loss_modes_are_refused_at_set_up(fake: FakeSlack) -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        fake.lose_next("chat.postMessage", mode="timeout")  # type: ignore[arg-type]


# --- channels and tokens -----------------------------------------------------------------------


async def test_not_in_channel_goes_away_when_the_bot_is_invited(fake: FakeSlack) -> None:
    fake.refuse_channel(CHANNEL, "not_in_channel")
    web = client(fake)
    error = await refusal(web.chat_postMessage(channel=CHANNEL, text="x"))
    fake.invite(CHANNEL)
    after = await web.chat_postMessage(channel=CHANNEL, text="after the invite")
    assert error.response["error"] == "not_in_channel"
    assert after["ok"] is True
    assert [m["text"] for m in fake.messages()] == ["after the invite"]


async def test_channel_not_found_stays_unless_it_is_a_private_channel_the_bot_joins(
    fake: FakeSlack,
) -> None:
    web = client(fake)
    fake.refuse_channel(CHANNEL, "channel_not_found")
    fake.refuse_channel(OTHER, "channel_not_found", fixed_by_invite=True)
    fake.invite(CHANNEL)
    fake.invite(OTHER)
    error = await refusal(web.chat_postMessage(channel=CHANNEL, text="x"))
    assert error.response["error"] == "channel_not_found"
    assert (await web.chat_postMessage(channel=OTHER, text="joined"))["ok"] is True
    fake.allow_channel(CHANNEL)
    assert (await web.chat_postMessage(channel=CHANNEL, text="allowed"))["ok"] is True


async def test_an_archived_channel_refuses_posts_and_updates_until_unarchived(
    fake: FakeSlack,
) -> None:
    web = client(fake)
    ts = (await web.chat_postMessage(channel=CHANNEL, text="before"))["ts"]
    fake.refuse_channel(CHANNEL, "is_archived")
    fake.invite(CHANNEL)  # an invite does not unarchive
    post = await refusal(web.chat_postMessage(channel=CHANNEL, text="x"))
    update = await refusal(web.chat_update(channel=CHANNEL, ts=ts, text="y"))
    history = await web.conversations_history(channel=CHANNEL)  # still readable
    fake.unarchive(CHANNEL)
    assert (await web.chat_postMessage(channel=CHANNEL, text="after"))["ok"] is True
    assert post.response["error"] == "is_archived"
    assert update.response["error"] == "is_inactive"
    assert [m["text"] for m in history["messages"]] == ["before"]


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth", "account_inactive"])
async def test_a_revoked_token_answers_every_call_with_its_error(
    fake: FakeSlack, error: Any
) -> None:
    web = client(fake)
    fake.revoke_token(error)
    post = await refusal(web.chat_postMessage(channel=CHANNEL, text="x"))
    auth = await refusal(web.auth_test())
    fake.restore_token()
    assert post.response.status_code == 200
    assert post.response["error"] == auth.response["error"] == error
    assert (await web.auth_test())["ok"] is True
    assert fake.messages() == []


async def test_every_answer_names_the_tokens_scopes(fake: FakeSlack) -> None:
    fake.remove_scopes("groups:history")
    answer = await client(fake).auth_test()
    scopes = answer.headers["x-oauth-scopes"].split(",")
    assert "chat:write" in scopes
    assert "channels:history" in scopes
    assert "groups:history" not in scopes


# --- history and threads -----------------------------------------------------------------------


async def post_thread(fake: FakeSlack) -> tuple[str, list[str]]:
    """A parent with three replies (the second broadcast), a human message and another top-level
    post in CHANNEL; the parent's ts and the replies' ts."""
    web = client(fake)
    parent = (await web.chat_postMessage(channel=CHANNEL, text="alert", metadata=METADATA))["ts"]
    replies = []
    for n in range(3):
        answer = await web.chat_postMessage(
            channel=CHANNEL,
            thread_ts=parent,
            text=f"reply {n}",
            reply_broadcast=n == 1,
            metadata={"event_type": "backups_bot_post", "event_payload": {"outbox_id": f"r{n}"}},
        )
        replies.append(answer["ts"])
    fake.seed_message(CHANNEL, "a person says hi")
    await web.chat_postMessage(channel=CHANNEL, text="digest")
    return parent, replies


async def test_history_is_top_level_newest_first_with_broadcast_replies(fake: FakeSlack) -> None:
    parent, replies = await post_thread(fake)
    history = await client(fake).conversations_history(channel=CHANNEL)
    texts = [m["text"] for m in history["messages"]]
    assert texts == ["digest", "a person says hi", "reply 1", "alert"]
    [alert] = [m for m in history["messages"] if m["ts"] == parent]
    assert alert["reply_count"] == 3
    assert alert["thread_ts"] == parent
    assert alert["latest_reply"] == replies[-1]
    person = history["messages"][1]
    assert person["user"] == "U0SOMEONE"
    assert "bot_id" not in person
    assert history["has_more"] is False


async def test_history_returns_metadata_only_when_asked_for_all_of_it(fake: FakeSlack) -> None:
    parent, _ = await post_thread(fake)
    web = client(fake)
    plain = await web.conversations_history(channel=CHANNEL)
    full = await web.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert all("metadata" not in m for m in plain["messages"])
    [alert] = [m for m in full["messages"] if m["ts"] == parent]
    assert alert["metadata"] == METADATA


async def test_history_oldest_and_latest_are_exclusive_unless_inclusive(fake: FakeSlack) -> None:
    web = client(fake)
    stamps = [(await web.chat_postMessage(channel=CHANNEL, text=str(n)))["ts"] for n in range(5)]
    between = await web.conversations_history(channel=CHANNEL, oldest=stamps[1], latest=stamps[3])
    inclusive = await web.conversations_history(
        channel=CHANNEL, oldest=stamps[1], latest=stamps[3], inclusive=True
    )
    since = await web.conversations_history(channel=CHANNEL, oldest=str(EPOCH - 1))
    assert [m["text"] for m in between["messages"]] == ["2"]
    assert [m["text"] for m in inclusive["messages"]] == ["3", "2", "1"]
    assert len(since["messages"]) == 5


async def test_history_pages_with_a_cursor_and_loses_or_repeats_nothing(fake: FakeSlack) -> None:
    web = client(fake)
    for n in range(7):
        await web.chat_postMessage(channel=CHANNEL, text=str(n))
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        page = await web.conversations_history(channel=CHANNEL, limit=3, cursor=cursor)
        pages += 1
        seen += [m["text"] for m in page["messages"]]
        if not page["has_more"]:
            assert "response_metadata" not in page
            break
        cursor = page["response_metadata"]["next_cursor"]
    assert seen == ["6", "5", "4", "3", "2", "1", "0"]
    assert pages == 3


async def test_a_cursor_that_is_no_cursor_is_invalid_cursor(fake: FakeSlack) -> None:
    error = await refusal(client(fake).conversations_history(channel=CHANNEL, cursor="nope"))
    assert error.response["error"] == "invalid_cursor"


async def test_replies_are_the_parent_then_its_replies_oldest_first(fake: FakeSlack) -> None:
    parent, replies = await post_thread(fake)
    web = client(fake)
    thread = await web.conversations_replies(channel=CHANNEL, ts=parent)
    from_a_reply = await web.conversations_replies(channel=CHANNEL, ts=replies[2])
    assert [m["ts"] for m in thread["messages"]] == [parent, *replies]
    assert from_a_reply["messages"] == thread["messages"]
    assert all(m["thread_ts"] == parent for m in thread["messages"])
    assert all("metadata" not in m for m in thread["messages"])
    assert [m["text"] for m in fake.replies(CHANNEL, parent)] == ["reply 0", "reply 1", "reply 2"]
    assert [m["text"] for m in fake.top_level(CHANNEL)] == ["alert", "a person says hi", "digest"]


async def test_replies_filter_by_time_page_and_carry_metadata_when_asked(fake: FakeSlack) -> None:
    parent, replies = await post_thread(fake)
    web = client(fake)
    since = await web.conversations_replies(
        channel=CHANNEL, ts=parent, oldest=replies[0], include_all_metadata=True
    )
    first = await web.conversations_replies(channel=CHANNEL, ts=parent, limit=2)
    rest = await web.conversations_replies(
        channel=CHANNEL, ts=parent, limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["ts"] for m in since["messages"]] == [parent, replies[1], replies[2]]
    assert since["messages"][2]["metadata"]["event_payload"] == {"outbox_id": "r2"}
    assert [m["ts"] for m in first["messages"] + rest["messages"]] == [parent, *replies]
    assert rest["has_more"] is False


async def test_replies_of_no_message_are_thread_not_found(fake: FakeSlack) -> None:
    error = await refusal(client(fake).conversations_replies(channel=CHANNEL, ts="1.000001"))
    assert error.response["error"] == "thread_not_found"


@pytest.mark.parametrize(
    ("private", "needed"), [(False, "channels:history"), (True, "groups:history")]
)
async def test_reading_history_without_the_scope_is_missing_scope_naming_it(
    fake: FakeSlack, private: bool, needed: str
) -> None:
    if private:
        fake.private_channels.add(CHANNEL)
    web = client(fake)
    parent = (await web.chat_postMessage(channel=CHANNEL, text="p"))["ts"]
    fake.remove_scopes("channels:history", "groups:history")
    history = await refusal(web.conversations_history(channel=CHANNEL))
    replies = await refusal(web.conversations_replies(channel=CHANNEL, ts=parent))
    for error in (history, replies):
        assert error.response["error"] == "missing_scope"
        assert error.response["needed"] == needed
        assert "chat:write" in error.response["provided"].split(",")


async def test_a_channel_the_bot_is_not_in_cannot_be_read(fake: FakeSlack) -> None:
    fake.refuse_channel(CHANNEL, "not_in_channel")
    error = await refusal(client(fake).conversations_history(channel=CHANNEL))
    assert error.response["error"] == "not_in_channel"


# --- updates -----------------------------------------------------------------------------------


async def test_an_update_keeps_metadata_unless_told_to_drop_it(fake: FakeSlack) -> None:
    web = client(fake)
    ts = (await web.chat_postMessage(channel=CHANNEL, text="v1", metadata=METADATA))["ts"]
    answer = await web.chat_update(channel=CHANNEL, ts=ts, text="v2")
    kept = fake.messages(CHANNEL)[0]["metadata"]
    await web.chat_update(channel=CHANNEL, ts=ts, text="v3", metadata={})
    assert answer["message"]["text"] == "v2"
    assert answer["ts"] == ts
    assert kept == METADATA
    assert fake.messages(CHANNEL)[0]["metadata"] is None


async def test_an_update_of_no_message_or_of_someone_elses_is_refused(fake: FakeSlack) -> None:
    web = client(fake)
    ts = (await web.chat_postMessage(channel=CHANNEL, text="mine"))["ts"]
    theirs = fake.seed_message(CHANNEL, "theirs")
    wrong_channel = await refusal(web.chat_update(channel=OTHER, ts=ts, text="x"))
    unknown = await refusal(web.chat_update(channel=CHANNEL, ts="1.000001", text="x"))
    not_mine = await refusal(web.chat_update(channel=CHANNEL, ts=theirs, text="x"))
    assert wrong_channel.response["error"] == "message_not_found"
    assert unknown.response["error"] == "message_not_found"
    assert not_mine.response["error"] == "cant_update_message"


# --- mentions and response URLs ----------------------------------------------------------------


async def test_mentions_count_pings_per_post_not_per_edit(fake: FakeSlack) -> None:
    web = client(fake)
    ping = "<!subteam^S0ONCALL> and <@U0LEAD>"
    ts = (await web.chat_postMessage(channel=CHANNEL, text=ping, blocks=[section(ping)]))["ts"]
    await web.chat_update(channel=CHANNEL, ts=ts, text=f"{ping} again")
    await web.chat_postMessage(channel=OTHER, text="<!here> digest")
    assert fake.mentions(CHANNEL) == ["S0ONCALL", "U0LEAD"]
    assert fake.mentions() == ["S0ONCALL", "U0LEAD", "here"]


async def post_response(fake: FakeSlack, key: str, body: dict[str, Any]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.response_url(key), json=body) as resp,
    ):
        return resp.status, await resp.text()


async def test_a_response_url_takes_five_posts_when_limited(fake: FakeSlack) -> None:
    fake.response_url_uses = 5
    answers = [await post_response(fake, "r", {"text": f"part {n}"}) for n in range(6)]
    assert answers[:5] == [(200, "ok")] * 5
    assert answers[5] == (404, "used_url")
    assert len(fake.responses("r")) == 5


async def test_a_response_url_can_lose_its_answer_after_taking_the_post(fake: FakeSlack) -> None:
    fake.lose_next("response_url", mode="503_html")
    status, text = await post_response(fake, "r", {"text": "shown"})
    assert status == 503
    assert text == HTML_ERROR_PAGE
    assert [b["text"] for b in fake.responses("r")] == ["shown"]
