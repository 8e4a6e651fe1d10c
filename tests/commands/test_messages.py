"""Command replies: valid Block Kit within Slack's limits, escaped cloud text, the right words."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.backup import messages as backup_messages
from bot.cloud.models import Backup, Cluster, ListPosition
from bot.commands import messages as rc
from bot.commands.access import authorize
from bot.config import Access, AccessRule
from bot.errors import (
    AccessDenied,
    AuthError,
    BadRequest,
    CloudAPIError,
    CloudRequestError,
    CloudTimeout,
    ConfigError,
    InvalidArgument,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unauthenticated,
    UsageError,
)
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.queries import messages as queries
from bot.queries.actions import LIST_NEXT_PAGE
from bot.queries.messages import ClusterRow
from bot.slack.blocks import SLACK
from bot.slack.budget import MAX_BLOCK_TEXT, block_text_length
from tests.slack.payload import Payload as Message
from tests.slack.payload import slack

NOW = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
EVIL = "<!channel> & <@U0BOSS> > `x`"


# --- the replies as Slack gets them, packed within its limits -----------------------------------


def render_help(topic: str | None = None) -> Message:
    return slack(rc.render_help(topic))


def render_backup_list(*args: Any, **kw: Any) -> Message:
    return slack(queries.render_backup_list(*args, limits=SLACK.limits, **kw))


def render_backup(*args: Any, **kw: Any) -> Message:
    return slack(queries.render_backup(*args, limits=SLACK.limits, **kw))


def render_folder_backups(*args: Any, **kw: Any) -> Message:
    return slack(queries.render_folder_backups(*args, limits=SLACK.limits, **kw))


def render_clusters(*args: Any, **kw: Any) -> Message:
    return slack(queries.render_clusters(*args, limits=SLACK.limits, **kw))


def render_error(*args: Any, **kw: Any) -> Message:
    return slack(rc.render_error(*args, **kw))


def render_ack(text: str) -> Message:
    return slack(rc.render_ack(text))


def render_backup_confirm(label: str, cluster_id: str) -> Message:
    return slack(backup_messages.render_backup_confirm(label, cluster_id))


# --- validation ---------------------------------------------------------------------------------


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("text", "value") and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def assert_valid(message: Message) -> None:
    """Every block parses with slack_sdk's models and the message is within Slack's limits."""
    payload = message.payload()
    blocks = payload.get("blocks", [])
    assert message.text
    assert len(blocks) <= 50
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None, raw
        parsed.to_dict()  # runs slack_sdk's validators; raises SlackObjectFormationError
        if raw["type"] == "section":
            if "text" in raw:
                assert len(raw["text"]["text"]) <= 3000
            assert len(raw.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in raw.get("fields", []))
        if raw["type"] == "actions":
            for element in raw["elements"]:
                assert len(element.get("value", "")) <= 2000
                assert len(element["text"]["text"]) <= 75
        if raw["type"] == "context":
            assert len(raw["elements"]) <= 10
    assert len(message.text) + sum(len(t) for t in _texts(blocks)) <= 40000


_OURS = re.compile(r"^(!date\^\d+\^[^|]*\|[^<>]*|@U\w+|!subteam\^S\w+|#C\w+)$")


def assert_escaped(message: Message) -> None:
    """No raw &, < or > from outside: only entities and the control sequences we make."""
    for text in [message.text, *_texts(message.blocks)]:
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text
        for inner in re.findall(r"<([^>]*)>", text):
            assert _OURS.match(inner), inner
        assert "<!channel>" not in text


def _backup(i: int, **kw: Any) -> Backup:
    started = NOW - timedelta(days=i, hours=6)
    fields: dict[str, Any] = {
        "id": f"c9qcluster0001:snapshot-{i:04d}",
        "folder_id": "b1gfolder",
        "source_cluster_id": "c9qcluster0001",
        "started_at": started,
        "created_at": started + timedelta(minutes=12),
        "indices": tuple(f"logs-{i}-{n}" for n in range(5)),
        "opensearch_version": "2.11.0",
        "size_bytes": 1_610_612_736 + i,
        "indices_total": 5,
        "incremental_size_bytes": 1024**2 * 120,
        "total_size_bytes": 1024**3 * 30,
        "free_space_required_bytes": 1024**3 * 2,
    }
    fields.update(kw)
    return Backup(**fields)


def _long_names(i: int) -> tuple[str, ...]:
    return tuple(f"{'index-' + str(n) + '-':x<255}"[:255] for n in range(100))


# --- help ---------------------------------------------------------------------------------------


def test_help_lists_every_command_with_examples() -> None:
    message = render_help()
    assert_valid(message)
    text = "\n".join(_texts(message.blocks))
    for name in ("list", "get", "folder", "clusters", "status", "snooze", "unsnooze", "backup"):
        assert f"/backups {name}" in text
    assert "&lt;cluster&gt;" in text  # placeholders show as typed
    assert "Examples" in text


@pytest.mark.parametrize("topic", ["list", "get", "snooze", "help", "nonsense", None])
def test_help_on_a_topic_shows_its_usage_and_examples(topic: str | None) -> None:
    message = render_help(topic)
    assert_valid(message)
    assert_escaped(message)
    if topic == "list":
        assert "--limit" in message.blocks[0]["text"]["text"]


# --- list ---------------------------------------------------------------------------------------


def test_a_list_shows_each_backup_newest_first_with_every_column() -> None:
    backups = [_backup(2), _backup(0), _backup(1)]
    message = render_backup_list(
        "logs-prod", backups, now=NOW, cluster_id="c9qcluster0001", limit=3
    )
    assert_valid(message)
    text = "\n".join(_texts(message.blocks))
    positions = [text.index(f"snapshot-{i:04d}") for i in range(3)]
    assert positions == sorted(positions)
    for column in ("took 12m", "1.5 GiB", "5 indices", "OpenSearch 2.11.0", "finished"):
        assert column in text
    assert "2024-05-02 03:00 UTC" in text  # the started time's fallback
    assert "(5h 48m ago)" in text
    assert not any(b["type"] == "actions" for b in message.blocks)
    assert (
        message.text == "Backups of logs-prod: 3 backups, newest 2024-05-02 03:12 UTC (5h 48m ago)."
    )


def test_ties_on_created_at_are_ordered_by_id_and_undated_backups_come_last() -> None:
    same = NOW - timedelta(hours=1)
    backups = [
        _backup(0, id="b-undated", created_at=None),
        _backup(1, id="b-a", created_at=same),
        _backup(2, id="b-c", created_at=same),
        _backup(3, id="b-b", created_at=same),
    ]
    message = render_backup_list("logs", backups, now=NOW, cluster_id="c1", limit=4)
    text = "\n".join(_texts(message.blocks))
    order = sorted(["b-undated", "b-a", "b-b", "b-c"], key=text.index)
    assert order == ["b-c", "b-b", "b-a", "b-undated"]


def test_a_list_with_more_has_a_next_page_button_holding_the_last_rows_place() -> None:
    message = render_backup_list(
        "logs-prod",
        [_backup(1), _backup(0)],
        now=NOW,
        cluster_id="c9qcluster0001",
        limit=2,
        more=True,
        first=3,
        total=9,
    )
    assert_valid(message)
    (button,) = message.blocks[-1]["elements"]
    assert button["action_id"] == LIST_NEXT_PAGE.id == "list_next_page"
    assert button["text"]["text"] == "Next page"
    value = json.loads(button["value"])
    assert value == {"c": "c9qcluster0001", "p": ListPosition.of(_backup(1)).encode(), "l": 2}
    assert ListPosition.decode(value["p"]) == ListPosition.of(_backup(1))
    footer = message.blocks[-2]["elements"][0]["text"]
    assert "3–4 of 9" in footer


def test_the_last_page_has_no_button() -> None:
    message = render_backup_list(
        "logs", [_backup(0)], now=NOW, cluster_id="c1", limit=1, more=False, first=9, total=9
    )
    assert not any(b["type"] == "actions" for b in message.blocks)
    assert "9–9 of 9" in message.blocks[-1]["elements"][0]["text"]


def test_a_position_too_long_for_a_button_is_explained_instead() -> None:
    message = render_backup_list(
        "c", [_backup(0, id="b" * 3000)], now=NOW, cluster_id="c", limit=1, more=True
    )
    assert_valid(message)
    assert not any(b["type"] == "actions" for b in message.blocks)
    assert "too long for a button" in message.blocks[-1]["elements"][0]["text"]


def test_an_empty_list_says_so() -> None:
    message = render_backup_list("logs", [], now=NOW, cluster_id="c", limit=10)
    assert_valid(message)
    assert "has no backups yet" in message.text
    later = render_backup_list("logs", [], now=NOW, cluster_id="c", limit=10, first=11, total=10)
    assert "No more backups" in "\n".join(_texts(later.blocks))


def test_backups_the_cloud_sent_unreadable_are_counted_and_a_notice_is_shown() -> None:
    message = render_backup_list(
        "logs", [_backup(0)], now=NOW, cluster_id="c", limit=10, skipped=2, notice=EVIL
    )
    assert_valid(message)
    assert_escaped(message)
    text = "\n".join(_texts(message.blocks))
    assert "2 sent by the cloud could not be read" in text
    assert message.blocks[0]["type"] == "context"


def test_a_hundred_backups_keep_to_slacks_block_text_budget_and_count_the_rest() -> None:
    backups = [_backup(i, indices=_long_names(i), indices_total=100) for i in range(100)]
    message = render_backup_list(
        "logs-prod", backups, now=NOW, cluster_id="c" * 50, limit=100, more=True
    )
    assert_valid(message)
    assert block_text_length(message.blocks) <= MAX_BLOCK_TEXT
    text = "\n".join(_texts(message.blocks))
    shown = [i for i in range(100) if f"`c9qcluster0001:snapshot-{i:04d}`" in text]
    assert 0 < len(shown) < 100  # 100 rows are ~28,000 characters: more than Slack takes
    assert f"{len(shown)} backups shown" in text
    assert f"{100 - len(shown)} more on this page did not fit" in text


def test_rows_that_cannot_all_fit_are_dropped_whole_and_the_button_starts_with_them() -> None:
    backups = [
        _backup(i, id="&" * 97 + f"{i:03d}", opensearch_version="&" * 500) for i in range(100)
    ]
    message = render_backup_list(EVIL, backups, now=NOW, cluster_id="c1", limit=100)
    assert_valid(message)
    # The button value is data, not mrkdwn; everything else must be escaped.
    assert_escaped(Message(message.text, [b for b in message.blocks if b["type"] != "actions"]))
    footer = message.blocks[-2]["elements"][0]["text"]
    shown = int(re.search(r"(\d+) backups shown", footer).group(1))  # type: ignore[union-attr]
    assert 0 < shown < 100
    assert f"{100 - shown} more on this page did not fit" in footer
    rows = "\n".join(_texts(message.blocks)).count("· finished ")
    assert rows == shown
    # No more pages, but the rows that did not fit still need a way to be seen.
    (button,) = message.blocks[-1]["elements"]
    after = ListPosition.decode(json.loads(button["value"])["p"])
    assert after == ListPosition.of(backups[shown - 1])


# --- get ----------------------------------------------------------------------------------------


def test_a_backup_shows_every_size_field_and_its_index_names() -> None:
    message = render_backup(_backup(0), now=NOW)
    assert_valid(message)
    fields = {
        f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in message.blocks[1]["fields"]
    }
    assert fields["*Size*"] == "1.5 GiB"
    assert fields["*Incremental size*"] == "120 MiB"
    assert fields["*Total size*"] == "30 GiB"
    assert fields["*Free space required*"] == "2 GiB"
    assert fields["*Duration*"] == "12m"
    assert fields["*OpenSearch*"] == "2.11.0"
    assert fields["*Indices*"] == "5"
    text = "\n".join(_texts(message.blocks))
    for n in range(5):
        assert f"`logs-0-{n}`" in text


def test_a_backup_with_a_hundred_long_index_names_is_split_across_sections() -> None:
    message = render_backup(_backup(0, indices=_long_names(0), indices_total=250), now=NOW)
    assert_valid(message)
    assert block_text_length(message.blocks) <= MAX_BLOCK_TEXT
    text = "\n".join(_texts(message.blocks))
    assert "100 of 250" in text
    shown = sum(1 for name in _long_names(0) if f"`{name}`" in text)
    assert shown > 0
    assert f"{100 - shown} more index names did not fit" in text
    assert sum(1 for b in message.blocks if b["type"] == "section") > 3


def test_index_names_that_cannot_all_fit_are_counted() -> None:
    names = tuple("&" * 254 + str(n % 10) for n in range(100))
    message = render_backup(_backup(0, indices=names, indices_total=100), now=NOW)
    assert_valid(message)
    assert_escaped(message)
    assert "more index names did not fit" in message.blocks[-1]["elements"][0]["text"]


def test_a_backup_without_index_names_says_so() -> None:
    message = render_backup(Backup(id="b1"), now=NOW)
    assert_valid(message)
    assert "no index names" in message.blocks[-1]["elements"][0]["text"]


# --- folder -------------------------------------------------------------------------------------


def test_a_folder_groups_backups_by_cluster() -> None:
    groups = [("logs-prod", [_backup(1), _backup(0)]), ("empty", [])]
    message = render_folder_backups("b1gfolder", groups, now=NOW, truncated=False)
    assert_valid(message)
    text = "\n".join(_texts(message.blocks))
    assert text.index("*logs-prod*") < text.index("snapshot-0000") < text.index("snapshot-0001")
    assert "*empty* · no backups" in text
    assert message.text == "Backups in folder b1gfolder: 2 clusters, 2 backups."


def test_a_huge_folder_shows_the_newest_few_of_each_cluster_and_says_how_many_more() -> None:
    groups = [(f"cluster-{c}", [_backup(i) for i in range(100)]) for c in range(8)]
    message = render_folder_backups("b1gfolder", groups, now=NOW, truncated=True)
    assert_valid(message)
    text = "\n".join(_texts(message.blocks))
    for c in range(8):
        assert f"*cluster-{c}*" in text
    assert re.search(r"_and \d+ older_", text)
    assert "I read the first" in text
    assert "in no particular order" in text


def test_a_folder_with_too_many_clusters_says_how_many_were_left_out() -> None:
    groups = [(f"cluster-{c}", [_backup(0)]) for c in range(200)]
    message = render_folder_backups("b1gfolder", groups, now=NOW, truncated=False)
    assert_valid(message)
    assert "more clusters did not fit" in message.blocks[-1]["elements"][0]["text"]


def test_an_empty_folder_says_so() -> None:
    message = render_folder_backups("b1gfolder", [], now=NOW, truncated=False)
    assert_valid(message)
    assert "No backups" in message.text


# --- clusters -----------------------------------------------------------------------------------


def _row(i: int, state: FreshnessState, *, name: str | None = None, reason: str = "") -> ClusterRow:
    newest = NOW - timedelta(hours=3 + i) if state is FreshnessState.FRESH else None
    report = FreshnessReport(
        cluster_id=f"c9q{i:04d}",
        state=state,
        max_age=MaxAge(timedelta(hours=26), MaxAgeSource.SCHEDULE, "daily at 03:00 UTC"),
        newest_backup_at=newest,
        age=(NOW - newest) if newest else None,
        reason=reason,
    )
    return ClusterRow(Cluster(id=f"c9q{i:04d}", name=name or f"cluster-{i}"), report)


def test_clusters_show_state_newest_backup_and_age_with_problems_first() -> None:
    rows = [
        _row(0, FreshnessState.FRESH),
        _row(1, FreshnessState.STALE),
        _row(2, FreshnessState.NEVER),
        _row(3, FreshnessState.UNKNOWN, reason="the cloud timed out"),
        _row(4, FreshnessState.STOPPED),
        _row(5, FreshnessState.UNSCHEDULED),
    ]
    message = render_clusters("folder b1gfolder", rows, now=NOW)
    assert_valid(message)
    text = message.blocks[0]["text"]["text"]
    lines = text.split("\n")[1:]
    # The one worst-first order of every view (bot.digest.model.worst_first_key).
    assert [line.split("*")[1] for line in lines] == [
        "cluster-3",
        "cluster-2",
        "cluster-1",
        "cluster-4",
        "cluster-5",
        "cluster-0",
    ]
    assert "fresh · newest" in lines[-1]
    assert "(3h ago, max 1d 2h)" in lines[-1]
    assert "unknown · the cloud timed out" in lines[0]
    summary = message.blocks[-1]["elements"][0]["text"]
    assert summary.startswith("6 clusters: 1 unknown, 1 never backed up, 1 stale")
    assert not any(b["type"] == "actions" for b in message.blocks)  # one page holds them all


def test_hundreds_of_clusters_stay_within_limits_with_a_next_page_button() -> None:
    rows = [_row(i, FreshnessState.FRESH, name="x" * 200) for i in range(500)]
    message = render_clusters("everything", rows, now=NOW)
    assert_valid(message)
    assert block_text_length(message.blocks) <= MAX_BLOCK_TEXT
    note = message.blocks[-2]["elements"][0]["text"]
    shown = len(re.findall(r"`c9q\d{4}`", json.dumps(message.blocks)))
    assert f"rows 1–{shown} of 500" in note
    assert f"{500 - shown} more: *Next page*" in note
    [button] = message.blocks[-1]["elements"]
    assert button["action_id"] == "clusters_next_page"
    assert json.loads(button["value"]) == {"t": None, "o": shown}


def test_no_clusters_says_so() -> None:
    message = render_clusters("folder b1g", [], now=NOW)
    assert_valid(message)
    assert message.text == "No clusters in folder b1g."


# --- errors -------------------------------------------------------------------------------------


def _error_text(message: Message) -> str:
    return "\n".join(_texts(message.blocks))


@pytest.mark.parametrize(
    ("err", "expected"),
    [
        (
            UsageError(
                "`list` needs a cluster id or name.", hint="Type `/backups list <cluster>`."
            ),
            ":warning: `list` needs a cluster id or name.\nType `/backups list &lt;cluster&gt;`.",
        ),
        (
            InvalidArgument("The cluster id is 57 characters long; at most 50."),
            ":warning: The cluster id is 57 characters long; at most 50.",
        ),
        (
            NotFound(404, 'Cluster "c9q1" not found'),
            ':warning: I can\'t find that (the cloud says: Cluster "c9q1" not found).',
        ),
        (
            PermissionDenied(403, "Permission denied"),
            ":no_entry: The bot's service account may not read this "
            "(the cloud says: Permission denied).",
        ),
        (CloudTimeout("timed out after 10s"), ":cloud: The cloud did not answer in time."),
        (CloudRequestError("connection refused"), ":cloud: I can't reach the cloud right now."),
        (Unauthenticated(401, "bad token"), ":cloud: I can't sign in to Yandex Cloud right now."),
        (AuthError("key file"), ":cloud: I can't sign in to Yandex Cloud right now."),
        (RateLimited(429, "slow down"), ":cloud: The cloud is asking me to slow down."),
        (ServerError(503, "unavailable"), ":cloud: The cloud had an error (HTTP 503)."),
        (
            BadRequest(400, "pageSize too big"),
            ":cloud: The cloud refused the request (the cloud says: pageSize too big).",
        ),
        (
            CloudAPIError(409, "conflict"),
            ":cloud: The cloud answered with an error (HTTP 409; the cloud says: conflict).",
        ),
        (MalformedResponse("not json"), ":cloud: The cloud sent an answer I don't understand."),
        (ConfigError("x.yaml:3: bad"), ":boom: The bot's configuration is wrong: x.yaml:3: bad"),
        (AccessDenied("You may not."), ":no_entry: You may not."),
    ],
)
def test_typed_errors_say_what_happened(err: BaseException, expected: str) -> None:
    message = render_error(err)
    assert_valid(message)
    assert message.blocks[0]["text"]["text"].startswith(expected)


def test_cloud_unreachable_errors_say_to_try_again() -> None:
    for err in (CloudTimeout("t"), CloudRequestError("r"), ServerError(502, "bad gateway")):
        assert "Try again in a minute." in render_error(err).blocks[0]["text"]["text"]


def test_not_found_names_what_was_looked_for() -> None:
    message = render_error(NotFound(404, "not found", request_id="req-1"), subject="cluster `x`")
    assert_valid(message)
    assert message.blocks[0]["text"]["text"].startswith(
        ":warning: I can't find cluster `x` (the cloud says: not found)."
    )
    assert message.blocks[1]["elements"][0]["text"] == "cloud request id `req-1`"


def test_not_found_offers_the_closest_names_escaped() -> None:
    err = NotFound(404, "")
    err.suggestions = ("traces-prod", "<!channel>")
    message = render_error(err, subject="cluster `trace-prod`")
    assert_valid(message)
    text = str(message.blocks)
    assert "I can't find cluster `trace-prod`" in text
    assert "Did you mean `traces-prod`, `&lt;!channel&gt;`?" in text
    assert "<!channel>" not in text


def test_an_access_rule_refusal_mentions_who_may() -> None:
    access = Access(rules=[AccessRule(commands=["backup"], usergroups=["S0ONCALL"])])
    with pytest.raises(AccessDenied) as info:
        authorize("backup", user_id="U1", channel_id="C1", user_groups=frozenset(), access=access)
    message = render_error(info.value)
    assert_valid(message)
    assert message.blocks[0]["text"]["text"].startswith(
        ":no_entry: Only members of <!subteam^S0ONCALL> may run `backup`."
    )
    assert "<!subteam" not in message.text  # the fallback notifies nobody


def test_an_unexpected_error_shows_only_its_id() -> None:
    err = RuntimeError("Traceback: secret=xoxb-123 at /app/bot.py line 3")
    message = render_error(err, correlation_id="abc123")
    assert_valid(message)
    everything = message.text + _error_text(message)
    assert "Something went wrong on my side (error id `abc123`)." in everything
    assert "xoxb" not in everything
    assert "Traceback" not in everything


def test_an_unexpected_error_without_an_id_still_answers() -> None:
    message = render_error(KeyError("x"))
    assert_valid(message)
    assert "Something went wrong on my side." in message.text


def test_a_huge_cloud_message_is_clipped() -> None:
    message = render_error(BadRequest(400, "x" * 100_000))
    assert_valid(message)
    assert len(message.blocks[0]["text"]["text"]) < 1000


# --- acks and confirmations ---------------------------------------------------------------------


def test_an_ack_is_one_short_section() -> None:
    message = render_ack("Snoozed alerts for `logs-prod` until 2024-05-02 13:00 UTC.")
    assert_valid(message)
    assert message.blocks[0]["text"]["text"] == (
        ":white_check_mark: Snoozed alerts for `logs-prod` until 2024-05-02 13:00 UTC."
    )


def test_a_backup_confirmation_has_start_and_cancel_buttons() -> None:
    message = render_backup_confirm("logs-prod", "c9qcluster0001")
    assert_valid(message)
    buttons = message.blocks[1]["elements"]
    assert [b["action_id"] for b in buttons] == ["backup_confirm", "backup_cancel"]
    assert all(b["value"] == "c9qcluster0001" for b in buttons)


# --- escaping everywhere cloud text appears -----------------------------------------------------


def test_cloud_text_is_escaped_in_every_reply() -> None:
    evil = _backup(
        0,
        id=EVIL,
        folder_id=EVIL,
        source_cluster_id=EVIL,
        opensearch_version=EVIL,
        indices=(EVIL, "a&b", "c>d"),
    )
    stale = FreshnessReport(
        cluster_id="c1",
        state=FreshnessState.UNKNOWN,
        max_age=MaxAge(timedelta(hours=1), MaxAgeSource.DEFAULT),
        reason=EVIL,
    )
    messages = [
        render_backup_list(EVIL, [evil], now=NOW, more=True, cluster_id=EVIL, limit=5),
        render_backup_list(EVIL, [], now=NOW, cluster_id=EVIL, limit=5, notice=EVIL),
        render_backup(evil, now=NOW),
        render_folder_backups(EVIL, [(EVIL, [evil]), (EVIL, [])], now=NOW, truncated=True),
        render_folder_backups(EVIL, [], now=NOW, truncated=False),
        render_clusters(EVIL, [ClusterRow(Cluster(id=EVIL, name=EVIL), stale)], now=NOW),
        render_clusters(EVIL, [], now=NOW),
        render_error(NotFound(404, EVIL, request_id=EVIL), subject=EVIL),
        render_error(PermissionDenied(403, EVIL)),
        render_error(BadRequest(400, EVIL)),
        render_error(UsageError(EVIL, hint=EVIL)),
        render_error(ConfigError(EVIL)),
        render_error(RuntimeError(EVIL), correlation_id=EVIL),
        render_ack(EVIL),
        render_backup_confirm(EVIL, "c1"),
    ]
    for message in messages:
        assert_valid(message)
        # The button value is data, not mrkdwn; everything else must be escaped.
        shown = Message(
            message.text,
            [b for b in message.blocks if b["type"] != "actions"],
        )
        assert_escaped(shown)


_cloud_text = st.text(max_size=120)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.builds(
            Backup,
            id=st.text(min_size=1, max_size=120),
            opensearch_version=_cloud_text,
            indices=st.lists(st.text(max_size=300), max_size=100).map(tuple),
            size_bytes=st.integers(min_value=0, max_value=2**63 - 1),
            indices_total=st.integers(min_value=0, max_value=10**6),
            started_at=st.none() | st.datetimes(timezones=st.just(UTC)),
            created_at=st.none() | st.datetimes(timezones=st.just(UTC)),
        ),
        max_size=100,
    ),
    _cloud_text,
    st.booleans(),
)
def test_any_page_of_backups_renders_within_limits(
    backups: list[Backup], label: str, more: bool
) -> None:
    message = render_backup_list(label, backups, now=NOW, more=more, cluster_id="c1", limit=100)
    assert_valid(message)
    assert_escaped(Message(message.text, [b for b in message.blocks if b["type"] != "actions"]))
    if backups:
        single = render_backup(backups[0], now=NOW)
        assert_valid(single)
        assert_escaped(single)
