"""The models read bodies as the proto3 JSON mapping allows them: each decision of
bot/cloud/models.py,
pinned by a test that fails if the decision changes (pure: no server, explicit values)."""

from __future__ import annotations

import copy
import json
import pickle
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.cloud.models import (
    INT64_MAX,
    INT64_MIN,
    Backup,
    Cluster,
    ClusterHealth,
    ClusterStatus,
    DecodeError,
    Environment,
    ListPosition,
    NodeGroup,
    Operation,
    VersionStatus,
    WeekDay,
    decode,
    decode_backup_page,
    decode_cluster_page,
    decode_operation_page,
    decode_policy_page,
    decode_version_page,
    newest_first,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def backup(body: dict[str, Any]) -> Backup:
    return decode(Backup, json.dumps({"id": "b1", **body}).encode())


def cluster(body: dict[str, Any]) -> Cluster:
    return decode(Cluster, json.dumps({"id": "c1", **body}).encode())


# --- int64 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("1099511627776", 1 << 40),
        (1099511627776, 1 << 40),
        (" 42 ", 42),
        ("+7", 7),
        ("-3", -3),
        (1e3, 1000),
        (5.0, 5),
        (str(INT64_MAX), INT64_MAX),
        (str(INT64_MIN), INT64_MIN),
    ],
)
def test_an_int64_is_read_from_a_string_or_a_number(sent: Any, read: int) -> None:
    assert backup({"sizeBytes": sent}).size_bytes == read


