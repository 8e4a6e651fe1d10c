"""The watcher's messages: valid Block Kit within Slack's limits, escaped, and saying the right
thing in each state."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.alerts.messages import (
    TOP_ROWS,
    DigestMessages,
    console_backups_url,
    flatten_digest,
    render_alert,
    render_digest,
    render_reminder,
    render_resolved,
    render_retired,
    render_self_alert,
    render_status,
)
from bot.alerts.model import AlertEntry, AlertStatus
from bot.alerts.policy import acknowledge, evaluate, snooze
from bot.cloud.models import Backup, Cluster, Environment
from bot.commands.messages import STATUS_NEXT_PAGE_ACTION
from bot.config import AlertRoute
from bot.digest.model import ClusterFigures, Digest, DigestInput, build_digest
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.i18n.units import format_bytes, format_signed, format_signed_bytes
from bot.slack.message import (
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_TEXT,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
    Message,
)

NOW = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
CONSOLE = "https://console.yandex.cloud"
MAX_AGE = MaxAge(timedelta(hours=26), MaxAgeSource.SCHEDULE, "daily at 03:00 UTC")
ROUTE = AlertRoute(channel="C0ONCALL", mention=["S0ONCALL", "U0LEAD"], repeat=timedelta(hours=4))
KEY = "alert:C0ONCALL:44136fa3"
GIB = 1024**3
HOSTILE = "<!channel> & <@U0BOSS> <https://evil.example|click> *bold* `tick`"
BROADCASTS = re.compile(r"<!(channel|here|everyone)>|<@U0BOSS>|<https://evil")


# --- what every message must be ----------------------------------------------------------------


def texts_of(value: Any) -> list[str]:
    """Every ``text`` string in a block tree."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(texts_of(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(texts_of(item))
    return found


def assert_valid(message: Message) -> None:
    """Slack's block models accept every block unchanged, and the message is within limits."""
    assert message.text.strip(), "every message needs a plain-text fallback"
    assert 0 < len(message.blocks) <= MAX_BLOCKS
    for block in message.blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict() == block  # validates, and nothing was dropped or renamed
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= MAX_SECTION_TEXT
            fields = block.get("fields", [])
            assert len(fields) <= MAX_SECTION_FIELDS
            assert all(len(f["text"]) <= MAX_FIELD_TEXT for f in fields)
        elif block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER_TEXT
        elif block["type"] == "context":
            assert len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
        elif block["type"] == "actions":
            for element in block["elements"]:
                assert len(element["value"]) <= MAX_BUTTON_VALUE
                assert len(element["text"]["text"]) <= MAX_BUTTON_TEXT
    total = len(message.text) + sum(len(t) for t in texts_of(message.blocks))
    assert total <= MAX_MESSAGE_TEXT
    json.dumps(message.payload())


def assert_no_broadcast(message: Message) -> None:
    for text in [message.text, *texts_of(message.blocks)]:
        assert not BROADCASTS.search(text), text


# --- builders ----------------------------------------------------------------------------------


def cluster(name: str = "orders-prod", **fields: Any) -> Cluster:
    data: dict[str, Any] = {
        "id": "c9qcluster000000001",
        "folder_id": "b1gfolder0000000001",
        "name": name,
        "environment": Environment.PRODUCTION,
        "labels": {"tier": "critical"},
    }
    data.update(fields)
    return Cluster(**data)


def backup(backup_id: str, hours_ago: float, size: int = 10 * GIB) -> Backup:
    return Backup(
        id=backup_id,
        created_at=NOW - timedelta(hours=hours_ago),
        size_bytes=size,
        indices_total=42,
    )


def report(state: FreshnessState, hours_ago: float | None = 30, **kw: Any) -> FreshnessReport:
    at = NOW - timedelta(hours=hours_ago) if hours_ago is not None else None
    return FreshnessReport(
        cluster_id="c9qcluster000000001",
        state=state,
        max_age=MAX_AGE,
        newest_backup_id="b-0001" if at else None,
        newest_backup_at=at,
        age=NOW - at if at else None,
        **kw,
    )


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


