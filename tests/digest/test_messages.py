"""The digest and ``status`` as Slack gets them: valid Block Kit within Slack's limits, escaped,
worst first, and every row shown once (on top, in the thread or on a later page)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.digest.actions import STATUS_NEXT_PAGE
from bot.digest.messages import (
    THREAD_PARTS,
    TOP_LINES,
    TOP_VISIBLE,
    DigestMessages,
    render_digest,
    render_status,
    visible_length,
)
from bot.digest.model import ClusterFigures, Digest, DigestInput, LastDrill, build_digest
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
        out.append(DigestInput(c, rep, backups, **drilled(i)))
    return out


def drilled(i: int) -> dict[str, Any]:
    """Cluster ``i``'s restore drills, in turn: none configured, never drilled, passed, failed."""
    kind = i % 4
    if kind == 0:
        return {}
    if kind == 1:
        return {"drilled": True}
    at = NOW - timedelta(days=3 + i % 20)
    return {
        "drilled": True,
        "last_drill": LastDrill(at, passed=kind == 2, restore_time=timedelta(minutes=23)),
    }


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


def test_the_digest_summarises_then_names_each_problem_in_one_line() -> None:
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
    rendered = top_of(
        digest_of(items, previous=previous), title="Morning backups", table_name="d.csv"
    )
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
    line = message.blocks[-2]["text"]["text"]
    assert line.startswith(":red_circle: *<https://console.yandex.cloud/folders/b1gfolder")
    assert "|orders-prod>*" in line
    assert "newest 1d 6h old (max 1d 2h)" in line
    assert ":warning: the newest backup is 40% smaller" in line
    assert "\n" not in line  # one line
    foot = message.blocks[-1]["elements"][0]["text"]
    assert foot == ":page_facing_up: every cluster in a CSV file in the thread"
    # What changed since the last digest is in the file.
    table = rendered.cards.table
    assert table is not None
    header, row = table.content.decode().splitlines()
    assert header.startswith("cluster,cluster_id,folder_id,environment,state,")
    assert row.startswith("orders-prod,c9qcluster000000001,b1gfolder0000000001,PRODUCTION,stale,")
    # ... then the note, and the three drill columns (no drills: route covers it).
    assert row.endswith(",6442450944,42,2,-3221225472,1,,,,")
    assert table.filename == "d.csv"
    assert table.comment == "Every watched cluster, 1 in all, as a table."


def test_the_digest_shows_each_clusters_last_drill_and_flags_the_undrilled_and_failed() -> None:
    old = NOW - timedelta(days=3)
    items = [
        # Covered by no drills: route: neither flagged nor a drill line.
        DigestInput(cluster("logs-dev", id="c9qdev"), report(FreshnessState.STALE), []),
        DigestInput(
            cluster("orders-prod", id="c9qnever"), report(FreshnessState.STALE), [], drilled=True
        ),
        DigestInput(
            cluster("search-prod", id="c9qfailed"),
            report(FreshnessState.STALE),
            [],
            drilled=True,
            last_drill=LastDrill(old, passed=False, restore_time=None, error="corrupted"),
        ),
        DigestInput(
            cluster("users-prod", id="c9qpassed"),
            report(FreshnessState.STALE),
            [],
            drilled=True,
            last_drill=LastDrill(old, passed=True, restore_time=timedelta(minutes=23)),
        ),
    ]
    digest = digest_of(items)
    assert (digest.never_drilled, digest.drill_failed) == (1, 1)
    rendered = top_of(digest, table_name="d.csv")
    summary = rendered.top.blocks[1]["text"]["text"]
    assert summary.endswith("\n:test_tube: 1 cluster never drilled · 1 last drill failed")
    assert visible_length(all_text([rendered.top])) <= TOP_VISIBLE
    # Each row says its drill, in status (and the digest's thread) alike.
    page = slack(
        render_status(digest, title="Backups status", console_url=CONSOLE, limits=SLACK.limits)
    )
    paragraphs = "\n\n".join(texts_of(page.blocks)).split("\n\n")
    rows = {
        cid: next(s for s in paragraphs if cid in s)
        for cid in ("c9qdev", "c9qnever", "c9qfailed", "c9qpassed")
    }
    assert "drill" not in rows["c9qdev"]
    assert ":test_tube: Never restore-drilled" in rows["c9qnever"]
    assert ":x: Last restore drill failed (Tue 11 Mar 2025)" in rows["c9qfailed"]
    assert "Last restore drill passed (Tue 11 Mar 2025), restored in 23m" in rows["c9qpassed"]
    # The file has the date, the result and the restore time in minutes, in its last columns.
    assert rendered.cards.table is not None
    header, *lines = rendered.cards.table.content.decode().splitlines()
    assert header.endswith(",note,last_drill_at,last_drill_result,last_drill_restore_minutes")
    cells = {line.split(",")[1]: line.split(",")[-3:] for line in lines}
    assert cells["c9qdev"] == ["", "", ""]
    assert cells["c9qnever"] == ["", "never", ""]
    assert cells["c9qfailed"] == [old.isoformat(), "failed", ""]
    assert cells["c9qpassed"] == [old.isoformat(), "passed", "23"]