@pytest.mark.parametrize(
    ("sent", "why"),
    [
        (True, "boolean"),
        (False, "boolean"),
        ("true", "not a number"),
        ("1e3", "not a number"),
        ("1_000", "not a number"),
        ("١٢", "not a number"),  # Arabic-Indic digits: int() takes them, protobuf does not
        (1.5, "fraction"),
        (str(INT64_MAX + 1), "range"),
        (INT64_MIN - 1, "range"),
        ([1], "list"),
    ],
)
def test_an_int64_refuses_what_is_not_one(sent: Any, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        backup({"sizeBytes": sent})


def test_true_never_reads_as_1_in_any_integer_field() -> None:
    for field in ("sizeBytes", "indicesTotal", "incrementalSizeBytes", "totalSizeBytes"):
        with pytest.raises(DecodeError, match="boolean"):
            backup({field: True})
    with pytest.raises(DecodeError, match="boolean"):
        decode(Operation, b'{"id": "o1", "error": {"code": true}}')


# --- null and defaults ---------------------------------------------------------------------------


def test_null_reads_as_the_default_of_every_kind_of_field() -> None:
    got = backup(
        {
            "folderId": None,
            "sizeBytes": None,
            "indices": None,
            "createdAt": None,
            "opensearchVersion": None,
        }
    )
    assert (got.folder_id, got.size_bytes, got.indices, got.created_at) == ("", 0, (), None)
    assert got.opensearch_version == ""
    c = cluster({"labels": None, "status": None, "environment": None, "config": None})
    assert c.labels == {}
    assert c.status is ClusterStatus.STATUS_UNKNOWN
    assert c.environment is Environment.ENVIRONMENT_UNSPECIFIED
    assert c.config is None
    op = decode(Operation, b'{"id": "o1", "done": null, "error": null, "metadata": null}')
    assert (op.done, op.error, op.metadata) == (False, None, None)


def test_null_inside_a_message_reads_as_its_default_too() -> None:
    c = cluster(
        {"config": {"snapshotManagement": {"snapshotSchedule": None, "snapshotMaxAgeDays": None}}}
    )
    assert c.config is not None
    assert c.config.snapshot_management is not None
    assert c.config.snapshot_management.snapshot_max_age_days is None
    assert c.snapshot_schedule is None


def test_a_null_element_of_a_list_is_not_a_default() -> None:
    with pytest.raises(DecodeError, match="indices"):
        backup({"indices": ["a", None]})


def test_an_id_is_required_and_not_empty() -> None:
    with pytest.raises(DecodeError, match="id"):
        decode(Backup, b"{}")
    with pytest.raises(DecodeError, match="id"):
        decode(Backup, b'{"id": ""}')
    with pytest.raises(DecodeError, match="id"):
        decode(Cluster, b'{"id": null}')


def test_proto_field_names_are_read_as_well_as_json_names() -> None:
    got = decode(Backup, b'{"id": "b1", "source_cluster_id": "c1", "size_bytes": "5"}')
    assert (got.source_cluster_id, got.size_bytes) == ("c1", 5)


def test_unknown_fields_are_ignored() -> None:
    assert backup({"someFutureField": {"nested": [1]}}).id == "b1"


def test_a_body_that_is_not_a_json_object_is_a_decode_error() -> None:
    for body, why in ((b"<html>", "not JSON"), (b"[1]", "not an object"), (b'"x"', "object")):
        with pytest.raises(DecodeError, match=why):
            decode(Backup, body)


def test_an_empty_body_is_an_empty_object() -> None:
    assert decode_backup_page(b"").backups == ()
    assert decode(Operation, b'  {"id": "o"}').id == "o"


# --- timestamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("2026-11-20T10:00:00Z", T0),
        ("2026-11-20T13:00:00+03:00", T0),
        ("2026-11-20T10:00:00.123456789Z", T0.replace(microsecond=123456)),
        ("2026-11-20T10:00:00", T0),  # no offset: read as UTC
    ],
)
def test_a_timestamp_is_rfc3339_folded_into_utc(sent: str, read: datetime) -> None:
    got = backup({"createdAt": sent}).created_at
    assert got == read
    assert got is not None
    assert got.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("sent", "why"),
    [
        (1763632800, "number"),
        (1763632800.5, "number"),
        ("yesterday", "createdAt"),
        ("0001-01-01T00:00:00+03:00", "range"),
    ],
)
def test_a_timestamp_refuses_what_is_not_one(sent: Any, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        backup({"createdAt": sent})


# --- open enums ----------------------------------------------------------------------------------


def test_a_known_enum_name_or_number_gives_the_member() -> None:
    assert cluster({"status": "RUNNING"}).status is ClusterStatus.RUNNING
    assert cluster({"status": 2}).status is ClusterStatus.RUNNING
    assert cluster({"status": "2"}).status is ClusterStatus.RUNNING  # as protobuf reads it
    assert cluster({"environment": 2}).environment is Environment.PRESTABLE
    assert cluster({"health": 3}).health is ClusterHealth.DEGRADED


def test_an_unknown_enum_name_is_kept_as_sent_and_known_as_unknown() -> None:
    c = cluster({"status": "RESTORING", "health": "REBALANCING", "environment": "TESTING"})
    assert c.status == "RESTORING"
    assert c.status.value == "RESTORING"
    assert str(c.status) == "RESTORING"
    assert isinstance(c.status, ClusterStatus)
    assert not c.status.is_known
    assert c.status.number is None
    assert c.health == "REBALANCING"
    assert c.environment == "TESTING"
    assert c.environment != Environment.PRODUCTION


def test_an_unknown_enum_number_is_kept_as_its_number() -> None:
    c = cluster({"status": 42})
    assert c.status.value == "42"
    assert c.status.number == 42
    assert not c.status.is_known


def test_a_decision_on_an_unknown_status_takes_it_as_status_unknown() -> None:
    assert cluster({"status": "RESTORING"}).known_status is ClusterStatus.STATUS_UNKNOWN
    assert cluster({"status": "STOPPED"}).known_status is ClusterStatus.STOPPED


def test_known_members_carry_their_proto_numbers() -> None:
    assert [s.number for s in ClusterStatus] == list(range(8))
    assert WeekDay.SUN.number == 7
    assert Environment.default() is Environment.ENVIRONMENT_UNSPECIFIED
    assert ClusterStatus.RUNNING.is_known


@pytest.mark.parametrize(
    ("sent", "why"),
    [
        (True, "boolean"),
        ("<!channel>", "cannot be one"),
        ("two words", "cannot be one"),
        ("X" * 101, "cannot be one"),
        (2**31, "int32"),
        ({"name": "RUNNING"}, "dict"),
    ],
)
def test_what_cannot_be_an_enum_value_is_malformed(sent: Any, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        cluster({"status": sent})


def test_calling_the_enum_class_stays_strict_for_the_config() -> None:
    with pytest.raises(ValueError, match="RESTORING"):
        ClusterStatus("RESTORING")
    assert "RESTORING" not in ClusterStatus.__members__
    assert len(list(ClusterStatus)) == 8


def test_an_unknown_value_survives_copies_pickles_and_dumps() -> None:
    c = cluster({"status": "RESTORING", "health": 9})
    for again in (copy.deepcopy(c), pickle.loads(pickle.dumps(c)), c.model_copy()):  # noqa: S301
        assert again.status == "RESTORING"
        assert again.health.value == "9"
    assert c.model_dump(mode="json")["status"] == "RESTORING"


def test_a_weekday_from_a_newer_api_is_kept() -> None:
    c = cluster(
        {
            "config": {
                "snapshotManagement": {
                    "snapshotSchedule": {"weeklySnapshotSchedule": {"day": "FUNDAY", "hour": 3}}
                }
            }
        }
    )
    schedule = c.snapshot_schedule
    assert schedule is not None
    assert schedule.weekly_snapshot_schedule is not None
    assert schedule.weekly_snapshot_schedule.day == "FUNDAY"


# --- operations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "failed"),
    [
        (None, False),
        ({"code": 0, "message": "ok"}, False),
        ({"message": "no code is code 0"}, False),
        ({"code": 9, "message": "failed precondition"}, True),
        ({"code": "13"}, True),
        ({"code": -1}, True),
    ],
)
def test_an_operation_failed_when_its_error_code_is_not_zero(
    error: dict[str, Any] | None, failed: bool
) -> None:
    body = {"id": "o1", "done": True, **({"error": error} if error is not None else {})}
    assert decode(Operation, json.dumps(body).encode()).failed is failed


def test_done_is_a_json_boolean_only() -> None:
    assert decode(Operation, b'{"id": "o", "done": true}').done is True
    for sent in (b'"true"', b"1"):
        with pytest.raises(DecodeError, match="done"):
            decode(Operation, b'{"id": "o", "done": ' + sent + b"}")


# --- pages ---------------------------------------------------------------------------------------


def test_a_page_with_a_bad_item_keeps_the_others_and_names_it() -> None:
    page = decode_backup_page(
        b'{"backups": [{"id": "a"}, {"id": "b", "sizeBytes": "x"}, 7, {"id": "c"}],'
        b' "nextPageToken": "t"}'
    )
    assert [b.id for b in page.backups] == ["a", "c"]
    assert page.next_page_token == "t"
    assert [(s.index, s.item_id) for s in page.skipped] == [(1, "b"), (2, None)]
    assert str(page.skipped[0]).startswith("backup b could not be read (backups.1.sizeBytes")
    assert str(page.skipped[1]) == "backup #3 could not be read (not an object) and was left out"


def test_a_page_of_good_items_skips_nothing() -> None:
    page = decode_cluster_page(b'{"clusters": [{"id": "c1"}], "next_page_token": "t"}')
    assert [c.id for c in page.clusters] == ["c1"]
    assert page.next_page_token == "t"
    assert page.skipped == ()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"backups": {"id": "a"}}', "backups: not a list"),
        (b'{"nextPageToken": 5}', "nextPageToken: not a string"),
        (b"[]", "not an object"),
        (b"{", "not JSON"),
    ],
)
def test_a_page_whose_own_shape_is_wrong_is_a_decode_error(body: bytes, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        decode_backup_page(body)


def test_a_skipped_items_long_id_is_clipped() -> None:
    page = decode_backup_page(b'{"backups": [{"id": "' + b"x" * 300 + b'", "sizeBytes": true}]}')
    (item,) = page.skipped
    assert item.item_id is not None
    assert len(item.item_id) == 100


# --- order and positions -------------------------------------------------------------------------


def test_newest_first_sorts_by_created_at_then_id_with_undated_last() -> None:
    backups = [
        Backup(id="old", created_at=T0 - timedelta(days=1)),
        Backup(id="undated-a"),
        Backup(id="tie-a", created_at=T0),
        Backup(id="undated-b"),
        Backup(id="tie-b", created_at=T0),
    ]
    assert [b.id for b in newest_first(backups)] == [
        "tie-b",
        "tie-a",
        "old",
        "undated-b",
        "undated-a",
    ]


def test_a_position_round_trips_and_finds_the_rows_after_it() -> None:
    ordered = newest_first(
        [Backup(id=f"b{i}", created_at=T0 - timedelta(hours=i)) for i in range(5)]
        + [Backup(id="undated")]
    )
    for index, row in enumerate(ordered):
        position = ListPosition.of(row)
        assert ListPosition.decode(position.encode()) == position
        assert position.after(ordered) == index + 1
    # A newer backup landing before the position does not move what comes after it.
    landed = newest_first([Backup(id="new", created_at=T0 + timedelta(hours=1)), *ordered])
    assert ordered[ListPosition.of(ordered[1]).after(ordered) :] == landed[3:]


def test_a_position_is_microsecond_exact_and_refuses_what_it_did_not_write() -> None:
    at = datetime(2026, 11, 20, 10, 0, 0, 123457, tzinfo=UTC)
    assert ListPosition.decode(ListPosition(at, "c9q:x~y").encode()) == ListPosition(at, "c9q:x~y")
    assert ListPosition(None, "b").encode() == "~b"
    for text in ("", "abc", "12", "12~", "1x~b", "9" * 30 + "~b"):
        assert ListPosition.decode(text) is None


# --- operations, retention policies, versions: a bad item costs that item only -----------------


def test_an_operation_that_cannot_be_read_is_left_out_of_its_page() -> None:
    body = json.dumps(
        {
            "operations": [
                {"id": "op1", "done": True, "metadata": {"@type": "x/y.BackupClusterMetadata"}},
                {"id": "op2", "done": "yes"},
                {"id": "op3", "error": {"code": "13", "message": "boom"}},
            ],
            "nextPageToken": "t",
        }
    ).encode()
    page = decode_operation_page(body)
    assert [op.id for op in page.operations] == ["op1", "op3"]
    assert page.operations[0].metadata_type == "y.BackupClusterMetadata"
    assert page.operations[1].failed
    [skipped] = page.skipped
    assert (skipped.kind, skipped.item_id) == ("operation", "op2")
    assert page.next_page_token == "t"


def test_a_policy_or_version_that_cannot_be_read_is_left_out_and_named() -> None:
    policies = decode_policy_page(
        b'{"policies": [{"policyId": "p1", "retainForDays": "7", "cron": {"hour": "3"}},'
        b' {"policyId": "p2", "retainForDays": true}]}'
    )
    assert [p.policy_id for p in policies.policies] == ["p1"]
    assert policies.policies[0].retain_for_days == 7
    assert [(s.kind, s.item_id) for s in policies.skipped] == [("retention policy", "p2")]
    versions = decode_version_page(
        b'{"version": [{"id": "2.12", "status": 4}, {"id": "2.17", "updatableTo": 3}]}'
    )
    assert [(v.id, v.status.value) for v in versions.versions] == [("2.12", "DEPRECATED")]
    assert [s.item_id for s in versions.skipped] == ["2.17"]


def test_node_groups_give_the_data_disk_and_a_role_from_a_newer_api_is_kept() -> None:
    cluster = Cluster.model_validate(
        {
            "id": "c",
            "config": {
                "opensearch": {
                    "nodeGroups": [
                        {"resources": {"diskSize": 10}, "hostsCount": "3", "roles": ["DATA"]},
                        {"resources": {"diskSize": "7"}, "hostsCount": 2, "roles": ["SEARCH"]},
                        {"resources": {"diskSize": "5"}, "hostsCount": 1, "roles": [2]},
                    ]
                }
            },
        }
    )
    assert cluster.data_disk_bytes == 30
    roles = [r for g in cluster.node_groups for r in g.roles]
    assert [(r.value, r.is_known) for r in roles] == [
        ("DATA", True),
        ("SEARCH", False),
        ("MANAGER", True),
    ]
    assert Cluster(id="c").data_disk_bytes is None


# --- exact limits and messages -------------------------------------------------------------------
# The limits are written out here: importing them from bot.cloud.models would move the test
# with them.


def refusal(read: Callable[[bytes], Any], body: bytes) -> str:
    """What ``read`` says of ``body``, which it must refuse."""
    with pytest.raises(DecodeError) as caught:
        read(body)
    return str(caught.value)


def problem(model: type[Any], body: dict[str, Any]) -> str:
    return refusal(lambda raw: decode(model, raw), json.dumps(body).encode())


@pytest.mark.parametrize(
    "sent",
    ["9223372036854775807", 9223372036854775807, "-9223372036854775808", -9223372036854775808],
)
def test_an_int64_reads_up_to_its_very_limits(sent: Any) -> None:
    got = backup({"sizeBytes": sent}).size_bytes
    assert got == int(sent)
    assert type(got) is int


@pytest.mark.parametrize(
    "sent",
    ["9223372036854775808", 9223372036854775808, "-9223372036854775809", -9223372036854775809],
)
def test_one_past_an_int64_limit_is_refused(sent: Any) -> None:
    assert problem(Backup, {"id": "b", "sizeBytes": sent}) == (
        "sizeBytes: Value error, the number is outside the int64 range"
    )


def test_an_int32_reads_up_to_its_limits_and_refuses_one_past() -> None:
    for code in (2147483647, "-2147483648"):
        read = decode(Operation, json.dumps({"id": "o", "error": {"code": code}}).encode())
        assert read.error is not None
        assert read.error.code == int(code)
    for code in (2147483648, "-2147483649"):
        assert problem(Operation, {"id": "o", "error": {"code": code}}) == (
            "error.code: Value error, the number is outside the int32 range"
        )


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("12x", "expected an int64, got a string that is not a number"),
        (True, "expected an int64, got a boolean"),
        (2.5, "expected an int64, got a number with a fraction"),
        ({"n": 1}, "expected an int64, got dict"),
    ],
)
def test_an_int64_that_cannot_be_read_says_why(sent: Any, message: str) -> None:
    assert problem(Backup, {"id": "b", "sizeBytes": sent}) == f"sizeBytes: Value error, {message}"


