"""The notifier against the fake Slack Web API: posts, retries, errors, user groups, and the
executor's sender (one attempt, failures as neutral verdicts, answers nobody can read in doubt)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo.fake_slack import FakeSlack
from bot.errors import SlackError
from bot.ops.metrics import Metrics
from bot.outbox.posts import Verdict
from bot.outbox.sender import SendFailure
from bot.settings import Settings
from bot.slack.notifier import SlackAPIFailure, SlackNotifier, retry_handlers
from tests.slack.harness import BOT_TOKEN, LEAD, ONCALL_GROUP, ONCALLER, USER

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}}]


def payload(text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The text and blocks of a message, as the notifier takes them."""
    return {"text": text, **({"blocks": blocks} if blocks else {})}


def _notifier(
    fake: FakeSlack, token: str = BOT_TOKEN, metrics: Metrics | None = None
) -> SlackNotifier:
    settings = Settings(_env_file=None, SLACK_BOT_TOKEN=token, SLACK_API_URL=fake.api_url)
    return SlackNotifier.from_settings(settings, metrics=metrics)


async def test_post_returns_the_ts_and_update_changes_the_message_in_place(
    fake_slack: FakeSlack,
) -> None:
    notifier = _notifier(fake_slack)
    ts = await notifier.post("C1", payload("hello", BLOCKS), thread_ts="1700000000.000001")
    await notifier.update("C1", ts, payload("bye"))
    [message] = fake_slack.messages("C1")
    assert message["ts"] == ts
    assert message["text"] == "bye"
    assert message["blocks"] == []
    assert message["thread_ts"] == "1700000000.000001"


async def test_a_429_with_retry_after_is_retried_without_posting_twice(
    fake_slack: FakeSlack,
) -> None:
    metrics = Metrics()
    notifier = _notifier(fake_slack, metrics=metrics)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    await notifier.post("C1", payload("once", BLOCKS))
    assert len(fake_slack.messages("C1")) == 1
    assert len(fake_slack.rejected) == 1
    value = metrics.registry.get_sample_value(
        "backups_bot_slack_calls_total", {"method": "chat.postMessage", "outcome": "ok"}
    )
    assert value == 1


async def test_a_503_is_retried_without_posting_twice(fake_slack: FakeSlack) -> None:
    notifier = _notifier(fake_slack)
    fake_slack.fail_next("chat.postMessage", status=503, retry_after=None)
    await notifier.post("C1", payload("once"))
    assert [m["text"] for m in fake_slack.messages("C1")] == ["once"]


async def test_a_lasting_failure_is_a_slack_error_with_slacks_code(fake_slack: FakeSlack) -> None:
    notifier = _notifier(fake_slack)
    fake_slack.fail_next("chat.postMessage", status=503, retry_after=None, times=10)
    with pytest.raises(SlackAPIFailure) as caught:
        await notifier.post("C1", payload("never"))
    assert caught.value.code == "http_503"  # a 5xx says nothing reliable: its status is kept
    assert fake_slack.messages() == []


async def test_a_refused_token_never_appears_in_the_error(fake_slack: FakeSlack) -> None:
    notifier = _notifier(fake_slack, token="xoxb-wrong-token-value")
    with pytest.raises(SlackError) as caught:
        await notifier.post("C1", payload("x"))
    assert "invalid_auth" in str(caught.value)
    assert "xoxb" not in str(caught.value)
    assert "xoxb" not in repr(caught.value)


async def test_blocks_over_slacks_limit_are_refused_like_slack_does(fake_slack: FakeSlack) -> None:
    notifier = _notifier(fake_slack)
    with pytest.raises(SlackAPIFailure) as caught:
        await notifier.post("C1", payload("x", BLOCKS * 51))
    assert caught.value.code == "invalid_blocks"


async def test_an_unreachable_slack_is_a_slack_error(unused_tcp_port: int) -> None:
    client = AsyncWebClient(
        token=BOT_TOKEN, base_url=f"http://127.0.0.1:{unused_tcp_port}/api/", retry_handlers=[]
    )
    with pytest.raises(SlackError):
        await SlackNotifier(client).post("C1", payload("x"))


async def test_user_groups_names_the_users_groups_and_caches_them(fake_slack: FakeSlack) -> None:
    notifier = _notifier(fake_slack)
    candidates = [ONCALL_GROUP, "S0DELETED"]
    assert await notifier.user_groups(ONCALLER, candidates) == {ONCALL_GROUP}
    assert await notifier.user_groups(LEAD, candidates) == {ONCALL_GROUP}
    assert await notifier.user_groups(USER, candidates) == frozenset()
    listed = [c.args["usergroup"] for c in fake_slack.calls_to("usergroups.users.list")]
    assert listed.count(ONCALL_GROUP) == 1


async def test_respond_posts_to_the_response_url(fake_slack: FakeSlack) -> None:
    notifier = _notifier(fake_slack)
    await notifier.respond(fake_slack.response_url("a"), payload("hi", BLOCKS), ephemeral=False)
    [body] = fake_slack.responses("a")
    assert body["response_type"] == "in_channel"
    assert body["blocks"] == BLOCKS


