"""The outbox's plain values: what a post is, its verdicts and the backoff's figures.

What each Slack answer means for a post (``judge``) is Slack's knowledge and is pinned in
``tests/slack/test_answers.py``.
"""

from __future__ import annotations

from datetime import timedelta

from bot.outbox.posts import (
    EVENT_TYPE,
    OTHER_ATTEMPTS,
    PARKED_RETRY,
    RETRY_FIRST,
    RETRY_MAX,
    Method,
    OutboundPost,
    PostKind,
    new_post_id,
    retry_delay,
)


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
