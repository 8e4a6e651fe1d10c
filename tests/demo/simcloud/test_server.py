"""The simulated cloud on the wire: paths, auth, paging, errors, operations, hooks.

Read with a plain aiohttp client, so that the simulator is checked on its own terms and not
through the client it serves.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from freezegun import freeze_time
from multidict import CIMultiDictProxy

from bot.demo.simcloud import DEFAULT_STATIC_TOKEN, SimCloud, SimConfig
from bot.demo.simcloud.encoding import FUTURE_HEALTH, HEALTH_NUMBERS, STATUS_NUMBERS
from bot.demo.simcloud.fleet import SimMaintenance, SimNodeGroup, SimPolicy

AUTH = {"Authorization": f"Bearer {DEFAULT_STATIC_TOKEN}"}
MDB = "/managed-opensearch/v1"


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    config = SimConfig(folders=2, clusters_per_folder=3, backups_per_cluster=12, backup_duration=60)
    async with SimCloud(config) as cloud:
        yield cloud


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(
    http: aiohttp.ClientSession, url: str, **kwargs: Any
) -> tuple[int, Any, CIMultiDictProxy[str]]:
    kwargs.setdefault("headers", AUTH)
    async with http.get(url, **kwargs) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers


async def test_api_paths_need_a_bearer_token(sim: SimCloud, http: aiohttp.ClientSession) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    url = f"{sim.url}{MDB}/clusters/{cluster_id}"
    status, body, _ = await get(http, url, headers={})
    assert status == 401
    assert body["code"] == 16
    status, body, _ = await get(http, url, headers={"Authorization": "Bearer t1.wrong"})
    assert (status, body["message"]) == (401, "The token is invalid")
    status, body, _ = await get(http, url)
    assert status == 200
    assert body["id"] == cluster_id


async def test_errors_have_the_gateway_shape_and_a_request_id(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    status, body, headers = await get(http, f"{sim.url}{MDB}/clusters/c9qnothere")
    assert status == 404
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == 5
    assert body["details"][0]["requestId"] == headers["X-Request-Id"]


async def test_pages_follow_opaque_tokens_to_the_end(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    url = f"{sim.url}{MDB}/clusters/{cluster_id}/backups"
    seen: list[str] = []
    token = ""
    while True:
        params = {"pageSize": "5", **({"pageToken": token} if token else {})}
        status, body, _ = await get(http, url, params=params)
        assert status == 200
        seen += [b["id"] for b in body.get("backups", [])]
        token = body.get("nextPageToken", "")
        if not token:
            break
        assert len(token) <= 100
        assert not token.isdigit()  # opaque, not an offset in the clear
    assert sorted(seen) == sorted(b.id for b in sim.fleet.backups[cluster_id])
    assert len(seen) == len(set(seen))


async def test_listings_come_in_a_seeded_order_that_is_not_the_fleets(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    async def listing(cluster_id: str) -> list[str]:
        ids: list[str] = []
        token = ""
        while True:
            params = {"pageSize": "4", **({"pageToken": token} if token else {})}
            _, body, _ = await get(
                http, f"{sim.url}{MDB}/clusters/{cluster_id}/backups", params=params
            )
            ids += [b["id"] for b in body.get("backups", [])]
            token = body.get("nextPageToken", "")
            if not token:
                return ids

    orders = {c: await listing(c) for c in sim.fleet.clusters}
    newest_first = {c: [b.id for b in sim.fleet.backups[c]] for c in sim.fleet.clusters}
    assert any(orders[c] != newest_first[c] for c in orders)
    assert any(orders[c] != newest_first[c][::-1] for c in orders)
    assert orders == {c: await listing(c) for c in sim.fleet.clusters}  # stable, not random


async def test_the_freedoms_are_fixed_by_the_seed_and_switch_off() -> None:
    async def wire(config: SimConfig) -> list[Any]:
        async with SimCloud(config) as sim, aiohttp.ClientSession() as http:
            folder = sim.fleet.folders[0].id
            pages = []
            token = ""
            for _ in range(40):
                params = {"folderId": folder, "pageSize": "7"}
                if token:
                    params["pageToken"] = token
                _, body, _ = await get(http, f"{sim.url}{MDB}/backups", params=params)
                pages.append(body)
                token = body.get("nextPageToken", "")
                if not token:
                    break
            _, clusters, _ = await get(
                http, f"{sim.url}{MDB}/clusters", params={"folderId": folder}
            )
            return [pages, clusters]

    config = SimConfig(folders=1, clusters_per_folder=12, backups_per_cluster=6, seed=3)
    with freeze_time("2026-11-20 10:00:00", real_asyncio=True):  # the same fleet twice
        pages, clusters = await wire(config)
        assert [pages, clusters] == await wire(config)
    backups = [b for page in pages for b in page.get("backups", [])]
    empties = [p for p in pages if not p.get("backups") and p.get("nextPageToken")]
    assert empties
    assert any(isinstance(b.get("sizeBytes"), int) for b in backups)
    assert any(isinstance(b.get("sizeBytes"), str) for b in backups)
    assert any(re.search(r"\.\d{9}Z$", b["createdAt"]) for b in backups)
    assert any(re.search(r"\.\d{6}Z$", b["createdAt"]) for b in backups)
    items = clusters["clusters"]
    assert any(c.get("health") == "REBALANCING" for c in items)
    assert any(isinstance(c.get("status"), int) for c in items)

    tame = SimConfig(
        folders=1,
        clusters_per_folder=12,
        backups_per_cluster=6,
        seed=3,
        shuffle=False,
        empty_page_rate=0,
        int64_number_rate=0,
        nanos_rate=0,
        future_enum_rate=0,
        enum_number_rate=0,
    )
    pages, clusters = await wire(tame)
    assert all(page.get("backups") for page in pages)
    backups = [b for page in pages for b in page.get("backups", [])]
    assert all(isinstance(b.get("sizeBytes"), str) for b in backups)
    assert all(c["health"] == "ALIVE" and c["status"] == "RUNNING" for c in clusters["clusters"])


async def test_a_token_from_another_listing_is_refused(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    one, two = list(sim.fleet.clusters)[:2]
    _, body, _ = await get(http, f"{sim.url}{MDB}/clusters/{one}/backups", params={"pageSize": "2"})
    status, err, _ = await get(
        http,
        f"{sim.url}{MDB}/clusters/{two}/backups",
        params={"pageToken": body["nextPageToken"]},
    )
    assert status == 400
    assert "page token" in err["message"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"pageSize": "1001"}, 400),
        ({"pageSize": "-1"}, 400),
        ({"pageSize": "ten"}, 400),
        ({"pageToken": "x" * 101}, 400),
        ({"pageSize": "1000"}, 200),
    ],
)
async def test_paging_limits_are_enforced(
    sim: SimCloud, http: aiohttp.ClientSession, params: dict[str, str], status: int
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    got, _, _ = await get(http, f"{sim.url}{MDB}/clusters/{cluster_id}/backups", params=params)
    assert got == status


async def test_an_id_over_50_characters_is_a_bad_request(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await get(http, f"{sim.url}{MDB}/clusters/{'c' * 51}")
    assert status == 400
    assert "50" in body["message"]


async def test_int64_fields_travel_as_strings_and_for_some_items_as_numbers(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    sizes: list[Any] = []
    for backups in sim.fleet.backups.values():
        for backup in backups:
            _, body, _ = await get(http, f"{sim.url}{MDB}/backups/{backup.id}")
            assert body["sizeBytes"] in (str(backup.size_bytes), backup.size_bytes)
            assert int(body["indicesTotal"]) == backup.indices_total
            stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z"
            assert re.fullmatch(stamp, body["createdAt"])
            sizes.append(body["sizeBytes"])
    assert {type(size) for size in sizes} == {str, int}


async def test_folder_listings_need_a_known_folder(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    status, _, _ = await get(http, f"{sim.url}{MDB}/backups")
    assert status == 400
    status, _, _ = await get(http, f"{sim.url}{MDB}/clusters", params={"folderId": "b1gother"})
    assert status == 403


async def test_the_request_log_never_keeps_the_token(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    await get(http, f"{sim.url}{MDB}/clusters", params={"folderId": sim.fleet.folders[0].id})
    (entry,) = sim.requests
    assert entry.had_authorization
    assert entry.query == {"folderId": sim.fleet.folders[0].id}
    assert DEFAULT_STATIC_TOKEN not in repr(sim.requests)


async def test_an_operation_finishes_when_sim_time_has_passed(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    before = len(sim.fleet.backups[cluster_id])
    with freeze_time(real_asyncio=True) as frozen:
        async with http.post(f"{sim.url}{MDB}/clusters/{cluster_id}:backup", headers=AUTH) as r:
            operation = await r.json()
        assert "done" not in operation
        frozen.tick(timedelta(seconds=59))
        _, still, _ = await get(http, f"{sim.url}/operations/{operation['id']}")
        assert "done" not in still
        frozen.tick(timedelta(seconds=2))
        _, done, _ = await get(http, f"{sim.url}/operations/{operation['id']}")
    assert done["done"] is True
    assert done["response"]["id"] == cluster_id
    assert done["metadata"]["clusterId"] == cluster_id
    assert len(sim.fleet.backups[cluster_id]) == before + 1


async def test_metadata_needs_the_metadata_flavor_header(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}/computeMetadata/v1/instance/service-accounts/default/token"
    async with http.get(url) as resp:
        assert resp.status == 403
    async with http.get(url, headers={"Metadata-Flavor": "Google"}) as resp:
        body = await resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    # The token it hands out opens the API.
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    status, _, _ = await get(http, f"{sim.url}/operations/none", headers=headers)
    assert status == 404


async def test_an_injected_fault_fires_the_given_number_of_times(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    url = f"{sim.url}{MDB}/clusters/{cluster_id}"
    fault = sim.inject_fault(r"/clusters/", 429, times=2, retry_after=3)
    statuses = []
    for _ in range(3):
        status, _, headers = await get(http, url)
        statuses.append((status, headers.get("Retry-After")))
    assert statuses == [(429, "3"), (429, "3"), (200, None)]
    assert fault.hits == 2


async def test_an_injected_fault_may_name_its_grpc_code(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}{MDB}/clusters/{next(iter(sim.fleet.clusters))}"
    sim.inject_fault(r"/clusters/", 409, times=1, code=10)
    sim.inject_fault(r"/clusters/", 409, times=1)
    first = await get(http, url)
    second = await get(http, url)
    assert (first[0], first[1]["code"]) == (409, 10)
    assert (second[0], second[1]["code"]) == (409, 6)  # the gateway's default pair
    assert first[1]["details"][0]["requestId"] == first[2]["X-Request-Id"]


async def test_the_request_log_keeps_the_client_request_id(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}{MDB}/clusters/{next(iter(sim.fleet.clusters))}"
    await get(http, url, headers={**AUTH, "X-Client-Request-Id": "ticket-7"})
    await get(http, url)
    assert [r.client_request_id for r in sim.requests] == ["ticket-7", None]


async def test_a_backup_of_a_stopped_cluster_is_a_failed_precondition(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    sim.stop_cluster(cluster_id)
    async with http.post(f"{sim.url}{MDB}/clusters/{cluster_id}:backup", headers=AUTH) as resp:
        status, body = resp.status, await resp.json()
    assert (status, body["code"]) == (400, 9)
    assert body["message"] == f"Cluster {cluster_id} is not running (status STOPPED)"
    assert sim.operations == {}


async def test_bursts_of_429_come_every_nth_request() -> None:
    config = SimConfig(burst_every=4, burst_length=2, burst_retry_after=2)
    async with SimCloud(config) as sim, aiohttp.ClientSession() as http:
        cluster_id = next(iter(sim.fleet.clusters))
        statuses = [(await get(http, f"{sim.url}{MDB}/clusters/{cluster_id}"))[0] for _ in range(8)]
    assert statuses == [200, 200, 200, 429, 429, 200, 200, 429]


async def test_the_error_rate_is_seeded() -> None:
    async def run() -> list[int]:
        config = SimConfig(error_rate=0.5, seed=9)
        async with SimCloud(config) as sim, aiohttp.ClientSession() as http:
            cluster_id = next(iter(sim.fleet.clusters))
            url = f"{sim.url}{MDB}/clusters/{cluster_id}"
            return [(await get(http, url))[0] for _ in range(20)]

    first, second = await run(), await run()
    assert first == second
    assert 503 in first
    assert 200 in first


async def test_latency_is_added_and_concurrency_is_measured() -> None:
    async with SimCloud(SimConfig(latency=0.05)) as sim, aiohttp.ClientSession() as http:
        cluster_id = next(iter(sim.fleet.clusters))
        started = time.monotonic()
        await asyncio.gather(
            *(get(http, f"{sim.url}{MDB}/clusters/{cluster_id}") for _ in range(10))
        )
        elapsed = time.monotonic() - started
    assert elapsed >= 0.05  # the latency was added; no upper bound: a loaded machine is slow
    assert sim.peak_in_flight == 10  # and the ten requests overlapped


async def test_the_same_idempotency_key_gives_the_same_operation(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    ids = []
    for key in ("a", "a", "b"):
        async with http.post(
            f"{sim.url}{MDB}/clusters/{cluster_id}:backup",
            headers={**AUTH, "Idempotency-Key": key},
        ) as resp:
            ids.append((await resp.json())["id"])
    assert ids[0] == ids[1] != ids[2]
    assert len(sim.operations) == 2


# --- operations, retention policies, versions, cluster state --------------------------------------


async def _all_pages(
    http: aiohttp.ClientSession, url: str, key: str, size: int = 3
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a listing, page by page; and how many pages came back empty with a token."""
    items: list[dict[str, Any]] = []
    empties, token = 0, ""
    while True:
        params = {"pageSize": str(size), **({"pageToken": token} if token else {})}
        status, body, _ = await get(http, url, params=params)
        assert status == 200, body
        items += body.get(key, [])
        if not body.get(key) and body.get("nextPageToken"):
            empties += 1
        token = body.get("nextPageToken", "")
        if not token:
            return items, empties