def test_a_fleet_whose_drills_are_all_well_has_no_drill_line_on_top() -> None:
    passed = LastDrill(NOW - timedelta(days=1), passed=True, restore_time=timedelta(minutes=5))
    items = [
        DigestInput(
            cluster("orders-prod"),
            report(FreshnessState.FRESH, 3),
            [],
            drilled=True,
            last_drill=passed,
        )
    ]
    rendered = top_of(digest_of(items))
    assert "drill" not in all_text([rendered.top])


def test_thread_rows_name_their_folder_when_the_digest_is_not_grouped_by_folder() -> None:
    items = [
        DigestInput(
            cluster(f"c-{i:02d}", id=f"c9q{i:02d}", labels={"team": "shop"}),
            report(FreshnessState.STALE),
            [],
        )
        for i in range(12)
    ]
    thread = top_of(digest_of(items, group_by=["label:team"])).thread
    assert "*team=shop* · :red_circle: 12 stale" in all_text(thread)
    assert "folder `b1gfolder0000000001`" in all_text(thread)


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
    text = all_text([top_of(digest_of(items)).top])
    assert ":grey_question:" in text
    assert "the backups of orders-prod could not be read: the cloud answered 503" in text
    assert text.count("could not be read") == 1


def test_a_cluster_never_backed_up_says_so() -> None:
    items = [DigestInput(cluster(), report(FreshnessState.NEVER, None), [])]
    assert "no backup at all" in top_of(digest_of(items)).top.blocks[-1]["text"]["text"]


def test_only_problems_with_everything_fresh_says_there_is_nothing_to_report() -> None:
    items = [DigestInput(cluster(), report(FreshnessState.FRESH, 2), [backup("b-0001", 2)])]
    rendered = top_of(digest_of(items, only=True))
    assert "Nothing to report" in all_text([rendered.top])
    assert "1 fresh" in rendered.top.text
    assert rendered.thread == []


def test_everything_fresh_says_so_on_top_and_leaves_the_clusters_to_the_file() -> None:
    items = [DigestInput(cluster(), report(FreshnessState.FRESH, 2), [backup("b-0001", 2)])]
    rendered = top_of(digest_of(items), table_name="d.csv")
    top = all_text([rendered.top])
    assert "Nothing to report: all 1 cluster have fresh backups" in top
    assert ":page_facing_up: every cluster in a CSV file in the thread" in top
    assert "managed-opensearch" not in top  # counted, not listed
    assert rendered.thread == []
    assert rendered.cards.table is not None
    assert b"c9qcluster000000001" in rendered.cards.table.content


def test_only_problems_says_how_many_fresh_clusters_it_leaves_out() -> None:
    rendered = top_of(digest_of(many(12), only=True), title="B")
    assert "2 clusters with fresh backups not shown" in all_text([rendered.top])


def test_a_digest_of_no_clusters_says_so() -> None:
    rendered = top_of(digest_of([]))
    assert "No watched cluster" in all_text([rendered.top])
    assert rendered.thread == []


@pytest.mark.parametrize("size", [300, 10_000])
def test_the_top_post_fits_a_phone_and_the_thread_is_a_few_messages_at_any_size(
    size: int,
) -> None:
    items = many(size, name="a-rather-long-cluster-name-to-fill-the-sections")
    digest = digest_of(items)
    rendered = top_of(digest, title="Fleet backups", table_name="d.csv")

    top_ids = cluster_ids([rendered.top])
    assert 0 < len(top_ids) <= TOP_LINES
    worst = [row.cluster.id for row in digest.rows if row.notable][: len(top_ids)]
    assert top_ids == worst  # the worst, worst first
    assert visible_length(all_text([rendered.top])) <= TOP_VISIBLE
    problems = sum(1 for row in digest.rows if row.notable)
    foot = all_text([rendered.top])
    assert f":thread: {problems - len(top_ids)} more problems in the thread" in foot
    assert 1 < len(rendered.thread) <= THREAD_PARTS
    for number, part in enumerate(rendered.thread, start=1):
        assert part.text.endswith(f"(part {number} of {len(rendered.thread)})")
        assert part.blocks[0]["type"] == "context"
    shown = cluster_ids(rendered.messages())
    assert len(shown) == len(set(shown))  # none twice
    in_thread = cluster_ids(rendered.thread)
    assert not set(in_thread) & {row.cluster.id for row in digest.rows if not row.notable}
    # Every cluster is in the file, once, worst first; it says how many problems only it has.
    table = rendered.cards.table
    assert table is not None
    lines = table.content.decode().splitlines()[1:]
    assert [line.split(",")[1] for line in lines] == [row.cluster.id for row in digest.rows]
    left = problems - len(shown)
    assert f"It also has the {left} problems not shown above." in table.comment


