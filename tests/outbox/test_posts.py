"""The outbox's plain values: what a post is, and what each Slack answer means for it.

``judge`` decides whether a failed post is tried again, looked for first (it may be in the
channel already), sent as text only, or parks its channel or the whole token; a wrong verdict
is a duplicate alert or a lost one, so every code Slack documents for chat.postMessage and
chat.update is pinned here, as are the backoff's figures.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.outbox.posts import (
    EVENT_TYPE,
    OTHER_ATTEMPTS,
    PARKED_RETRY,
    RETRY_FIRST,
    RETRY_MAX,
    Method,
    OutboundPost,
    PostKind,
    Verdict,
    judge,
    new_post_id,
    retry_delay,
    text_only,
)

PAYLOAD = {"text": "plain", "blocks": [{"type": "section"}], "unfurl_links": False}


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        # Slack did nothing: try again after a while.
        ("ratelimited", Verdict.RETRY),
        ("rate_limited", Verdict.RETRY),
        ("service_unavailable", Verdict.RETRY),
        ("http_429", Verdict.RETRY),
        # Slack may have posted: look in the channel before posting again.
        ("request_timeout", Verdict.IN_DOUBT),
        ("internal_error", Verdict.IN_DOUBT),
        ("fatal_error", Verdict.IN_DOUBT),
        ("timeout", Verdict.IN_DOUBT),
        ("http_500", Verdict.IN_DOUBT),
        ("http_502", Verdict.IN_DOUBT),
        ("http_503", Verdict.IN_DOUBT),
        ("unreachable (connection reset)", Verdict.IN_DOUBT),
        ("unreachable", Verdict.IN_DOUBT),
        # The message itself was refused: text only.
        ("msg_too_long", Verdict.CONTENT),
        ("msg_blocks_too_long", Verdict.CONTENT),
        ("invalid_blocks", Verdict.CONTENT),
        ("invalid_blocks_format", Verdict.CONTENT),
        ("invalid_attachments", Verdict.CONTENT),
        ("too_many_attachments", Verdict.CONTENT),
        ("invalid_metadata_format", Verdict.CONTENT),
        ("invalid_metadata_schema", Verdict.CONTENT),
        ("metadata_too_large", Verdict.CONTENT),
        ("no_text", Verdict.CONTENT),
        # This channel refuses the bot.
        ("channel_not_found", Verdict.CHANNEL),
        ("not_in_channel", Verdict.CHANNEL),
        ("is_archived", Verdict.CHANNEL),
        ("channel_is_archived", Verdict.CHANNEL),
        ("restricted_action", Verdict.CHANNEL),
        ("restricted_action_read_only_channel", Verdict.CHANNEL),
        ("restricted_action_thread_only_channel", Verdict.CHANNEL),
        ("restricted_action_non_threadable_channel", Verdict.CHANNEL),
        ("team_access_not_granted", Verdict.CHANNEL),
        ("ekm_access_denied", Verdict.CHANNEL),
        # The token is refused everywhere.
        ("invalid_auth", Verdict.AUTH),
        ("not_authed", Verdict.AUTH),
        ("account_inactive", Verdict.AUTH),
        ("token_revoked", Verdict.AUTH),
        ("token_expired", Verdict.AUTH),
        ("no_permission", Verdict.AUTH),
        ("missing_scope", Verdict.AUTH),
        ("not_allowed_token_type", Verdict.AUTH),
        # The message to update is gone.
        ("message_not_found", Verdict.GONE),
        ("cant_update_message", Verdict.GONE),
        ("edit_window_closed", Verdict.GONE),
        # Not understood.
        ("http_400", Verdict.OTHER),
        ("http_404", Verdict.OTHER),
        ("http_4290", Verdict.OTHER),
        ("something_new", Verdict.OTHER),
        ("", Verdict.OTHER),
    ],
)
def test_each_slack_answer_has_the_verdict_that_neither_duplicates_nor_loses_a_post(
    code: str, verdict: Verdict
) -> None:
    assert judge(code) is verdict


def test_only_a_code_that_starts_with_the_prefix_is_read_as_an_http_status() -> None:
    # "xhttp_500" is some other code, not a 5xx; "unreachable" must lead too.
    assert judge("xhttp_500") is Verdict.OTHER
    assert judge("not unreachable") is Verdict.OTHER


def test_backoff_doubles_from_two_seconds_and_stops_at_five_minutes() -> None:
    assert timedelta(seconds=2) == RETRY_FIRST
    assert timedelta(minutes=5) == RETRY_MAX
    seconds = [retry_delay(n).total_seconds() for n in range(0, 11)]
    assert seconds == [2, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    # A huge count neither overflows nor exceeds the cap.
    assert retry_delay(10_000) == RETRY_MAX
    assert retry_delay(17) == RETRY_MAX
    assert retry_delay(-3) == RETRY_FIRST


def test_slacks_retry_after_wins_only_when_it_is_longer_and_is_itself_capped() -> None:
    assert retry_delay(1, retry_after=30) == timedelta(seconds=30)
    assert retry_delay(1, retry_after=2) == timedelta(seconds=2)
    assert retry_delay(1, retry_after=1) == timedelta(seconds=2)  # shorter: the backoff stands
    assert retry_delay(4, retry_after=10) == timedelta(seconds=16)
    assert retry_delay(1, retry_after=2.5) == timedelta(seconds=2.5)
    # A Retry-After of hours is held to an hour (12 × the 5-minute cap), never days.
    assert retry_delay(1, retry_after=86_400) == timedelta(hours=1)
    assert retry_delay(1, retry_after=3_599) == timedelta(seconds=3_599)


def test_the_give_up_and_parking_figures_are_the_documented_ones() -> None:
    assert OTHER_ATTEMPTS == 3
    assert timedelta(hours=1) == PARKED_RETRY
    assert EVENT_TYPE == "backups_bot_post"


def test_text_only_drops_the_blocks_and_keeps_everything_else_without_touching_the_original() -> (
    None
):
    assert text_only(PAYLOAD) == {"text": "plain", "unfurl_links": False}
    assert "blocks" in PAYLOAD
    assert text_only({"text": "x"}) == {"text": "x"}


def test_updates_are_sent_as_chat_update_and_everything_else_as_a_new_post() -> None:
    updates = {PostKind.ALERT_UPDATE, PostKind.GROUP_UPDATE}
    for kind in PostKind:
        assert kind.is_update is (kind in updates)
        post = OutboundPost(kind=kind, channel="C1", payload={})
        assert post.method is (Method.UPDATE if kind in updates else Method.POST)


def test_a_post_is_threaded_when_it_names_a_parent_by_id_or_by_ts_but_an_update_never_is() -> None:
    top = OutboundPost(kind=PostKind.ALERT, channel="C1", payload={})
    assert not top.threaded
    assert OutboundPost(kind=PostKind.REMINDER, channel="C1", payload={}, parent_id=top.id).threaded
    assert OutboundPost(kind=PostKind.RESOLVED, channel="C1", payload={}, parent_ts="1.2").threaded
    # An empty ts still names a parent: None is "no parent", not falsiness.
    assert OutboundPost(kind=PostKind.RESOLVED, channel="C1", payload={}, parent_ts="").threaded
    update = OutboundPost(kind=PostKind.ALERT_UPDATE, channel="C1", payload={}, parent_id=top.id)
    assert not update.threaded


def test_describe_says_what_where_and_about_what_in_one_line() -> None:
    top = OutboundPost(kind=PostKind.GROUP_ALERT, channel="C1", payload={}, subject="team=search")
    assert top.describe() == "group alert for team=search in C1"
    reply = OutboundPost(kind=PostKind.DIGEST_PART, channel="C2", payload={}, parent_id=top.id)
    assert reply.describe() == "digest part in C2 (in a thread)"


def test_every_post_gets_its_own_stable_id() -> None:
    ids = {new_post_id() for _ in range(1000)}
    assert len(ids) == 1000
    sample = next(iter(ids))
    assert sample.startswith("p")
    assert len(sample) == 33
    post = OutboundPost(kind=PostKind.ALERT, channel="C1", payload={})
    assert post.id == post.id
    assert post.id != OutboundPost(PostKind.ALERT, "C1", {}).id


def test_a_post_names_no_parent_and_no_subject_unless_given() -> None:
    post = OutboundPost(kind=PostKind.ALERT, channel="C1", payload={})
    assert post.parent_id is None
    assert post.parent_ts is None
    assert post.subject == ""
