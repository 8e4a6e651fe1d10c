"""A post that shares a file (a digest's table, a report) goes out once like every post: by
Slack's external upload (files.getUploadURLExternal, the bytes to the URL, then
files.completeUploadExternal), in its parent's thread, and a lost answer is looked for in that
thread before the file is uploaded again. Against the fake Slack, over HTTP on loopback."""

from __future__ import annotations

import pytest

from bot.demo.fake_slack import FakeSlack
from bot.ops.metrics import Metrics
from bot.outbox.posts import FileUpload, PostKind, make_file_post
from bot.store import Store
from tests.outbox.test_executor import (  # noqa: F401  (fixtures)
    _close_executors,
    delivered,
    make_executor,
    post,
    queue,
    slack,
)

TABLE = FileUpload(
    filename="backups-digest-2026-12-07.csv",
    title="Backups digest · Mon 7 Dec 2026: every cluster",
    content=b"cluster,state\nsearch-prod,stale\nlogs-ru,fresh\n",
    comment="The full table",
)


async def test_a_file_is_shared_once_in_its_parents_thread(
    store: Store,
    slack: FakeSlack,  # noqa: F811
) -> None:
    top = post("digest")
    shared = make_file_post("C1", TABLE, subject="digest:test", parent=(top.id, None))
    ids = await queue(store, top, shared)

    result = await make_executor(store, slack).deliver(ids, timeout=30)

    assert result.ok, result.posts
    [message] = slack.top_level("C1")
    [file] = slack.files("C1")
    assert file["thread_ts"] == message["ts"]
    assert file["name"] == TABLE.filename
    assert file["title"] == TABLE.title
    assert file["content"] == TABLE.content
    [reply] = slack.replies("C1", message["ts"])
    assert reply["text"] == "The full table"
    assert [f["id"] for f in reply["files"]] == [file["id"]]
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    assert shared.kind == PostKind.FILE


@pytest.mark.parametrize("mode", ["503_json", "reset", "200_html"])
async def test_a_lost_answer_to_the_share_is_found_in_the_thread_not_uploaded_again(
    store: Store,
    slack: FakeSlack,  # noqa: F811
    mode: str,
) -> None:
    metrics = Metrics()
    slack.lose_next("files.completeUploadExternal", mode=mode)  # type: ignore[arg-type]
    top = post("digest")
    shared = make_file_post("C1", TABLE, subject="digest:test", parent=(top.id, None))
    ids = await queue(store, top, shared)

    result = await make_executor(store, slack, metrics=metrics).deliver(ids, timeout=30)

    assert result.ok, result.posts
    assert len(slack.files("C1")) == 1
    assert len(slack.calls_to("files.getUploadURLExternal")) == 1
    [message] = slack.top_level("C1")
    [reply] = slack.replies("C1", message["ts"])
    assert {p.id: p.ts for p in result.posts}[shared.id] == reply["ts"]
    assert delivered(metrics, "file", "found") == 1


async def test_a_failed_upload_step_shares_nothing_and_is_tried_again(
    store: Store,
    slack: FakeSlack,  # noqa: F811
) -> None:
    # The upload URL's answer lost: nothing is shared yet, so it simply starts again.
    slack.lose_next("files.getUploadURLExternal", mode="503_json")
    top = post("digest")
    shared = make_file_post("C1", TABLE, subject="digest:test", parent=(top.id, None))
    ids = await queue(store, top, shared)

    result = await make_executor(store, slack).deliver(ids, timeout=30)

    assert result.ok, result.posts
    assert len(slack.files("C1")) == 1
    assert len(slack.calls_to("files.getUploadURLExternal")) == 2
    assert len(slack.calls_to("files.completeUploadExternal")) == 1


async def test_a_file_in_the_outbox_keeps_its_bytes_and_shows_none_in_its_repr() -> None:
    payload = TABLE.payload()

    assert FileUpload.from_payload(payload) == TABLE
    assert "search-prod" not in repr(TABLE)
    assert payload["text"] == "The full table"