def test_an_int64_from_a_float_or_an_int_subclass_is_a_plain_int() -> None:
    class Count(int):
        pass

    for sent in (7.0, Count(7)):
        got = Backup(id="b", size_bytes=sent).size_bytes
        assert got == 7
        assert type(got) is int


def test_a_timestamp_that_cannot_be_read_says_why() -> None:
    assert problem(Backup, {"id": "b", "createdAt": 1}) == (
        "createdAt: Value error, expected an RFC 3339 timestamp, got a number"
    )
    assert problem(Backup, {"id": "b", "createdAt": "0001-01-01T00:00:00+03:00"}) == (
        "createdAt: Value error, the timestamp is outside the range of dates"
    )


def test_a_timestamp_is_in_utc_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        got = backup({"createdAt": "2026-11-20T13:00:00+03:00"}).created_at
    finally:
        monkeypatch.undo()
        time.tzset()
    assert got == T0
    assert got is not None
    assert got.tzinfo is UTC


def test_an_enum_value_that_cannot_be_read_says_why() -> None:
    assert problem(Cluster, {"id": "c", "status": False}) == (
        "status: Value error, expected an enum name or number, got a boolean"
    )
    assert problem(Cluster, {"id": "c", "status": "a b"}) == (
        "status: Value error, expected an enum name, got a string that cannot be one"
    )
    assert problem(Cluster, {"id": "c", "health": -2147483649}) == (
        "health: Value error, the enum number is outside the int32 range"
    )
    assert problem(Cluster, {"id": "c", "health": 1.5}) == (
        "health: Value error, expected an enum name or number, got float"
    )


