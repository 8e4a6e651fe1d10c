"""The digest and ``status`` as Slack gets them: valid Block Kit within Slack's limits, escaped,
worst first, and every row shown once (on top, in the thread or on a later page)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.digest.actions import STATUS_NEXT_PAGE
from bot.digest.messages import (
    TOP_ROWS,
    DigestMessages,
    render_digest,
    render_status,
)
from bot.digest.model import ClusterFigures, Digest, DigestInput, build_digest
from bot.freshness.model import FreshnessReport, FreshnessState
from bot.slack.blocks import SLACK
from tests.cards import (
    CONSOLE,
    GIB,
    HOSTILE,
    MAX_AGE,
    NOW,
    all_text,
    assert_no_broadcast,
    assert_valid,
    backup,
    cluster,
    report,
    texts_of,
)
from tests.slack.payload import Payload, slack


def digest_of(items: list[DigestInput], *, only: bool = False, **kw: Any) -> Digest:
    """A digest grouped by folder, as a digest route is by default."""
    return build_digest(
        items,
        kw.get("previous", {}),
        now=NOW,
        shrink_threshold=0.3,
        only_problems=only,
        group_by=kw.get("group_by", ["folder"]),
    )


def many(n: int, name: str = "cluster") -> list[DigestInput]:
    states = list(FreshnessState)
    out = []
    for i in range(n):
        c = cluster(f"{name}-{i:04d}", id=f"c9q{i:017d}", folder_id=f"b1g{i % 7:017d}", labels={})
        state = states[i % len(states)]
        backups = None if state == FreshnessState.UNKNOWN else [backup(f"b{i}", 3 + i % 40)]
        rep = FreshnessReport(
            cluster_id=c.id,
            state=state,
            max_age=MAX_AGE,
            age=timedelta(hours=3 + i % 40),
            reason="the cloud answered 503" if state == FreshnessState.UNKNOWN else "",
        )
        out.append(DigestInput(c, rep, backups))
    return out


@dataclass(frozen=True)
class Shown:
    """A digest's cards, and the payloads Slack gets for them."""

    cards: DigestMessages
    top: Payload
    thread: list[Payload]

    def messages(self) -> list[Payload]:
        return [self.top, *self.thread]


def top_of(digest: Digest, **kw: Any) -> Shown:
    """The digest rendered, every message checked against Slack's limits."""
    cards = render_digest(
        digest, title=kw.pop("title", "Backups"), console_url=CONSOLE, limits=SLACK.limits, **kw
    )
    rendered = Shown(cards, slack(cards.top), [slack(part) for part in cards.thread])
    for message in rendered.messages():
        assert_valid(message)
    return rendered


def cluster_ids(messages: list[Payload]) -> list[str]:
    """Cluster ids in the order the rows of ``messages`` show them."""
    return re.findall(r"/cluster/([^/]+)/backups", all_text(messages))


def test_the_digest_summarises_then_lists_each_cluster() -> None:
    previous = {
        "c9qcluster000000001": ClusterFigures(
            "c9qcluster000000001", "b-old", 9 * GIB, 40, backup_count=1, taken_at=NOW
        )
    }
    items = [
        DigestInput(
            cluster(),
            report(FreshnessState.STALE),
            [backup("b-0001", 30, 6 * GIB), backup("b-0000", 54)],
        )
    ]
    rendered = top_of(digest_of(items, previous=previous), title="Morning backups")
    message = rendered.top
    assert rendered.thread == []
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Morning backups", "emoji": True},
    }
    summary = message.blocks[1]["text"]["text"]
    for part in ("0 fresh", "1 stale", "0 never", "0 unknown", "6 GiB"):
        assert part in summary
    assert message.text.startswith("Morning backups: 0 fresh, 1 stale, 0 never, 0 unknown")
    heading, row = message.blocks[-1]["text"]["text"].split("\n", 1)
    assert heading == "*folder b1gfolder0000000001* · :red_circle: 1 stale"
    assert row.startswith(":red_circle: *<https://console.yandex.cloud/folders/b1gfolder")
    assert "|orders-prod>*" in row
    assert "PRODUCTION" in row
    assert "`b1gfolder0000000001`" not in row  # the group's heading names the folder
    assert "1d 6h ago" in row
    assert "6 GiB" in row
    assert "Since the last digest: -3 GiB, +2 indices, +1 backup" in row
    assert ":warning: The newest backup is 40% smaller than the one before it" in row


