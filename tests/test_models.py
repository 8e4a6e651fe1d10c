"""The models read bodies as the proto3 JSON mapping allows them: each decision of bot/models.py,
pinned by a test that fails if the decision changes (pure: no server, explicit values)."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.models import (
    INT64_MAX,
    INT64_MIN,
    Backup,
    Cluster,
    ClusterHealth,
    ClusterStatus,
    DecodeError,
    Environment,
    ListPosition,
    Operation,
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