def test_enum_numbers_map_from_0_to_the_last_member_and_past_it_stay_unknown() -> None:
    assert cluster({"status": 0}).status is ClusterStatus.STATUS_UNKNOWN
    assert cluster({"status": 7}).status is ClusterStatus.STARTING
    for number in (8, 2147483647, -1, -2147483648):
        status = cluster({"status": number}).status
        assert (status.value, status.number, status.is_known) == (str(number), number, False)


def test_an_unknown_enum_value_has_its_name_as_sent() -> None:
    status = cluster({"status": "RESTORING"}).status
    assert status.name == "RESTORING"
    assert repr(status) == "<ClusterStatus.RESTORING: 'RESTORING'>"


def test_a_python_dump_keeps_enum_members_and_a_json_dump_writes_their_names() -> None:
    c = cluster({"status": "RUNNING", "health": "SOMEDAY"})
    python = c.model_dump()
    assert python["status"] is ClusterStatus.RUNNING
    assert isinstance(python["health"], ClusterHealth)
    dumped = c.model_dump(mode="json")
    assert (dumped["status"], dumped["health"]) == ("RUNNING", "SOMEDAY")
    assert type(dumped["status"]) is str
    assert type(dumped["health"]) is str


def test_a_nested_problem_is_named_by_its_whole_path() -> None:
    body = {"id": "c", "config": {"snapshotManagement": {"snapshotMaxAgeDays": "x"}}}
    assert problem(Cluster, body) == (
        "config.snapshotManagement.snapshotMaxAgeDays: Value error,"
        " expected an int64, got a string that is not a number"
    )