def test_rows_name_their_folder_when_the_digest_is_not_grouped_by_folder() -> None:
    items = [DigestInput(cluster(labels={"team": "shop"}), report(FreshnessState.STALE), [])]
    by_team = top_of(digest_of(items, group_by=["label:team"])).top
    assert "*team=shop* · :red_circle: 1 stale" in all_text([by_team])
    assert "folder `b1gfolder0000000001`" in all_text([by_team])


def test_a_cluster_that_could_not_be_read_says_why() -> None:
    items = [
        DigestInput(
            cluster(),
            report(
                FreshnessState.UNKNOWN,
                None,
                reason="the backups of orders-prod could not be read: the cloud answered 503",
            ),
            None,
        )
    ]
    text = top_of(digest_of(items)).top.blocks[-1]["text"]["text"]
    assert ":grey_question:" in text
    assert "The backups of orders-prod could not be read: the cloud answered 503" in text
    assert text.count("could not be read") == 1


def test_a_cluster_never_backed_up_says_so() -> None:
    items = [DigestInput(cluster(), report(FreshnessState.NEVER, None), [])]
    assert "No backup yet" in top_of(digest_of(items)).top.blocks[-1]["text"]["text"]


def test_only_problems_with_everything_fresh_says_there_is_nothing_to_report() -> None:
    items = [DigestInput(cluster(), report(FreshnessState.FRESH, 2), [backup("b-0001", 2)])]
    rendered = top_of(digest_of(items, only=True))
    assert "Nothing to report" in all_text([rendered.top])
    assert "1 fresh" in rendered.top.text
    assert rendered.thread == []


def test_everything_fresh_says_so_on_top_and_names_the_clusters_in_the_thread() -> None:
    items = [DigestInput(cluster(), report(FreshnessState.FRESH, 2), [backup("b-0001", 2)])]
    rendered = top_of(digest_of(items))
    top = all_text([rendered.top])
    assert "Nothing to report: all 1 cluster have fresh backups" in top
    assert ":thread: 1 fresh cluster in the thread" in top
    assert "managed-opensearch" not in top  # counted, not listed
    assert cluster_ids(rendered.thread) == ["c9qcluster000000001"]


def test_only_problems_says_how_many_fresh_clusters_it_leaves_out() -> None:
    rendered = top_of(digest_of(many(12), only=True), title="B")
    assert "2 clusters with fresh backups not shown" in all_text([rendered.top])


def test_a_digest_of_no_clusters_says_so() -> None:
    rendered = top_of(digest_of([]))
    assert "No watched cluster" in all_text([rendered.top])
    assert rendered.thread == []


def test_the_top_post_shows_a_screenful_of_the_worst_and_the_thread_names_the_rest() -> None:
    items = many(300, name="a-rather-long-cluster-name-to-fill-the-sections")
    digest = digest_of(items)
    rendered = top_of(digest, title="Fleet backups")

    top_ids = cluster_ids([rendered.top])
    assert 0 < len(top_ids) <= TOP_ROWS
    worst = [row.cluster.id for row in digest.rows if row.notable][: len(top_ids)]
    assert sorted(top_ids) == sorted(worst)  # the worst rows, whatever group they are in
    fresh = digest.counts[FreshnessState.FRESH]
    problems_left = digest.cluster_count - fresh - len(top_ids)
    assert (
        f":thread: {problems_left} more problems and {fresh} fresh clusters in the thread"
        in all_text([rendered.top])
    )
    assert len(rendered.thread) > 1
    for number, part in enumerate(rendered.thread, start=1):
        assert part.text.endswith(f"(part {number} of {len(rendered.thread)})")
        assert part.blocks[0]["type"] == "context"
    shown = cluster_ids(rendered.messages())
    assert sorted(shown) == sorted(each.cluster.id for each in items)  # each exactly once
    assert rendered.cards.messages() == [rendered.cards.top, *rendered.cards.thread]


