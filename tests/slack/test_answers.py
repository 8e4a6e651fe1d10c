"""What each Slack answer means for an outbox post, and the text-only fallback.

``judge`` decides whether a failed post is tried again, looked for first (it may be in the
channel already), sent as text only, or parks its channel or the whole token; a wrong verdict
is a duplicate alert or a lost one, so every code Slack documents for chat.postMessage and
chat.update is pinned here, and so is every shape of an answer nobody can read.
"""

from __future__ import annotations

import pytest

from bot.outbox.posts import Verdict
from bot.slack.answers import NO_TS, UNREADABLE, judge, judge_search, text_only

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


def test_an_answer_nobody_can_read_is_an_answer_in_doubt() -> None:
    # A proxy's page with 200, JSON without ``ok``, a body cut short: Slack may have posted.
    assert UNREADABLE == "unreadable_answer"
    assert judge(UNREADABLE) is Verdict.IN_DOUBT
    # ``ok`` without a ts: posted, somewhere; looked for, never posted again blind.
    assert NO_TS == "no_ts_in_answer"
    assert judge(NO_TS) is Verdict.IN_DOUBT


@pytest.mark.parametrize("code", ["missing_scope", "not_allowed_token_type", "no_permission"])
def test_a_history_read_the_token_may_not_make_means_a_post_cannot_be_looked_for(
    code: str,
) -> None:
    assert judge_search(code) is Verdict.UNSEARCHABLE
    assert judge(code) is Verdict.AUTH  # the same code refusing a post refuses the token


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("channel_not_found", Verdict.CHANNEL),
        ("invalid_auth", Verdict.AUTH),
        ("http_503", Verdict.IN_DOUBT),
        ("ratelimited", Verdict.RETRY),
        (UNREADABLE, Verdict.IN_DOUBT),
    ],
)
def test_any_other_failed_history_read_is_judged_as_a_post_would_be(
    code: str, verdict: Verdict
) -> None:
    assert judge_search(code) is verdict


def test_text_only_drops_the_blocks_and_keeps_everything_else_without_touching_the_original() -> (
    None
):
    assert text_only(PAYLOAD) == {"text": "plain", "unfurl_links": False}
    assert "blocks" in PAYLOAD
    assert text_only({"text": "x"}) == {"text": "x"}