def test_a_body_that_is_not_an_object_or_not_json_says_so_exactly() -> None:
    for body, message in (
        (b"[1]", "JSON that is not an object"),
        (b"null", "JSON that is not an object"),
        (b"{nope", "a body that is not JSON"),
        (b'{"id": "\xff"}', "a body that is not JSON"),
    ):
        assert refusal(lambda raw: decode(Backup, raw), body) == message
        assert refusal(decode_cluster_page, body) == message


def test_a_page_that_is_not_json_says_so_whatever_its_items() -> None:
    assert refusal(decode_backup_page, b'{"backups": [{"id": "a"},') == "a body that is not JSON"
    assert refusal(decode_backup_page, b'{"backups": [], "nextPageToken": 5}') == (
        "nextPageToken: not a string"
    )


# --- every page: good items kept, a bad one named, the token read by either name -----------------

PAGES: list[tuple[Callable[[bytes], Any], str, str, str, str, str]] = [
    # decoder, key of its list, attribute of the page, id field, bad field, kind
    (decode_backup_page, "backups", "backups", "id", "sizeBytes", "backup"),
    (decode_cluster_page, "clusters", "clusters", "id", "status", "cluster"),
    (decode_operation_page, "operations", "operations", "id", "done", "operation"),
    (decode_policy_page, "policies", "policies", "policyId", "retainForDays", "retention policy"),
    (decode_version_page, "version", "versions", "id", "deprecatedAt", "version"),
]