def test_problems_are_grouped_by_folder_worst_first_with_fresh_counted_per_group() -> None:
    def item(name: str, folder: str, state: FreshnessState, hours: float) -> DigestInput:
        c = cluster(name, id=f"c9q{name}", folder_id=folder, labels={})
        rep = FreshnessReport(
            c.id, state, MAX_AGE, age=timedelta(hours=hours), newest_backup_id="b"
        )
        return DigestInput(c, rep, [backup(f"b-{name}", hours)])

    items = [
        item("big-101", "b1gA", FreshnessState.STALE, 26 + 26),  # 1d 2h overdue
        item("big-139", "b1gA", FreshnessState.STALE, 26 + 44),  # 1d 20h overdue
        item("quiet-1", "b1gA", FreshnessState.FRESH, 3),
        item("other-1", "b1gB", FreshnessState.STALE, 27),
        item("calm-1", "b1gC", FreshnessState.FRESH, 1),
        item("calm-2", "b1gC", FreshnessState.FRESH, 2),
    ]
    digest = build_digest(items, {}, now=NOW, group_by=["folder"])
    rendered = top_of(digest)
    sections = [b["text"]["text"] for b in rendered.top.blocks if b["type"] == "section"]
    body = "\n\n".join(sections[1:])
    assert body.index("*folder b1gA* · :red_circle: 2 stale · :white_check_mark: 1 fresh") < (
        body.index("*folder b1gB* · :red_circle: 1 stale")
    )
    assert cluster_ids([rendered.top]) == ["c9qbig-139", "c9qbig-101", "c9qother-1"]
    foot = rendered.top.blocks[-1]["elements"]
    assert foot[0]["text"] == ":thread: 3 fresh clusters in the thread"
    assert foot[1]["text"] == ":white_check_mark: All fresh: *folder b1gC* (2)"
    thread = all_text(rendered.thread)
    assert thread.index("*folder b1gA*") < thread.index("*folder b1gC*")
    # Fresh ones nearest to going stale first.
    assert cluster_ids(rendered.thread) == ["c9qquiet-1", "c9qcalm-2", "c9qcalm-1"]


def test_a_group_that_goes_on_into_the_next_part_says_it_continues() -> None:
    items = many(400)
    digest = build_digest(items, {}, now=NOW, group_by=["folder"])
    rendered = top_of(digest)
    continued = [p for p in rendered.thread[1:] if "(continued) · " in p.blocks[1]["text"]["text"]]
    assert continued  # 400 rows in 7 folders: some part starts inside a group
    for part in rendered.thread:
        first = part.blocks[1]["text"]["text"]
        assert first.startswith("*folder "), first[:80]


def test_only_problems_puts_left_out_problems_in_the_thread_and_only_counts_fresh_ones() -> None:
    items = [
        replace(each, report=replace(each.report, state=FreshnessState.STALE))
        if each.report.state == FreshnessState.FRESH
        else each
        for each in many(60)
    ]
    fresh = [
        DigestInput(
            cluster(f"ok-{i}", id=f"c9qok{i}", labels={}),
            report(FreshnessState.FRESH, 2),
            [backup(f"b-ok{i}", 2)],
        )
        for i in range(7)
    ]
    rendered = top_of(digest_of(items + fresh, only=True))
    shown = cluster_ids(rendered.messages())
    assert sorted(shown) == sorted(each.cluster.id for each in items)
    assert not any(i.startswith("c9qok") for i in shown)
    assert "7 clusters with fresh backups not shown" in all_text([rendered.top])
    assert "fresh cluster" not in rendered.top.blocks[-1]["elements"][0]["text"]


def test_rows_with_the_longest_hostile_names_still_fit() -> None:
    evil = HOSTILE * 40
    items = [
        DigestInput(
            cluster(evil + str(i), id=f"c9q{i}", folder_id=evil, labels={"team": evil}),
            report(FreshnessState.UNKNOWN, None, reason=evil),
            None,
        )
        for i in range(60)
    ]
    digest = build_digest(items, {}, now=NOW, group_by=["folder", "label:team"])
    rendered = top_of(digest, title=evil, warnings=[evil] * 9)
    for message in rendered.messages():
        assert_no_broadcast(message)
    assert len(cluster_ids(rendered.messages())) == 60