async def test_respond_retries_a_rate_limited_response_url_once(fake_slack: FakeSlack) -> None:
    notifier = _notifier(fake_slack)
    fake_slack.fail_next("response_url", status=429, retry_after=0)
    await notifier.respond(fake_slack.response_url("a"), payload("hi"))
    assert len(fake_slack.responses("a")) == 1


async def test_auth_test_reports_the_bots_identity(fake_slack: FakeSlack) -> None:
    identity = await _notifier(fake_slack).auth_test()
    assert identity["user_id"] == "U0BACKUPSBOT"


async def test_the_fake_refuses_a_missing_token_like_slack(fake_slack: FakeSlack) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake_slack.api_url + "chat.postMessage", json={}) as resp,
    ):
        body = await resp.json()
    assert body == {"ok": False, "error": "not_authed"}


def test_retry_handlers_cover_rate_limits_server_errors_and_connections() -> None:
    names = {type(h).__name__ for h in retry_handlers()}
    assert names == {
        "AsyncConnectionErrorRetryHandler",
        "AsyncRateLimitErrorRetryHandler",
        "AsyncServerErrorRetryHandler",
    }


# --- the executor's sender -----------------------------------------------------------------------


def _single(fake: FakeSlack) -> SlackNotifier:
    """A notifier as the executor uses it: one attempt per delivery call."""
    return SlackNotifier(AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url, retry_handlers=[]))


@pytest.mark.parametrize("mode", ["200_html", "200_no_ok", "200_truncated", "200_wrong_type"])
async def test_an_answer_to_a_post_that_is_not_slacks_json_is_in_doubt(
    fake_slack: FakeSlack, mode: str
) -> None:
    notifier = _single(fake_slack)
    fake_slack.lose_next("chat.postMessage", mode=mode)  # type: ignore[arg-type]
    with pytest.raises(SendFailure) as caught:
        await notifier.deliver_post("C1", {"text": "x"}, post_id="p1")
    assert (caught.value.verdict, caught.value.code) == (Verdict.IN_DOUBT, "unreadable_answer")
    # It is in the channel, and the notifier finds it by its outbox id.
    [message] = fake_slack.messages("C1")
    assert await notifier.find_post("C1", "p1", since=0.0) == message["ts"]


async def test_a_body_cut_short_by_a_dropped_connection_is_in_doubt(fake_slack: FakeSlack) -> None:
    fake_slack.lose_next("chat.postMessage", mode="200_cut")
    with pytest.raises(SendFailure) as caught:
        await _single(fake_slack).deliver_post("C1", {"text": "x"}, post_id="p1")
    assert caught.value.verdict is Verdict.IN_DOUBT
    assert caught.value.code.startswith("unreachable")


async def test_slacks_own_refusals_and_4xx_pages_keep_their_verdicts(fake_slack: FakeSlack) -> None:
    notifier = _single(fake_slack)
    fake_slack.refuse_channel("C1", "not_in_channel")
    fake_slack.fail_next("chat.postMessage", status=404, body="<html>gone</html>", retry_after=None)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    outcomes = []
    for _ in range(3):
        with pytest.raises(SendFailure) as caught:
            await notifier.deliver_post("C1", {"text": "x"}, post_id="p1")
        outcomes.append((caught.value.verdict, caught.value.code, caught.value.retry_after))
    assert outcomes == [
        (Verdict.OTHER, "http_404", None),  # refused before Slack: not in doubt
        (Verdict.RETRY, "ratelimited", 7.0),
        (Verdict.CHANNEL, "not_in_channel", None),
    ]
    assert fake_slack.messages() == []


async def test_a_text_only_post_or_update_goes_without_its_blocks(fake_slack: FakeSlack) -> None:
    notifier = _single(fake_slack)
    ts = await notifier.deliver_post(
        "C1", {"text": "plain", "blocks": BLOCKS}, post_id="p1", text_only=True
    )
    [posted] = fake_slack.messages("C1")
    assert (posted["ts"], posted["text"], posted["blocks"]) == (ts, "plain", [])
    assert posted["metadata"]["event_payload"] == {"outbox_id": "p1"}
    await notifier.deliver_update("C1", ts, {"text": "v2", "blocks": BLOCKS})
    assert fake_slack.messages("C1")[0]["blocks"] == BLOCKS
    await notifier.deliver_update("C1", ts, {"text": "v3", "blocks": BLOCKS}, text_only=True)
    assert (fake_slack.messages("C1")[0]["text"], fake_slack.messages("C1")[0]["blocks"]) == (
        "v3",
        [],
    )


async def test_a_token_that_may_not_read_history_cannot_look_and_says_how_to_fix_it(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.remove_scopes("channels:history")
    with pytest.raises(SendFailure) as caught:
        await _single(fake_slack).find_post("C1", "p1", since=0.0)
    assert (caught.value.verdict, caught.value.code) == (Verdict.UNSEARCHABLE, "missing_scope")
    assert "channels:history" in caught.value.hint
    assert BOT_TOKEN not in str(caught.value)