@pytest.mark.parametrize(("decoder", "key", "attr", "ident", "bad", "kind"), PAGES)
@pytest.mark.parametrize("token_name", ["nextPageToken", "next_page_token"])
def test_every_page_keeps_good_items_names_bad_ones_and_reads_its_token(
    decoder: Callable[[bytes], Any],
    key: str,
    attr: str,
    ident: str,
    bad: str,
    kind: str,
    token_name: str,
) -> None:
    good = [{ident: "g1"}, {ident: "g2"}]
    whole = decoder(json.dumps({key: good, token_name: "t1"}).encode())
    assert len(getattr(whole, attr)) == 2
    assert (whole.next_page_token, whole.skipped) == ("t1", ())

    broken = {ident: "x1", bad: [True]}
    body = {key: [good[0], broken, "text", good[1]], token_name: "t2"}
    page = decoder(json.dumps(body).encode())
    items = getattr(page, attr)
    assert [getattr(item, "policy_id" if ident == "policyId" else "id") for item in items] == [
        "g1",
        "g2",
    ]
    assert page.next_page_token == "t2"
    assert [(s.kind, s.index, s.item_id) for s in page.skipped] == [
        (kind, 1, "x1"),
        (kind, 2, None),
    ]
    assert page.skipped[0].problem.startswith(f"{key}.1.{bad}: ")
    assert str(page.skipped[1]) == f"{kind} #3 could not be read (not an object) and was left out"
    assert type(page.skipped) is tuple
    assert type(items) is tuple

    # With a bad item and no token, the page has none.
    assert decoder(json.dumps({key: [broken]}).encode()).next_page_token == ""


def test_a_skipped_item_is_named_by_its_id_in_either_spelling_and_only_a_string_one() -> None:
    page = decode_policy_page(
        b'{"policies": [{"policy_id": "p1", "retainForDays": true},'
        b' {"policyId": "", "retainForDays": true}, {"policyId": 5}]}'
    )
    assert [s.item_id for s in page.skipped] == ["p1", None, None]
    assert str(page.skipped[2]).startswith("retention policy #3 could not be read (policies.2.")


def test_a_skipped_items_id_of_exactly_the_limit_is_shown_whole() -> None:
    for length, shown in ((100, "y" * 100), (101, "y" * 99 + "…")):
        body = json.dumps({"backups": [{"id": "y" * length, "sizeBytes": True}]}).encode()
        (item,) = decode_backup_page(body).skipped
        assert item.item_id == shown


# --- defaults: what a field the cloud left out reads as -------------------------------------------