def test_hostile_names_folders_and_errors_are_escaped_in_the_digest() -> None:
    items = [
        DigestInput(
            cluster(HOSTILE, folder_id="<!here>"),
            report(FreshnessState.UNKNOWN, None, reason="index <!everyone> is closed"),
            None,
        ),
        DigestInput(
            cluster(HOSTILE, id="c9q2", labels={"<!channel>": "<!here>"}),
            report(FreshnessState.STALE),
            [backup("<!channel>", 30)],
        ),
    ]
    rendered = top_of(digest_of(items), title="<!channel> digest")
    assert_no_broadcast(rendered.top)
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in all_text([rendered.top])
    assert "Index &lt;!everyone&gt; is closed" in all_text([rendered.top])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=80),
    only=st.booleans(),
)
def test_any_names_render_valid_digests_that_keep_every_row(names: list[str], only: bool) -> None:
    items = many(len(names))
    items = [
        replace(each, cluster=each.cluster.model_copy(update={"name": name}))
        for each, name in zip(items, names, strict=True)
    ]
    digest = digest_of(items, only=only)
    rendered = top_of(digest)
    for message in rendered.messages():
        assert_no_broadcast(message)
    rows = sum(
        text.count("managed-opensearch/cluster/")
        for m in rendered.messages()
        for text in texts_of(m.blocks)
    )
    assert rows == len(digest.rows)


def test_a_digest_says_what_it_could_not_see_escaped_and_within_limits() -> None:
    items = [DigestInput(cluster(), report(FreshnessState.FRESH, 3), None)]
    warnings = [f"folder b1g{i} could not be listed: <!here> denied" for i in range(8)]
    message = top_of(digest_of(items), warnings=warnings).top
    assert_no_broadcast(message)
    text = all_text([message])
    assert ":warning: *Not in this digest:* folder b1g0 could not be listed: &lt;!here&gt;" in text
    assert "b1g4" in text
    assert "b1g5" not in text
    assert "and 3 more" in text


# --- status: the digest view, paged ------------------------------------------------------------


def status_pages(digest: Digest, target: str | None = None) -> list[Payload]:
    """Every page of a status answer, following its Next page buttons to the end."""
    pages, offset = [], 0
    while True:
        page = slack(
            render_status(
                digest,
                title="Backups status",
                console_url=CONSOLE,
                limits=SLACK.limits,
                target=target,
                offset=offset,
            )
        )
        assert_valid(page)
        pages.append(page)
        buttons = [e for b in page.blocks if b["type"] == "actions" for e in b["elements"]]
        if not buttons:
            return pages
        [button] = buttons
        assert button["action_id"] == STATUS_NEXT_PAGE.id
        value = json.loads(button["value"])
        assert value["t"] == target
        assert value["o"] > offset
        offset = value["o"]
        assert len(pages) < 500


def test_status_over_a_big_fleet_is_one_message_per_page_with_a_next_page_button() -> None:
    items = many(1000)
    digest = digest_of(items)
    pages = status_pages(digest, target="b1gfolder")
    first = pages[0]
    assert first.blocks[0]["type"] == "header"
    assert "*1000 clusters*" in first.blocks[1]["text"]["text"]
    assert len(pages) > 1
    shown = cluster_ids(pages)
    assert shown == [row.cluster.id for row in digest.rows]  # worst first, each exactly once
    note = first.blocks[-2]["elements"][0]["text"]
    on_first = len(cluster_ids([first]))
    assert note == f"Rows 1–{on_first} of 1000 · {1000 - on_first} more: *Next page*"
    assert f"(rows 1–{on_first} of 1000)" in first.text
    assert pages[1].blocks[0]["elements"][0]["text"].endswith(f"from row {on_first + 1}")


def test_status_of_a_small_fleet_is_one_page_without_a_button() -> None:
    [page] = status_pages(digest_of(many(6)))
    assert len(cluster_ids([page])) == 6
    assert page.blocks[-1]["elements"][0]["text"] == "6 clusters"


def test_a_next_page_past_the_end_says_the_fleet_changed() -> None:
    page = slack(
        render_status(
            digest_of(many(3)), title="S", console_url=CONSOLE, limits=SLACK.limits, offset=40
        )
    )
    assert_valid(page)
    assert "the fleet changed since the first page" in all_text([page])
    assert not any(b["type"] == "actions" for b in page.blocks)
