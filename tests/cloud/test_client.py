"""The API client against the simulated cloud: listing, paging, encodings, retries, errors."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.cloud.models import (
    ClusterStatus,
    Environment,
    Operation,
    SkippedItem,
    WeekDay,
    newest_first,
)
from bot.cloud.retry import RetryPolicy
from bot.demo.simcloud import DEFAULT_STATIC_TOKEN, SimCloud, SimConfig
from bot.errors import (
    Aborted,
    AlreadyExists,
    BadRequest,
    CloudAPIError,
    CloudRequestError,
    CloudTimeout,
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unauthenticated,
)
from bot.i18n.catalog import use_locale
from bot.settings import Settings
from tests.cloud.helpers import FAST_RETRY
from tests.waiting import wait_until

BACKUPS = r"/clusters/[^/]+/backups$"


def first_cluster(sim: SimCloud) -> str:
    return next(iter(sim.fleet.clusters))


def make_client(sim: SimCloud, **kwargs: Any) -> CloudClient:
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("timeout", 2.0)
    return CloudClient(
        mdb_endpoint=sim.url,
        operation_endpoint=sim.url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        rng=random.Random(3),
        **kwargs,
    )


@pytest.fixture
async def big() -> AsyncIterator[SimCloud]:
    """One folder of 25 clusters with 40 backups each."""
    config = SimConfig(folders=1, clusters_per_folder=25, backups_per_cluster=40, seed=5)
    async with SimCloud(config) as cloud:
        yield cloud


# --- listing and paging --------------------------------------------------------------------------


async def test_it_lists_every_backup_of_a_cluster_across_many_pages(
    big: SimCloud,
) -> None:
    cluster_id = first_cluster(big)
    async with make_client(big) as client:
        backups = [b async for b in client.list_cluster_backups(cluster_id, page_size=3)]
    ids = [b.id for b in backups]
    assert sorted(ids) == sorted(b.id for b in big.fleet.backups[cluster_id])
    assert len(set(ids)) == 40
    # ceil(40 / 3) pages at least; the simulator also serves an empty page now and then.
    assert len(big.requests) >= 14
    tokens = [r.query.get("pageToken", "") for r in big.requests]
    assert tokens[0] == ""
    assert len(set(tokens)) == len(tokens)


async def test_the_listing_is_not_in_the_order_the_backups_were_made(big: SimCloud) -> None:
    # The API promises no order; the simulator uses that freedom, so nothing may rely on one.
    cluster_id = first_cluster(big)
    async with make_client(big) as client:
        ids = [b.id async for b in client.list_cluster_backups(cluster_id)]
    assert ids != [b.id for b in big.fleet.backups[cluster_id]]
    assert ids != [b.id for b in reversed(big.fleet.backups[cluster_id])]


async def test_it_keeps_paging_through_empty_pages_that_carry_a_token() -> None:
    # Exactly three empty pages: the seeded random ones are off so the count is exact.
    config = SimConfig(
        folders=1, clusters_per_folder=1, backups_per_cluster=4, empty_pages=3, empty_page_rate=0
    )
    async with SimCloud(config) as sim, make_client(sim) as client:
        cluster_id = first_cluster(sim)
        backups = [b async for b in client.list_cluster_backups(cluster_id, page_size=3)]
        assert len(backups) == 4
        assert len(sim.requests) == 5  # three empty pages, then 3 + 1
        assert sim.empty_pages_served == 3


async def test_it_lists_a_folders_backups_and_clusters(big: SimCloud) -> None:
    folder_id = big.fleet.folders[0].id
    async with make_client(big) as client:
        backups = [b async for b in client.list_folder_backups(folder_id, page_size=333)]
        clusters = [c async for c in client.list_clusters(folder_id, page_size=10)]
    assert len({b.id for b in backups}) == 25 * 40
    assert {b.source_cluster_id for b in backups} == set(big.fleet.clusters)
    assert sorted(c.id for c in clusters) == sorted(big.fleet.clusters)
    assert len(big.requests) >= 4 + 3
    assert {r.query["folderId"] for r in big.requests} == {folder_id}


async def test_one_page_returns_its_token_for_the_caller(big: SimCloud) -> None:
    cluster_id = first_cluster(big)
    seen: list[str] = []
    sizes: list[int] = []
    async with make_client(big) as client:
        page = await client.list_cluster_backups_page(cluster_id, page_size=30)
        while True:
            seen += [b.id for b in page.backups]
            sizes.append(len(page.backups))
            if not page.next_page_token:
                break
            page = await client.list_cluster_backups_page(
                cluster_id, page_size=30, page_token=page.next_page_token
            )
    assert sorted(seen) == sorted(b.id for b in big.fleet.backups[cluster_id])
    assert max(sizes) == 30
    assert sum(sizes) == 40


async def test_a_page_size_of_zero_gets_the_server_default(big: SimCloud) -> None:
    folder_id = big.fleet.folders[0].id
    async with make_client(big) as client:
        page = await client.list_folder_backups_page(folder_id, page_size=0)
        while not page.backups:  # an empty page with a token may come first
            page = await client.list_folder_backups_page(
                folder_id, page_size=0, page_token=page.next_page_token
            )
    assert len(page.backups) == 100


async def test_a_server_repeating_a_page_token_is_malformed(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 200, times=None, body={"backups": [], "nextPageToken": "again"})
    async with make_client(sim) as client:
        with pytest.raises(MalformedResponse, match="same page token twice"):
            [b async for b in client.list_cluster_backups(first_cluster(sim))]
    assert len(sim.requests) == 2


async def test_it_gets_one_backup_and_one_cluster(sim: SimCloud) -> None:
    cluster_id = first_cluster(sim)
    expected = sim.fleet.backups[cluster_id][2]
    async with make_client(sim) as client:
        backup = await client.get_backup(expected.id)
        cluster = await client.get_cluster(cluster_id)
    assert backup.id == expected.id
    assert backup.created_at == expected.created_at
    assert backup.size_bytes == expected.size_bytes
    assert backup.indices == expected.indices
    assert cluster.name == sim.fleet.clusters[cluster_id].name
    assert cluster.labels == sim.fleet.clusters[cluster_id].labels


async def test_the_sims_filter_finds_a_cluster_by_name(sim: SimCloud) -> None:
    folder_id = sim.fleet.folders[0].id
    wanted = sim.fleet.clusters_in(folder_id)[1]
    async with make_client(sim) as client:
        page = await client.list_clusters_page(folder_id)
    assert wanted.id in [c.id for c in page.clusters]


# --- encodings -----------------------------------------------------------------------------------


async def test_every_backup_field_is_read_from_proto3_json(sim: SimCloud) -> None:
    body = {
        "id": "c9qabc:snap-1",
        "folderId": "b1gfolder",
        "sourceClusterId": "c9qabc",
        "startedAt": "2026-11-20T09:59:00.1Z",
        "createdAt": "2026-11-20T13:00:00.123456789+03:00",
        "indices": ["logs-2026.11.20", "logs-2026.11.19"],
        "opensearchVersion": "2.12",
        "sizeBytes": "1099511627776",
        "indicesTotal": 2,
        "incrementalSizeBytes": "1024",
        "totalSizeBytes": 2199023255552,
        "freeSpaceRequiredBytes": "0",
        "someFutureField": {"nested": ["ignored"]},
    }
    sim.inject_fault(r"/backups/", 200, body=body)
    async with make_client(sim) as client:
        backup = await client.get_backup("c9qabc:snap-1")
    assert backup.folder_id == "b1gfolder"
    assert backup.source_cluster_id == "c9qabc"
    assert backup.started_at == datetime(2026, 11, 20, 9, 59, 0, 100000, tzinfo=UTC)
    # The offset is folded into UTC; nanoseconds beyond microseconds are dropped.
    assert backup.created_at == datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC)
    assert backup.indices == ("logs-2026.11.20", "logs-2026.11.19")
    assert backup.opensearch_version == "2.12"
    assert backup.size_bytes == 1 << 40
    assert backup.indices_total == 2
    assert backup.incremental_size_bytes == 1024
    assert backup.total_size_bytes == 2 << 40
    assert backup.free_space_required_bytes == 0
    assert backup.duration_seconds == pytest.approx(60.023456)


@pytest.mark.parametrize("digits", range(10))
async def test_timestamps_with_0_to_9_fractional_digits_are_read(
    sim: SimCloud, digits: int
) -> None:
    fraction = "123456789"[:digits]
    stamp = "2026-11-20T10:00:00" + (f".{fraction}" if digits else "") + "Z"
    sim.inject_fault(r"/backups/", 200, body={"id": "b1", "createdAt": stamp})
    async with make_client(sim) as client:
        backup = await client.get_backup("b1")
    micros = int((fraction + "000000")[:6]) if digits else 0
    assert backup.created_at == datetime(2026, 11, 20, 10, 0, 0, micros, tzinfo=UTC)


async def test_missing_fields_take_their_proto3_defaults(sim: SimCloud) -> None:
    sim.inject_fault(r"/backups/", 200, body={"id": "b1"})
    sim.inject_fault(r"/clusters/c1$", 200, body={"id": "c1"})
    async with make_client(sim) as client:
        backup = await client.get_backup("b1")
        cluster = await client.get_cluster("c1")
    assert backup.size_bytes == 0
    assert backup.indices == ()
    assert backup.created_at is None
    assert cluster.environment is Environment.ENVIRONMENT_UNSPECIFIED
    assert cluster.status is ClusterStatus.STATUS_UNKNOWN
    assert cluster.labels == {}
    assert cluster.snapshot_schedule is None


async def test_a_cluster_with_its_snapshot_schedule_is_read(sim: SimCloud) -> None:
    body = {
        "id": "c1",
        "environment": "PRODUCTION",
        "status": "RUNNING",
        "health": "ALIVE",
        "labels": {"tier": "critical"},
        "config": {
            "version": "2.12",
            "opensearch": {"plugins": ["x"]},
            "snapshotManagement": {
                "snapshotSchedule": {
                    "weeklySnapshotSchedule": {"day": "SUN", "hour": "3", "minute": 30}
                },
                "snapshotMaxAgeDays": "14",
            },
        },
        "networkId": "enp123",
    }
    sim.inject_fault(r"/clusters/c1$", 200, body=body)
    async with make_client(sim) as client:
        cluster = await client.get_cluster("c1")
    schedule = cluster.snapshot_schedule
    assert schedule is not None
    assert schedule.weekly_snapshot_schedule is not None
    assert schedule.weekly_snapshot_schedule.day is WeekDay.SUN
    assert schedule.weekly_snapshot_schedule.hour == 3
    assert schedule.weekly_snapshot_schedule.minute == 30
    assert cluster.config is not None
    assert cluster.config.snapshot_management is not None
    assert cluster.config.snapshot_management.snapshot_max_age_days == 14


async def test_the_sims_own_encoding_round_trips_through_the_client(sim: SimCloud) -> None:
    async with make_client(sim) as client:
        for cluster_id, backups in sim.fleet.backups.items():
            got = [b async for b in client.list_cluster_backups(cluster_id)]
            assert sorted((b.id, b.created_at, b.started_at, b.size_bytes) for b in got) == sorted(
                (b.id, b.created_at, b.started_at, b.size_bytes) for b in backups
            )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>gateway</html>", "not JSON"),
        (b'{"backups": [', "not JSON"),
        (b"[]", "not an object"),
        (b'{"backups": "none"}', "backups: not a list"),
        (b'{"backups": [], "nextPageToken": 7}', "nextPageToken: not a string"),
    ],
)
async def test_a_2xx_body_of_the_wrong_shape_is_malformed(
    sim: SimCloud, body: bytes, why: str
) -> None:
    sim.inject_fault(BACKUPS, 200, body=body)
    async with make_client(sim) as client:
        with pytest.raises(MalformedResponse, match=why) as err:
            await client.list_cluster_backups_page(first_cluster(sim))
    assert "Cluster.listBackups" in str(err.value)
    assert len(sim.requests) == 1


@pytest.mark.parametrize(
    ("item", "named", "problem"),
    [
        ({"folderId": "no id"}, "backup #2", "backups.1.id"),
        ({"id": "b-bad", "sizeBytes": "lots"}, "backup b-bad", "backups.1.sizeBytes"),
        ({"id": "b-bad", "createdAt": "yesterday"}, "backup b-bad", "backups.1.createdAt"),
        ({"id": "b-bad", "indicesTotal": True}, "backup b-bad", "backups.1.indicesTotal"),
        ("just a string", "backup #2", "not an object"),
    ],
)
async def test_a_malformed_item_costs_that_item_and_not_the_page(
    sim: SimCloud, item: Any, named: str, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"backups": [{"id": "b-1"}, item, {"id": "b-3", "sizeBytes": "7"}]}
    sim.inject_fault(BACKUPS, 200, body=body)
    skipped: list[tuple[str, SkippedItem]] = []
    async with make_client(sim, on_skipped=lambda m, i: skipped.append((m, i))) as client:
        page = await client.list_cluster_backups_page(first_cluster(sim))
    assert [b.id for b in page.backups] == ["b-1", "b-3"]
    assert page.backups[1].size_bytes == 7
    assert [str(s).split(" could not")[0] for s in page.skipped] == [named]
    assert problem in page.skipped[0].problem
    assert skipped == [("Cluster.listBackups", page.skipped[0])]
    (record,) = [r for r in caplog.records if r.name == "bot.cloud.client"]
    assert record.levelname == "WARNING"
    assert named in record.getMessage()
    assert "lots" not in record.getMessage()  # where and why, never the value


async def test_a_malformed_cluster_in_a_listing_is_left_out_and_named(sim: SimCloud) -> None:
    body = {"clusters": [{"id": "c-1"}, {"id": "c-2", "labels": {"a": 1}}]}
    sim.inject_fault(r"/clusters$", 200, body=body)
    async with make_client(sim) as client:
        page = await client.list_clusters_page(sim.fleet.folders[0].id)
    assert [c.id for c in page.clusters] == ["c-1"]
    assert str(page.skipped[0]).startswith("cluster c-2 could not be read (clusters.1.labels.a")


async def test_a_failing_skip_observer_does_not_break_the_page(sim: SimCloud) -> None:
    def broken(method: str, item: SkippedItem) -> None:
        raise RuntimeError("metrics are down")

    sim.inject_fault(BACKUPS, 200, body={"backups": [{"id": "b-1"}, {}]})
    async with make_client(sim, on_skipped=broken) as client:
        page = await client.list_cluster_backups_page(first_cluster(sim))
    assert [b.id for b in page.backups] == ["b-1"]


async def test_null_reads_as_the_default_everywhere(sim: SimCloud) -> None:
    body = {
        "backups": [
            {"id": "b-1", "sizeBytes": None, "indices": None, "createdAt": None, "folderId": None}
        ],
        "nextPageToken": None,
    }
    sim.inject_fault(BACKUPS, 200, body=body)
    sim.inject_fault(r"/clusters/c1$", 200, body={"id": "c1", "labels": None, "status": None})
    async with make_client(sim) as client:
        page = await client.list_cluster_backups_page(first_cluster(sim))
        cluster = await client.get_cluster("c1")
    (backup,) = page.backups
    assert (backup.size_bytes, backup.indices, backup.created_at, backup.folder_id) == (
        0,
        (),
        None,
        "",
    )
    assert page.next_page_token == ""
    assert page.skipped == ()
    assert cluster.labels == {}
    assert cluster.status is ClusterStatus.STATUS_UNKNOWN


async def test_a_cluster_in_a_status_from_a_newer_api_is_read_and_kept(sim: SimCloud) -> None:
    body = {"id": "c1", "status": "RESTORING", "health": 9, "environment": 1}
    sim.inject_fault(r"/clusters/c1$", 200, body=body)
    async with make_client(sim) as client:
        cluster = await client.get_cluster("c1")
    assert cluster.status == "RESTORING"
    assert not cluster.status.is_known
    assert cluster.known_status is ClusterStatus.STATUS_UNKNOWN
    assert cluster.health.value == "9"
    assert cluster.environment is Environment.PRODUCTION


async def test_a_page_token_too_long_to_send_back_is_the_clouds_mistake(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 200, body={"backups": [], "nextPageToken": "t" * 101})
    async with make_client(sim) as client:
        with pytest.raises(MalformedResponse, match="page token of 101 characters") as err:
            [b async for b in client.list_cluster_backups(first_cluster(sim))]
    assert not isinstance(err.value, InvalidArgument)
    assert len(sim.requests) == 1


# --- retries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_it_retries_a_transient_status_and_succeeds(sim: SimCloud, status: int) -> None:
    sim.inject_fault(BACKUPS, status, times=2)
    async with make_client(sim) as client:
        backups = [b async for b in client.list_cluster_backups(first_cluster(sim))]
    assert len(backups) == 5
    assert [r.status for r in sim.requests][:3] == [status, status, 200]
    assert {r.status for r in sim.requests[3:]} <= {200}


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (429, RateLimited, 8),
        (500, ServerError, 13),
        (502, ServerError, 14),
        (503, ServerError, 14),
        (504, ServerError, 4),
    ],
)
async def test_it_gives_up_after_the_last_attempt_with_a_typed_error(
    sim: SimCloud, status: int, error: type[CloudAPIError], code: int
) -> None:
    sim.inject_fault(BACKUPS, status, times=None)
    # A timeout that only catches a collapse: at 2 s a try once timed out on a loaded machine
    # and was retried, so the last answer was the fault but one try never reached the server.
    async with make_client(sim, timeout=30.0) as client:
        with pytest.raises(error) as err:
            await client.list_cluster_backups_page(first_cluster(sim))
    assert len(sim.requests) == FAST_RETRY.attempts
    assert err.value.status == status
    assert err.value.code == code
    assert err.value.request_id is not None
    assert err.value.details[0]["requestId"] == err.value.request_id


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequest), (401, Unauthenticated), (403, PermissionDenied), (404, NotFound)],
)
async def test_it_does_not_retry_a_final_status(
    sim: SimCloud, status: int, error: type[CloudAPIError]
) -> None:
    sim.inject_fault(BACKUPS, status, times=None)
    async with make_client(sim) as client:
        with pytest.raises(error):
            await client.list_cluster_backups_page(first_cluster(sim))
    assert len(sim.requests) == 1


async def test_it_honours_retry_after_in_seconds(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 429, times=1, retry_after=1)
    async with make_client(sim) as client:
        started = time.monotonic()
        await client.list_cluster_backups_page(first_cluster(sim))
        elapsed = time.monotonic() - started
    # The policy's own backoff is a few milliseconds; only the header explains a second. The upper
    # bound only catches a collapse (a wait read as minutes), not a slow machine.
    assert 0.95 <= elapsed < 30


async def test_it_caps_a_retry_after_that_asks_too_much(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 503, times=1, retry_after=86400)
    policy = RetryPolicy(attempts=2, base_delay=0.001, retry_after_cap=0.05)
    async with make_client(sim, retry=policy) as client:
        started = time.monotonic()
        await client.list_cluster_backups_page(first_cluster(sim))
    assert time.monotonic() - started < 1.0


async def test_a_cloud_that_does_not_answer_in_time_is_a_timeout(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 200, times=None, delay=0.5)
    policy = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002)
    async with make_client(sim, timeout=0.1, retry=policy) as client:
        with pytest.raises(CloudTimeout, match=r"did not answer Cluster.listBackups within 0.1 s"):
            await client.list_cluster_backups_page(first_cluster(sim))
    assert len(sim.requests) == 2


async def test_a_timeout_is_said_in_the_readers_language_with_its_attempts(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 200, times=None, delay=0.5)
    policy = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002)
    async with make_client(sim, timeout=0.1, retry=policy) as client:
        with use_locale("ru"), pytest.raises(CloudTimeout) as err:
            await client.list_cluster_backups_page(first_cluster(sim))
    assert str(err.value) == ("облако не ответило на Cluster.listBackups за 0.1 с (2 попытки)")


async def test_a_timeout_is_retried_and_can_succeed(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 200, times=1, delay=0.5)
    async with make_client(sim, timeout=0.1) as client:
        backups = [b async for b in client.list_cluster_backups(first_cluster(sim))]
    assert len(backups) == 5


async def test_a_refused_connection_is_a_request_error(unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}"
    seen: list[str] = []
    async with CloudClient(
        mdb_endpoint=url,
        operation_endpoint=url,
        auth=StaticTokenProvider("t1.x"),
        retry=FAST_RETRY,
        on_request=lambda method, outcome, seconds: seen.append(outcome),
    ) as client:
        with pytest.raises(
            CloudRequestError, match=f"could not reach the cloud at 127.0.0.1:{unused_tcp_port}"
        ) as err:
            await client.get_cluster("c1")
    assert not isinstance(err.value, CloudTimeout)
    assert seen == ["error"] * FAST_RETRY.attempts


async def test_a_refused_connection_is_said_in_the_readers_language(unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}"
    async with CloudClient(
        mdb_endpoint=url,
        operation_endpoint=url,
        auth=StaticTokenProvider("t1.x"),
        retry=FAST_RETRY,
    ) as client:
        with use_locale("ru"), pytest.raises(CloudRequestError) as err:
            await client.get_cluster("c1")
    prefix = f"не удалось достучаться до облака (127.0.0.1:{unused_tcp_port}) для Cluster.get: "
    assert str(err.value).startswith(prefix)


async def test_the_observer_hears_every_attempt(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 503, times=1)
    sim.inject_fault(BACKUPS, 200, times=1, delay=0.3)
    seen: list[tuple[str, str]] = []
    async with make_client(
        sim, timeout=0.1, on_request=lambda m, outcome, s: seen.append((m, outcome))
    ) as client:
        await client.list_cluster_backups_page(first_cluster(sim))
    assert seen == [
        ("Cluster.listBackups", "503"),
        ("Cluster.listBackups", "timeout"),
        ("Cluster.listBackups", "200"),
    ]


async def test_a_failing_observer_does_not_break_requests(sim: SimCloud) -> None:
    def broken(method: str, outcome: str, seconds: float) -> None:
        raise RuntimeError("metrics are down")

    async with make_client(sim, on_request=broken) as client:
        assert await client.get_cluster(first_cluster(sim))


# --- errors keep the cloud's words ---------------------------------------------------------------


async def test_an_api_error_keeps_the_clouds_message_code_and_request_id(sim: SimCloud) -> None:
    async with make_client(sim) as client:
        with pytest.raises(NotFound) as err:
            await client.get_cluster("c9qdoesnotexist00000")
    assert str(err.value) == "Cluster c9qdoesnotexist00000 not found"
    assert err.value.code == 5
    assert err.value.status == 404
    assert err.value.request_id
    assert "status=404" in repr(err.value)


async def test_an_unreadable_cluster_is_permission_denied(sim: SimCloud) -> None:
    cluster_id = first_cluster(sim)
    sim.set_unreadable(cluster_id)
    async with make_client(sim) as client:
        with pytest.raises(PermissionDenied, match="permission"):
            await client.list_cluster_backups_page(cluster_id)


async def test_an_error_without_a_json_body_gets_a_plain_message(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 403, body=b"<html>Forbidden</html>")
    async with make_client(sim) as client:
        with pytest.raises(PermissionDenied) as err:
            await client.list_cluster_backups_page(first_cluster(sim))
    assert str(err.value) == "permission denied"
    assert err.value.code is None


async def test_an_unusual_status_is_a_generic_api_error(sim: SimCloud) -> None:
    # 409 has types now (ALREADY_EXISTS, ABORTED); a status and code that say nothing still
    # give the generic error (the simulator sends UNKNOWN for a status it does not know).
    sim.inject_fault(BACKUPS, 418)
    async with make_client(sim) as client:
        with pytest.raises(CloudAPIError) as err:
            await client.list_cluster_backups_page(first_cluster(sim))
    assert type(err.value) is CloudAPIError
    assert err.value.status == 418


async def test_a_backup_of_a_stopped_cluster_is_refused_as_a_failed_precondition(
    sim: SimCloud,
) -> None:
    cluster_id = first_cluster(sim)
    sim.stop_cluster(cluster_id)
    async with make_client(sim) as client:
        with pytest.raises(FailedPrecondition) as err:
            await client.backup_cluster(cluster_id)
    assert (err.value.status, err.value.code_name) == (400, "FAILED_PRECONDITION")
    assert str(err.value) == f"Cluster {cluster_id} is not running (status STOPPED)"
    assert len(sim.requests) == 1


@pytest.mark.parametrize(("code", "error"), [(6, AlreadyExists), (10, Aborted)])
async def test_a_409_is_typed_by_the_code_the_cloud_sent(
    sim: SimCloud, code: int, error: type[CloudAPIError]
) -> None:
    sim.inject_fault(r":backup$", 409, code=code)
    async with make_client(sim) as client:
        with pytest.raises(error) as err:
            await client.backup_cluster(first_cluster(sim))
    assert isinstance(err.value, Conflict)
    assert (err.value.status, err.value.code) == (409, code)
    assert len(sim.requests) == 1  # a conflict is not retried


async def test_the_request_id_shown_is_the_one_in_the_bodys_details(sim: SimCloud) -> None:
    body = {
        "code": 5,
        "message": "Cluster not found",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": "b0dy-1d"}
        ],
    }
    sim.inject_fault(r"/clusters/", 404, body=body)
    async with make_client(sim) as client:
        with pytest.raises(NotFound) as err:
            await client.get_cluster(first_cluster(sim))
    # The simulator's X-Request-Id header is a fresh UUID; the body's id is the one kept.
    assert err.value.request_id == "b0dy-1d"


async def test_a_body_less_501_still_means_not_offered(sim: SimCloud) -> None:
    sim.inject_fault(r"/retention_policies$", 501, body=b"<html>Not Implemented</html>")
    async with make_client(sim) as client:
        cluster_id = first_cluster(sim)
        assert await client.all_retention_policies(cluster_id) is None
        assert not client.may_offer_retention_policies(first_cluster(sim))
    assert len(sim.requests) == 1


# --- the client's own request id ----------------------------------------------------------------


async def test_every_call_sends_its_own_client_request_id_the_same_on_each_retry(
    sim: SimCloud,
) -> None:
    sim.inject_fault(BACKUPS, 503, times=2)
    async with make_client(sim) as client:
        await client.list_cluster_backups_page(first_cluster(sim))
        await client.get_cluster(first_cluster(sim))
    ids = [r.client_request_id for r in sim.requests]
    assert [r.status for r in sim.requests] == [503, 503, 200, 200]
    assert ids[0] is not None
    assert uuid.UUID(ids[0]).version == 4
    assert ids[0] == ids[1] == ids[2]
    assert ids[3] is not None
    assert ids[3] != ids[0]


async def test_an_error_names_the_call_by_the_client_request_id_it_sent(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 503, times=None)
    async with make_client(sim) as client:
        with pytest.raises(ServerError) as err:
            await client.list_cluster_backups_page(first_cluster(sim))
    assert {r.client_request_id for r in sim.requests} == {err.value.client_request_id}
    assert f"client_request_id='{err.value.client_request_id}'" in repr(err.value)


async def test_a_call_that_got_no_answer_names_its_client_request_id(sim: SimCloud) -> None:
    sim.inject_fault(BACKUPS, 200, times=None, delay=0.5)
    policy = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002)
    async with make_client(sim, timeout=0.1, retry=policy) as client:
        with pytest.raises(CloudTimeout, match=r"\(2 attempts\)") as err:
            await client.list_cluster_backups_page(first_cluster(sim))
    assert err.value.client_request_id is not None
    assert {r.client_request_id for r in sim.requests} == {err.value.client_request_id}


async def test_each_answer_is_logged_with_both_request_ids(
    sim: SimCloud, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.cloud.session")
    async with make_client(sim) as client:
        with pytest.raises(NotFound) as err:
            await client.get_cluster("c9qdoesnotexist00000")
    (sent,) = sim.requests
    assert f"GET Cluster.get -> 404 (request id {err.value.request_id}, " in caplog.text
    assert f"client request id {sent.client_request_id})" in caplog.text


# --- Cluster.backup and operations ---------------------------------------------------------------


async def test_a_backup_runs_to_completion_and_appears_in_the_list(sim: SimCloud) -> None:
    cluster_id = first_cluster(sim)
    before = len(sim.fleet.backups[cluster_id])
    async with make_client(sim) as client:
        operation = await client.backup_cluster(cluster_id)
        assert not operation.done
        assert operation.metadata is not None
        assert operation.metadata["clusterId"] == cluster_id

        async def finished() -> Operation | None:
            read = await client.get_operation(operation.id)
            return read if read.done else None

        await wait_until(finished, timeout=5, what="the backup operation to finish")
        done = await client.get_operation(operation.id)
        backups = [b async for b in client.list_cluster_backups(cluster_id)]
    assert done.done
    assert not done.failed
    assert done.response is not None
    assert done.response["id"] == cluster_id
    assert len(backups) == before + 1
    newest = newest_first(backups)[0]
    assert newest.created_at is not None
    assert done.modified_at is not None
    assert newest.created_at == done.modified_at


async def test_cluster_backup_is_sent_without_a_body(sim: SimCloud) -> None:
    # The http rule of ClusterService.Backup has no `body:`; the request fields are in the path.
    async with make_client(sim) as client:
        await client.backup_cluster(first_cluster(sim))
    (sent,) = sim.requests_to(r":backup$")
    assert sent.method == "POST"
    assert sent.body_size == 0


async def test_the_idempotency_key_is_the_same_on_every_retry(sim: SimCloud) -> None:
    sim.inject_fault(r":backup$", 503, times=2)
    async with make_client(sim) as client:
        operation = await client.backup_cluster(first_cluster(sim))
    keys = [r.idempotency_key for r in sim.requests_to(r":backup$")]
    assert len(keys) == 3
    assert keys[0] is not None
    assert len(set(keys)) == 1
    assert uuid.UUID(keys[0]).version == 4
    assert len(sim.operations) == 1
    assert operation.id in sim.operations


async def test_the_same_idempotency_key_returns_the_same_operation(sim: SimCloud) -> None:
    cluster_id = first_cluster(sim)
    async with make_client(sim) as client:
        first = await client.backup_cluster(cluster_id, idempotency_key="k-1")
        again = await client.backup_cluster(cluster_id, idempotency_key="k-1")
        other = await client.backup_cluster(cluster_id)
    assert first.id == again.id
    assert other.id != first.id


async def test_a_stopped_cluster_cannot_be_backed_up(sim: SimCloud) -> None:
    cluster_id = first_cluster(sim)
    sim.stop_cluster(cluster_id)
    async with make_client(sim) as client:
        with pytest.raises(BadRequest, match="not running"):
            await client.backup_cluster(cluster_id)


async def test_an_unknown_operation_is_not_found(sim: SimCloud) -> None:
    async with make_client(sim) as client:
        with pytest.raises(NotFound, match="Operation"):
            await client.get_operation("c9qnosuchoperation00")


async def test_a_backup_id_longer_than_50_characters_is_asked_for(sim: SimCloud) -> None:
    # GetBackupRequest.backup_id has no length limit in the proto: the cloud decides.
    long_id = first_cluster(sim) + ":" + "s" * 80
    sim.inject_fault(r"/backups/", 200, body={"id": long_id})
    async with make_client(sim) as client:
        backup = await client.get_backup(long_id)
    assert backup.id == long_id
    assert sim.requests[0].path.endswith("/" + long_id)


@pytest.mark.parametrize("odd", ["a/b", "a?b", "a#b", "a b", "a%2Fb", "снимок"])
async def test_an_id_reaches_the_cloud_exactly_as_given(sim: SimCloud, odd: str) -> None:
    async with make_client(sim) as client:
        with pytest.raises(NotFound) as err:
            await client.get_backup(odd)
    assert str(err.value) == f"Backup {odd} not found"
    assert sim.requests[0].path == f"/managed-opensearch/v1/backups/{odd}"


# --- limits and sessions -------------------------------------------------------------------------


async def test_no_more_requests_are_in_flight_than_the_cap() -> None:
    config = SimConfig(folders=1, clusters_per_folder=40, backups_per_cluster=2, latency=0.02)
    async with SimCloud(config) as sim, make_client(sim, max_in_flight=5) as client:
        await asyncio.gather(*(client.get_cluster(c) for c in sim.fleet.clusters))
        assert sim.peak_in_flight == 5
        assert client.limiter.peak_in_flight == 5


async def test_the_cap_is_also_reached_so_requests_do_run_concurrently() -> None:
    config = SimConfig(folders=1, clusters_per_folder=32, backups_per_cluster=1, latency=0.05)
    async with SimCloud(config) as sim, make_client(sim, max_in_flight=16) as client:
        await asyncio.gather(*(client.get_cluster(c) for c in sim.fleet.clusters))
    # The simulated cloud counts what it held at once: 16 requests did run concurrently.
    assert sim.peak_in_flight == 16


async def test_an_injected_session_is_used_and_left_open(sim: SimCloud) -> None:
    async with aiohttp.ClientSession() as session:
        client = make_client(sim, session=session)
        await client.get_cluster(first_cluster(sim))
        await client.aclose()
        assert not session.closed


async def test_a_client_from_settings_reaches_the_sim(sim: SimCloud) -> None:
    settings = Settings.model_validate(
        {
            "YC_MDB_ENDPOINT": sim.url + "/",
            "YC_RESOURCE_MANAGER_ENDPOINT": sim.url + "/",
            "YC_OPERATION_ENDPOINT": sim.url,
            "YC_IAM_TOKEN": DEFAULT_STATIC_TOKEN,
            "YC_MAX_IN_FLIGHT": 4,
            "YC_REQUEST_TIMEOUT": 3,
        }
    )
    outcomes: list[str] = []
    async with CloudClient.from_settings(
        settings, on_request=lambda m, o, s: outcomes.append(o)
    ) as client:
        assert client.limiter.max_in_flight == 4
        assert client.timeout == 3
        cluster = await client.get_cluster(first_cluster(sim))
    assert cluster.id == first_cluster(sim)
    assert outcomes == ["200"]
    assert sim.requests[0].path == f"/managed-opensearch/v1/clusters/{cluster.id}"


async def test_a_backup_added_later_shows_up(sim: SimCloud) -> None:
    cluster_id = first_cluster(sim)
    at = datetime.now(UTC) + timedelta(minutes=1)
    sim.add_backup(cluster_id, created_at=at)
    async with make_client(sim) as client:
        backups = [b async for b in client.list_cluster_backups(cluster_id)]
    assert newest_first(backups)[0].created_at == at


# --- optional endpoints: retention policies and versions -----------------------------------------

POLICIES = r"/retention_policies$"


async def test_a_501_for_retention_policies_costs_one_request_however_many_ask_at_once() -> None:
    config = SimConfig(
        folders=1,
        clusters_per_folder=20,
        backups_per_cluster=1,
        latency=0.02,
        retention_policies=False,
    )
    async with SimCloud(config) as sim:
        async with make_client(sim) as client:
            ids = list(sim.fleet.clusters)
            first = await asyncio.gather(*(client.all_retention_policies(c) for c in ids))
            again = await asyncio.gather(*(client.all_retention_policies(c) for c in ids))
        assert first == again == [None] * 20
        assert len(sim.requests_to(POLICIES)) == 1


async def test_a_404_for_one_cluster_is_remembered_for_it_alone() -> None:
    config = SimConfig(folders=1, clusters_per_folder=3, backups_per_cluster=1)
    async with SimCloud(config) as sim, make_client(sim) as client:
        none, some, _ = list(sim.fleet.clusters)
        sim.fleet.clusters[none].policies = None
        for _ in range(3):
            assert await client.all_retention_policies(none) is None
            page = await client.all_retention_policies(some)
            assert page is not None
            assert page.policies == ()
        asked = [r.path.split("/")[-2] for r in sim.requests_to(POLICIES)]
        assert asked.count(none) == 1
        assert asked.count(some) == 3


async def test_other_failures_of_an_optional_endpoint_raise_and_are_not_remembered() -> None:
    config = SimConfig(folders=1, clusters_per_folder=1, backups_per_cluster=1)
    async with SimCloud(config) as sim, make_client(sim) as client:
        cluster = first_cluster(sim)
        sim.inject_fault(POLICIES, 403, times=1)
        with pytest.raises(PermissionDenied):
            await client.all_retention_policies(cluster)
        assert await client.all_retention_policies(cluster) is not None
        sim.inject_fault(r"/versions$", 503, times=None)
        with pytest.raises(ServerError):
            await client.all_versions()
        sim.clear_faults()
        versions = await client.all_versions()
        assert versions is not None
        assert {v.id for v in versions.versions} == {"2.8", "2.12", "2.15", "2.17"}


async def test_every_page_of_a_clusters_operations_is_read_through_empty_ones() -> None:
    config = SimConfig(
        folders=1, clusters_per_folder=1, backups_per_cluster=7, empty_pages=2, max_page_size=3
    )
    async with SimCloud(config) as sim, make_client(sim) as client:
        cluster = first_cluster(sim)
        sim.add_operation(cluster, error="boom")
        page = await client.all_cluster_operations(cluster, page_size=3)
        assert len(page.operations) == 8
        assert sum(op.failed for op in page.operations) == 1
        assert len(sim.requests_to(r"/operations$")) >= 2 + 3