def test_the_thread_groups_problems_by_folder_worst_first_and_lists_no_fresh_cluster() -> None:
    def item(name: str, folder: str, state: FreshnessState, hours: float) -> DigestInput:
        c = cluster(name, id=f"c9q{name}", folder_id=folder, labels={})
        rep = FreshnessReport(
            c.id, state, MAX_AGE, age=timedelta(hours=hours), newest_backup_id="b"
        )
        return DigestInput(c, rep, [backup(f"b-{name}", hours)])

    items = [item(f"big-{i:03d}", "b1gA", FreshnessState.STALE, 26 + 26 + i) for i in range(8)] + [
        item("big-101", "b1gA", FreshnessState.STALE, 26 + 1),
        item("quiet-1", "b1gA", FreshnessState.FRESH, 3),
        item("other-1", "b1gB", FreshnessState.STALE, 27.5),
        item("calm-1", "b1gC", FreshnessState.FRESH, 1),
    ]
    digest = build_digest(items, {}, now=NOW, group_by=["folder"])
    rendered = top_of(digest, table_name="d.csv")
    assert cluster_ids([rendered.top]) == [f"c9qbig-{i:03d}" for i in range(7, -1, -1)]
    thread = all_text(rendered.thread)
    # Groups in the order of their worst row, worst first within each.
    assert thread.index("*folder b1gA*") < thread.index("*folder b1gB*")
    assert cluster_ids(rendered.thread) == ["c9qbig-101", "c9qother-1"]
    assert "b1gC" not in thread


def test_a_group_that_goes_on_into_the_next_part_says_it_continues() -> None:
    items = many(400)
    digest = build_digest(items, {}, now=NOW, group_by=["folder"])
    rendered = top_of(digest, table_name="d.csv")
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
    rendered = top_of(digest, title=evil, warnings=[evil] * 9, table_name="d.csv")
    for message in rendered.messages():
        assert_no_broadcast(message)
    assert len(rendered.thread) <= THREAD_PARTS
    assert visible_length(all_text([rendered.top])) <= TOP_VISIBLE
    assert rendered.cards.table is not None
    assert len(rendered.cards.table.content.decode().splitlines()) == 61


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
    assert "index &lt;!everyone&gt; is closed" in all_text([rendered.top])


def test_a_table_cell_a_spreadsheet_would_run_is_quoted() -> None:
    items = [
        DigestInput(
            cluster("=HYPERLINK(1)", labels={}), report(FreshnessState.STALE), [backup("b", 30)]
        )
    ]
    table = top_of(digest_of(items), table_name="d.csv").cards.table
    assert table is not None
    assert table.content.decode().splitlines()[1].startswith("'=HYPERLINK(1),")


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
    rendered = top_of(digest, table_name="d.csv")
    for message in rendered.messages():
        assert_no_broadcast(message)
    shown = sum(
        text.count("managed-opensearch/cluster/")
        for m in rendered.messages()
        for text in texts_of(m.blocks)
    )
    problems = sum(1 for row in digest.rows if row.notable)
    if only:
        assert rendered.cards.table is None
        # Every problem is named, or counted in the last message.
        last = all_text(rendered.thread[-1:])
        assert shown == problems or f"{problems - shown} more problem" in last
    else:
        assert rendered.cards.table is not None
        rows = rendered.cards.table.content.decode("utf-8")
        assert sum(1 for row in digest.rows if row.cluster.id in rows) == len(digest.rows)


def test_a_digest_says_what_it_could_not_see_escaped_and_within_limits() -> None:
    items = [DigestInput(cluster(), report(FreshnessState.FRESH, 3), None)]
    warnings = [f"folder b1g{i} could not be listed: <!here> denied" for i in range(8)]
    message = top_of(digest_of(items), warnings=warnings).top
    assert_no_broadcast(message)
    text = all_text([message])
    assert ":warning: *Not in this digest:* folder b1g0 could not be listed: &lt;!here&gt;" in text
    assert "b1g1" in text
    assert "b1g2" not in text
    assert "and 6 more" in text


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