async def test_a_clusters_operations_are_its_backups_and_the_ones_added_in_no_order(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    failed = sim.add_operation(cluster_id, error="Snapshot failed: <repository> is read-only")
    running = sim.add_operation(cluster_id, done=False)
    sim.add_operation(cluster_id, description="Update OpenSearch cluster", metadata_type="")
    url = f"{sim.url}{MDB}/clusters/{cluster_id}/operations"
    operations, _ = await _all_pages(http, url, "operations")

    assert len(operations) == 12 + 3  # one per backup, and the three added
    by_id = {op["id"]: op for op in operations}
    assert by_id[failed.id]["done"] is True
    assert by_id[failed.id]["error"]["message"] == "Snapshot failed: <repository> is read-only"
    assert by_id[failed.id]["metadata"]["@type"].endswith(".BackupClusterMetadata")
    assert "done" not in by_id[running.id]  # false is the default, left out
    assert next(op for op in operations if "metadata" not in op)["description"].startswith("Update")
    done = [op for op in operations if op.get("done") and "error" not in op and "metadata" in op]
    assert len(done) == 12
    started = [op["createdAt"] for op in operations]
    assert started != sorted(started)
    assert started != sorted(started, reverse=True)


async def test_a_started_backup_is_listed_once_among_the_operations(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    async with http.post(f"{sim.url}{MDB}/clusters/{cluster_id}:backup", headers=AUTH) as resp:
        started = (await resp.json())["id"]
    url = f"{sim.url}{MDB}/clusters/{cluster_id}/operations"
    operations, _ = await _all_pages(http, url, "operations", size=100)
    assert [op["id"] for op in operations].count(started) == 1
    assert len(operations) == 13


async def test_a_started_backup_is_listed_as_done_once_it_has_finished(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    # The listing keeps its length when the backup lands (the finished operation stands for the
    # new backup), so an order cached by length alone kept serving it as running.
    cluster_id = next(iter(sim.fleet.clusters))
    url = f"{sim.url}{MDB}/clusters/{cluster_id}/operations"
    with freeze_time(real_asyncio=True) as frozen:
        async with http.post(f"{sim.url}{MDB}/clusters/{cluster_id}:backup", headers=AUTH) as r:
            started = (await r.json())["id"]
        before, _ = await _all_pages(http, url, "operations", size=5)
        frozen.tick(timedelta(seconds=61))
        after, _ = await _all_pages(http, url, "operations", size=5)
    assert "done" not in next(op for op in before if op["id"] == started)
    assert next(op for op in after if op["id"] == started)["done"] is True
    assert len(after) == len(before) == 13
    # Still the listing's one order: only the finished operation changed.
    assert [op["id"] for op in after] == [op["id"] for op in before]


async def test_retention_policies_are_listed_and_a_cluster_without_them_answers_404(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    one, two = list(sim.fleet.clusters)[:2]
    sim.fleet.clusters[one].policies = [
        SimPolicy("p1", "nightly", minute="0", hour="3", retain_for_days=7),
        SimPolicy("p2", "weekly", minute="30", hour="4", day_of_week="0", retain_for_days=90),
    ]
    sim.fleet.clusters[two].policies = None
    policies, _ = await _all_pages(
        http, f"{sim.url}{MDB}/clusters/{one}/retention_policies", "policies", size=1
    )
    assert sorted(p["policyName"] for p in policies) == ["nightly", "weekly"]
    weekly = next(p for p in policies if p["policyName"] == "weekly")
    assert weekly["cron"] == {"minute": "30", "hour": "4", "dayOfMonth": "*", "month": "*",
                              "dayOfWeek": "0"}  # fmt: skip
    assert int(weekly["retainForDays"]) == 90
    status, body, _ = await get(http, f"{sim.url}{MDB}/clusters/{two}/retention_policies")
    assert (status, body["code"]) == (404, 5)


async def test_a_service_without_retention_policies_answers_501_for_every_cluster(
    http: aiohttp.ClientSession,
) -> None:
    async with SimCloud(SimConfig(retention_policies=False)) as sim:
        for cluster_id in sim.fleet.clusters:
            status, body, _ = await get(
                http, f"{sim.url}{MDB}/clusters/{cluster_id}/retention_policies"
            )
            assert (status, body["code"]) == (501, 12)


async def test_versions_are_listed_with_their_status(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    versions, _ = await _all_pages(http, f"{sim.url}{MDB}/versions", "version", size=2)
    statuses = {v["id"]: v.get("status") for v in versions}
    assert set(statuses) == {"2.8", "2.12", "2.15", "2.17"}
    assert statuses["2.8"] in ("LEGACY", 5)
    sim.fleet.versions = None
    status, _, _ = await get(http, f"{sim.url}{MDB}/versions")
    assert status == 404


async def test_clusters_carry_their_state_node_groups_and_planned_maintenance(
    sim: SimCloud, http: aiohttp.ClientSession
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    sim.set_state(cluster_id, status="ERROR", health="DEAD")
    sim.fleet.clusters[cluster_id].node_groups = [
        SimNodeGroup("hot", 100 * 1024**3, 3, ("DATA", "MANAGER"))
    ]
    sim.fleet.clusters[cluster_id].maintenance = SimMaintenance(
        "Upgrade to 2.17.1", delayed_until=datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    )
    _, body, _ = await get(http, f"{sim.url}{MDB}/clusters/{cluster_id}")
    assert body["status"] in ("ERROR", 3)
    assert body["health"] in ("DEAD", 2)
    [group] = body["config"]["opensearch"]["nodeGroups"]
    assert int(group["resources"]["diskSize"]) == 100 * 1024**3
    assert int(group["hostsCount"]) == 3
    assert body["plannedOperation"] == {
        "info": "Upgrade to 2.17.1",
        "delayedUntil": "2026-11-24T03:00:00Z",
    }
    for status in ("CREATING", "UPDATING", "STOPPED", "STARTING", "STOPPING"):
        for health in ("ALIVE", "DEGRADED", "DEAD", "HEALTH_UNKNOWN"):
            sim.set_state(cluster_id, status=status, health=health)
            _, body, _ = await get(http, f"{sim.url}{MDB}/clusters/{cluster_id}")
            assert body.get("status") in (status, STATUS_NUMBERS[status])
            if health != "HEALTH_UNKNOWN":
                # A healthy cluster may say so in a value from a newer API (a freedom).
                assert body["health"] in (health, HEALTH_NUMBERS[health], FUTURE_HEALTH)
            else:
                assert "health" not in body