def all_text(messages: list[Message]) -> str:
    return "\n".join(t for m in messages for t in texts_of(m.blocks))


# --- units and links ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (10 * 1024**2 + 300 * 1024, "10.3 MiB"),
        (123 * GIB, "123 GiB"),
        (1023 * 1024**2 + 1000 * 1024, "1 GiB"),
        (5 * 1024**4, "5 TiB"),
    ],
)
def test_sizes_are_shown_in_binary_units(size: int, text: str) -> None:
    assert format_bytes(size) == text


def test_changes_are_signed() -> None:
    assert format_signed_bytes(2 * GIB) == "+2 GiB"
    assert format_signed_bytes(-1536) == "-1.5 KiB"
    assert format_signed_bytes(0) == "±0 B"
    assert (format_signed(3), format_signed(-2), format_signed(0)) == ("+3", "-2", "±0")


@given(st.integers(min_value=0, max_value=2**63))
def test_any_size_has_at_most_four_digits_and_a_unit(size: int) -> None:
    number, unit = format_bytes(size).split(" ")
    assert unit in {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
    assert unit == "EiB" or float(number) < 1024


def test_the_console_link_points_at_the_clusters_backups() -> None:
    assert console_backups_url(CONSOLE + "/", "b1gf", "c9qc") == (
        "https://console.yandex.cloud/folders/b1gf/managed-opensearch/cluster/c9qc/backups"
    )
    assert "%3C" in console_backups_url(CONSOLE, "b1g<x>", "c9q")


# --- the digest --------------------------------------------------------------------------------


def top_of(digest: Digest, **kw: Any) -> DigestMessages:
    """The digest rendered, every message checked against Slack's limits."""
    rendered = render_digest(digest, title=kw.pop("title", "Backups"), console_url=CONSOLE, **kw)
    for message in rendered.messages():
        assert_valid(message)
    return rendered


def cluster_ids(messages: list[Message]) -> list[str]:
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
    assert flatten_digest(rendered) == [rendered.top, *rendered.thread]


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


def test_many_long_hostile_labels_are_cut_to_fit_the_field_and_counted() -> None:
    labels = {f"<k{i:02d}>" + "&" * 60: "<!channel>" * 6 for i in range(14)}
    message = alert(firing(), cluster=cluster(labels=labels))
    [field] = [
        f["text"] for b in message.blocks for f in b.get("fields", []) if "*Labels*" in f["text"]
    ]
    # Each label escaped is over 300 characters: ten of them whole would be over 3,000.
    assert len(field) <= MAX_FIELD_TEXT
    assert field.count("`") // 2 == 10
    assert field.endswith(" and 4 more")
    assert "&lt;k00&gt;" in field
    assert_no_broadcast(message)


# --- status: the digest view, paged ------------------------------------------------------------


def status_pages(digest: Digest, target: str | None = None) -> list[Message]:
    """Every page of a status answer, following its Next page buttons to the end."""
    pages, offset = [], 0
    while True:
        page = render_status(
            digest, title="Backups status", console_url=CONSOLE, target=target, offset=offset
        )
        assert_valid(page)
        pages.append(page)
        buttons = [e for b in page.blocks if b["type"] == "actions" for e in b["elements"]]
        if not buttons:
            return pages
        [button] = buttons
        assert button["action_id"] == STATUS_NEXT_PAGE_ACTION
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
    page = render_status(digest_of(many(3)), title="S", console_url=CONSOLE, offset=40)
    assert_valid(page)
    assert "the fleet changed since the first page" in all_text([page])
    assert not any(b["type"] == "actions" for b in page.blocks)


# --- the alert ---------------------------------------------------------------------------------


def firing(rep: FreshnessReport | None = None) -> AlertEntry:
    decision = evaluate(
        None, rep or report(FreshnessState.STALE), route=ROUTE, route_key=KEY, now=NOW
    )
    return replace(decision.entry, message_ts="1741933800.000100")


def alert(entry: AlertEntry, rep: FreshnessReport | None = None, **kw: Any) -> Message:
    message = render_alert(
        entry,
        cluster=kw.get("cluster", cluster()),
        report=rep or report(FreshnessState.STALE),
        route=ROUTE,
        console_url=CONSOLE,
        now=NOW,
    )
    assert_valid(message)
    return message


def action_ids(message: Message) -> list[str]:
    return [
        element["action_id"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_a_firing_alert_mentions_on_call_and_offers_every_button() -> None:
    message = alert(firing())
    headline = message.blocks[0]["text"]["text"]
    assert headline.startswith(":rotating_light: *FIRING* <!subteam^S0ONCALL> <@U0LEAD>")
    assert "|orders-prod>*: the newest backup is 1d 6h old; the maximum is 1d 2h" in headline
    assert "<!subteam^S0ONCALL>" in message.text
    fields = all_text([message])
    assert "PRODUCTION" in fields
    assert "`b1gfolder0000000001`" in fields
    assert "`b-0001`" in fields
    assert "snapshot schedule daily at 03:00 UTC, plus grace" in fields
    assert action_ids(message) == [
        "alert_ack",
        "alert_snooze_4h",
        "alert_snooze_24h",
        "alert_list",
        "alert_backup",
    ]


def test_every_button_carries_the_cluster_and_the_route() -> None:
    message = alert(firing())
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    for element in actions["elements"]:
        assert json.loads(element["value"]) == {"c": "c9qcluster000000001", "r": KEY}
    backup_button = actions["elements"][-1]
    assert backup_button["confirm"]["confirm"]["text"] == "Start backup"
    assert "orders-prod" in backup_button["confirm"]["text"]["text"]


def test_an_acknowledged_alert_says_who_and_stops_mentioning() -> None:
    entry = acknowledge(firing(), user="U0ALICE", now=NOW).entry
    message = alert(entry)
    headline = message.blocks[0]["text"]["text"]
    assert headline.startswith(":eyes: *ACKNOWLEDGED* by <@U0ALICE>")
    assert "subteam" not in message.text + all_text([message])
    assert "alert_ack" not in action_ids(message)
    assert "alert_snooze_4h" in action_ids(message)


def test_a_snoozed_alert_says_until_when_in_the_readers_time_zone() -> None:
    entry = snooze(firing(), until=NOW + timedelta(hours=4), user="U0BOB", now=NOW).entry
    headline = alert(entry).blocks[0]["text"]["text"]
    stamp = int((NOW + timedelta(hours=4)).timestamp())
    assert f"*SNOOZED* until <!date^{stamp}^" in headline
    assert "|2025-03-14 10:30 UTC>" in headline
    assert "by <@U0BOB>" in headline


def test_a_resolved_alert_has_no_buttons_and_no_mentions() -> None:
    rep = report(FreshnessState.FRESH, 1)
    entry = evaluate(firing(), rep, route=ROUTE, route_key=KEY, now=NOW).entry
    message = alert(entry, rep)
    assert entry.status == AlertStatus.RESOLVED
    assert message.blocks[0]["text"]["text"].startswith(":white_check_mark: *RESOLVED*")
    assert "a fresh backup landed" in message.blocks[0]["text"]["text"]
    assert action_ids(message) == []
    assert "subteam" not in message.text + all_text([message])


def test_an_alert_for_a_cluster_never_backed_up_says_so() -> None:
    rep = report(FreshnessState.NEVER, None)
    message = alert(firing(rep), rep)
    assert "has no backup at all" in message.blocks[0]["text"]["text"]
    assert "*Newest backup*\nnone" in all_text([message])


def test_an_alert_escapes_hostile_names_and_labels() -> None:
    hostile = cluster(HOSTILE, labels={"<!here>": "<!channel>"})
    message = alert(firing(), cluster=hostile)
    assert_no_broadcast(message)
    text = all_text([message])
    assert "&lt;!channel&gt;" in text
    assert "&lt;!here&gt;" in text
    assert "<!channel>" not in text


# --- thread replies and the bot itself ---------------------------------------------------------


def test_a_reminder_says_how_long_it_has_been_stale() -> None:
    message = render_reminder(
        firing(), cluster=cluster(), report=report(FreshnessState.STALE, 34), now=NOW
    )
    assert_valid(message)
    assert "*orders-prod* still has no fresh backup: the newest is 1d 10h old" in message.text
    # Stale since 30 h - 26 h = 4 h before NOW.
    assert "stale for 4h" in message.text


def test_a_reminder_can_mention_on_call_and_escapes_names() -> None:
    message = render_reminder(
        firing(),
        cluster=cluster(HOSTILE),
        report=report(FreshnessState.NEVER, None),
        now=NOW,
        mention_ids=["S0ONCALL"],
    )
    assert_valid(message)
    assert_no_broadcast(message)
    assert "still has no backup at all" in message.text
    assert message.text.endswith("<!subteam^S0ONCALL>")


def test_the_resolved_notice_says_when_the_fresh_backup_landed_and_how_long_it_took() -> None:
    landed = NOW + timedelta(hours=20)
    rep = FreshnessReport(
        cluster_id="c9qcluster000000001",
        state=FreshnessState.FRESH,
        max_age=MAX_AGE,
        newest_backup_id="b-0002",
        newest_backup_at=landed,
        age=timedelta(minutes=20),
    )
    later = landed + timedelta(minutes=20)
    entry = evaluate(firing(), rep, route=ROUTE, route_key=KEY, now=later).entry
    message = render_resolved(entry, cluster=cluster(), report=rep, now=later)
    assert_valid(message)
    assert message.text.startswith(":white_check_mark: Resolved: a fresh backup landed at <!date^")
    assert "(`b-0002`)" in message.text
    assert "*orders-prod* went without a fresh backup for 1d" in message.text


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (FreshnessState.STOPPED, "Resolved: cluster stopped"),
        (FreshnessState.UNSCHEDULED, "snapshot schedule of *orders-prod* was removed"),
    ],
)
def test_the_resolved_notice_says_why_when_it_is_not_a_fresh_backup(
    state: FreshnessState, words: str
) -> None:
    rep = report(state)
    entry = evaluate(firing(), rep, route=ROUTE, route_key=KEY, now=NOW).entry
    message = render_resolved(entry, cluster=cluster(), report=rep, now=NOW)
    assert_valid(message)
    assert words in message.text
    assert "fresh backup landed" not in message.text


def test_the_self_alert_says_how_many_sweeps_failed_and_since_when() -> None:
    message = render_self_alert(3, NOW - timedelta(minutes=45), "timeout <!channel>", NOW)
    assert_valid(message)
    assert_no_broadcast(message)
    assert "could not read the cloud for 3 sweeps" in message.text
    body = all_text([message])
    assert "(45m ago)" in body
    assert "timeout &lt;!channel&gt;" in body


def test_the_self_alert_before_any_success_says_so() -> None:
    message = render_self_alert(1, None, "refused", NOW)
    assert_valid(message)
    assert "1 sweep in a row" in message.text
    assert "No sweep has succeeded" in all_text([message])


def test_a_retired_incident_says_the_cluster_is_no_longer_watched_and_escapes_its_id() -> None:
    entry = AlertEntry(
        cluster_id="<!channel>&x",
        route_key="alert:C1:x",
        status=AlertStatus.RESOLVED,
        opened_at=NOW - timedelta(hours=5),
        stale_since=NOW - timedelta(hours=6),
        resolved_at=NOW,
    )
    message = render_retired(entry, now=NOW)
    assert_valid(message)
    assert_no_broadcast(message)
    assert "no longer watched" in message.text
    assert "had gone without a fresh backup for 6h." in message.text
    assert "&lt;!channel&gt;&amp;x" in message.text


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