def test_every_field_left_out_reads_as_its_proto_default() -> None:
    assert backup({}).model_dump() == {
        "id": "b1",
        "folder_id": "",
        "source_cluster_id": "",
        "started_at": None,
        "created_at": None,
        "indices": (),
        "opensearch_version": "",
        "size_bytes": 0,
        "indices_total": 0,
        "incremental_size_bytes": 0,
        "total_size_bytes": 0,
        "free_space_required_bytes": 0,
    }
    assert cluster({}).model_dump() == {
        "id": "c1",
        "folder_id": "",
        "name": "",
        "description": "",
        "created_at": None,
        "labels": {},
        "environment": Environment.ENVIRONMENT_UNSPECIFIED,
        "status": ClusterStatus.STATUS_UNKNOWN,
        "health": ClusterHealth.HEALTH_UNKNOWN,
        "config": None,
        "planned_operation": None,
    }
    nested = cluster(
        {
            "config": {
                "opensearch": {"nodeGroups": [{"resources": {}}]},
                "snapshotManagement": {
                    "snapshotSchedule": {
                        "hourlySnapshotSchedule": {},
                        "dailySnapshotSchedule": {},
                        "weeklySnapshotSchedule": {},
                    }
                },
            },
            "plannedOperation": {},
        }
    ).model_dump()
    assert nested["config"] == {
        "version": "",
        "opensearch": {
            "node_groups": (
                {
                    "name": "",
                    "resources": {"resource_preset_id": "", "disk_size": 0, "disk_type_id": ""},
                    "hosts_count": 0,
                    "roles": (),
                },
            )
        },
        "snapshot_management": {
            "snapshot_schedule": {
                "hourly_snapshot_schedule": {"minute": 0},
                "daily_snapshot_schedule": {"hour": 0, "minute": 0},
                "weekly_snapshot_schedule": {
                    "day": WeekDay.WEEK_DAY_UNSPECIFIED,
                    "hour": 0,
                    "minute": 0,
                },
            },
            "snapshot_max_age_days": None,
        },
    }
    assert nested["planned_operation"] == {
        "info": "",
        "delayed_until": None,
        "latest_maintenance_time": None,
        "next_maintenance_window_time": None,
    }
    op = decode(Operation, b'{"id": "o", "error": {}}').model_dump()
    assert op == {
        "id": "o",
        "description": "",
        "created_at": None,
        "created_by": "",
        "modified_at": None,
        "done": False,
        "metadata": None,
        "error": {"code": 0, "message": "", "details": []},
        "response": None,
    }
    (policy,) = decode_policy_page(b'{"policies": [{"cron": {}}]}').policies
    assert policy.model_dump() == {
        "policy_id": "",
        "cluster_id": "",
        "policy_name": "",
        "created_at": None,
        "cron": {"minute": "", "hour": "", "day_of_month": "", "month": "", "day_of_week": ""},
        "retain_for_days": 0,
        "description": "",
    }
    (version,) = decode_version_page(b'{"version": [{}]}').versions
    assert version.model_dump() == {
        "id": "",
        "name": "",
        "status": VersionStatus.STATUS_UNSPECIFIED,
        "updatable_to": (),
        "deprecated_at": None,
        "eol_at": None,
    }
    for empty in (
        decode_backup_page(b"{}").backups,
        decode_cluster_page(b"{}").clusters,
        decode_operation_page(b"{}").operations,
        decode_policy_page(b"{}").policies,
        decode_version_page(b"{}").versions,
    ):
        assert empty == ()
    assert decode_version_page(b"{}").next_page_token == ""


def test_a_model_is_immutable() -> None:
    read = backup({"sizeBytes": "5"})
    with pytest.raises(ValidationError, match="frozen"):
        read.size_bytes = 6  # type: ignore[misc]
    assert read.size_bytes == 5
    assert hash(read) == hash(backup({"sizeBytes": 5}))


# --- what the models work out --------------------------------------------------------------------


def test_a_backups_duration_is_from_its_start_to_its_end_and_never_negative() -> None:
    hour = timedelta(hours=1)
    assert Backup(id="b", started_at=T0 - hour, created_at=T0).duration_seconds == 3600.0
    assert Backup(id="b", started_at=T0 + hour, created_at=T0).duration_seconds == 0.0
    assert Backup(id="b", started_at=T0).duration_seconds is None
    assert Backup(id="b", created_at=T0).duration_seconds is None
    assert Backup(id="b", created_at=T0).finished_at == T0


def test_a_node_groups_disk_counts_every_host_and_nothing_below_zero() -> None:
    def group(disk: int | None, hosts: int, roles: list[Any] | None = None) -> NodeGroup:
        resources = None if disk is None else {"diskSize": disk}
        return NodeGroup.model_validate(
            {"resources": resources, "hostsCount": hosts, "roles": roles or []}
        )

    assert group(10, 3).disk_bytes == 30
    assert group(10, 1).disk_bytes == 10
    assert group(None, 3).disk_bytes == 0
    assert group(-10, 3).disk_bytes == 0
    assert group(10, -3).disk_bytes == 0
    assert group(1, 0).disk_bytes == 0
    assert group(10, 1).holds_data  # no role named: it may hold data
    assert group(10, 1, ["WARM"]).holds_data
    assert not group(10, 1, ["MANAGER", "INGEST"]).holds_data
    assert not group(10, 1, ["SEARCH"]).holds_data
    # A group whose disk is 1 byte in all still counts; one with no disk does not.
    tiny = Cluster.model_validate(
        {
            "id": "c",
            "config": {
                "opensearch": {"nodeGroups": [{"resources": {"diskSize": 1}, "hostsCount": 1}]}
            },
        }
    )
    assert tiny.data_disk_bytes == 1
    empty = Cluster.model_validate(
        {"id": "c", "config": {"opensearch": {"nodeGroups": [{"hostsCount": 1}]}}}
    )
    assert empty.data_disk_bytes is None


