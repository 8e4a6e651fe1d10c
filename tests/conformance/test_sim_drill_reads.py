"""What the simulated cloud answers to the reads `check` makes of a drill route (a network, a
subnet, a resource preset) is what the official SDK's messages parse, unknown fields refused;
and a network, subnet or preset that does not exist is NOT_FOUND, as the cloud says it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from yandex.cloud.mdb.opensearch.v1 import resource_preset_pb2
from yandex.cloud.vpc.v1 import network_pb2, subnet_pb2

from bot.demo.simcloud import DEFAULT_STATIC_TOKEN, SimCloud
from tests.world import FOLDER, make_fleet

NETWORK = "enpnetwork0000000001"
SUBNET = "e9bsubnet00000000001"


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    async with SimCloud(fleet=make_fleet()) as cloud:
        cloud.add_network(NETWORK, FOLDER, {"ru-central1-b": SUBNET})
        yield cloud


async def _get(sim: SimCloud, path: str) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {DEFAULT_STATIC_TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(sim.url + path, headers=headers) as answer,
    ):
        return answer.status, await answer.text()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"/vpc/v1/networks/{NETWORK}", network_pb2.Network()),
        (f"/vpc/v1/subnets/{SUBNET}", subnet_pb2.Subnet()),
        ("/managed-opensearch/v1/resourcePresets/s2.micro", resource_preset_pb2.ResourcePreset()),
    ],
)
async def test_the_simulators_answers_are_the_sdks_messages(
    sim: SimCloud, path: str, message: Message
) -> None:
    status, body = await _get(sim, path)
    assert status == 200, body
    json_format.Parse(body, message)  # an unknown or mistyped field raises
    if isinstance(message, subnet_pb2.Subnet):
        assert (message.network_id, message.zone_id) == (NETWORK, "ru-central1-b")
    if isinstance(message, resource_preset_pb2.ResourcePreset):
        assert message.cores > 0
        assert "ru-central1-a" in message.zone_ids


@pytest.mark.parametrize(
    "path",
    [
        "/vpc/v1/networks/enpnosuchnetwork0001",
        "/vpc/v1/subnets/e9bnosuchsubnet00001",
        "/managed-opensearch/v1/resourcePresets/x9.huge",
    ],
)
async def test_what_does_not_exist_is_not_found(sim: SimCloud, path: str) -> None:
    status, body = await _get(sim, path)
    assert status == 404
    assert "not found" in body