def test_a_clusters_name_health_and_schedule_as_the_bot_reads_them() -> None:
    assert cluster({"name": "orders"}).display_name == "orders"
    assert cluster({}).display_name == "c1"
    assert cluster({"health": "DEGRADED"}).known_health is ClusterHealth.DEGRADED
    assert cluster({"health": "SPLIT"}).known_health is ClusterHealth.HEALTH_UNKNOWN
    for kind in ("hourlySnapshotSchedule", "dailySnapshotSchedule", "weeklySnapshotSchedule"):
        with_one = cluster({"config": {"snapshotManagement": {"snapshotSchedule": {kind: {}}}}})
        assert with_one.snapshot_schedule is not None, kind
    assert (
        cluster({"config": {"snapshotManagement": {"snapshotSchedule": {}}}}).snapshot_schedule
        is None
    )
    assert cluster({"config": {}}).snapshot_schedule is None
    assert cluster({}).snapshot_schedule is None
    assert cluster({"config": {}}).node_groups == ()


def test_an_operations_metadata_type_is_the_last_part_of_its_url() -> None:
    def op(metadata: Any) -> Operation:
        return decode(Operation, json.dumps({"id": "o", "metadata": metadata}).encode())

    assert op({"@type": "type.googleapis.com/a/b.Meta"}).metadata_type == "b.Meta"
    assert op({"@type": "b.Meta"}).metadata_type == "b.Meta"
    assert op({"@type": 5}).metadata_type == ""
    assert op({"clusterId": "c"}).metadata_type == ""
    assert op({}).metadata_type == ""
    assert decode(Operation, b'{"id": "o"}').metadata_type == ""


def test_a_position_counts_time_from_the_unix_epoch_and_undated_rows_sort_last() -> None:
    assert ListPosition(datetime(1970, 1, 1, tzinfo=UTC), "b").encode() == "0~b"
    assert ListPosition(T0, "b").encode() == f"{int(T0.timestamp()) * 1_000_000}~b"
    assert ListPosition.decode("1000000~b") == ListPosition(
        datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), "b"
    )
    undated = Backup(id="z")
    ordered = newest_first([undated, Backup(id="a", created_at=datetime(1, 1, 1, tzinfo=UTC))])
    assert [b.id for b in ordered] == ["a", "z"]
    assert ListPosition.of(undated).after(ordered) == 2


def test_a_page_without_a_token_or_items_has_none_in_either_path() -> None:
    for decoder, key, attr, ident, _bad, _kind in PAGES:
        whole = decoder(json.dumps({key: [{ident: "g1"}]}).encode())
        assert whole.next_page_token == ""
        assert len(getattr(whole, attr)) == 1
        assert getattr(decoder(b'{"nextPageToken": "t"}'), attr) == ()


def test_a_message_left_out_reads_as_unset_and_a_list_as_empty() -> None:
    management = cluster({"config": {"snapshotManagement": {}}}).config
    assert management is not None
    assert management.snapshot_management is not None
    assert management.snapshot_management.snapshot_schedule is None
    config = cluster({"config": {"opensearch": {}}}).config
    assert config is not None
    assert config.opensearch is not None
    assert config.opensearch.node_groups == ()
    (policy,) = decode_policy_page(b'{"policies": [{"policyId": "p"}]}').policies
    assert policy.cron is None


def test_an_unknown_enum_name_in_lower_case_is_kept_too() -> None:
    assert cluster({"status": "restoring_v2"}).status.value == "restoring_v2"


def test_dumping_an_unknown_enum_value_warns_of_nothing() -> None:
    c = cluster({"status": "RESTORING", "health": 9})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert json.loads(c.model_dump_json())["status"] == "RESTORING"
        assert c.model_dump(mode="json")["health"] == "9"
        assert c.model_dump()["status"] == "RESTORING"


def test_a_body_nested_deeper_than_pydantic_reads_is_not_json_to_the_bot() -> None:
    """json would read 300 levels, pydantic-core does not: both paths must agree it is no body
    the bot can read, and say so, not name an empty place in it."""
    deep = b'{"id": "b", "x": ' + b"[" * 300 + b"]" * 300 + b"}"
    assert refusal(lambda raw: decode(Backup, raw), deep) == "a body that is not JSON"


@pytest.mark.parametrize(("decoder", "key", "attr", "ident", "bad", "kind"), PAGES)
def test_a_page_nested_deeper_than_pydantic_reads_is_not_json_to_the_bot(
    decoder: Callable[[bytes], Any], key: str, attr: str, ident: str, bad: str, kind: str
) -> None:
    deep = b"[" * 300 + b"]" * 300
    body = b'{"%s": [{"%s": "g1", "x": %s}]}' % (key.encode(), ident.encode(), deep)
    assert refusal(decoder, body) == "a body that is not JSON"
