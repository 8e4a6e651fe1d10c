"""Fixtures of the cloud client tests: a simulated cloud on loopback and a client pointed at it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.demo.simcloud import DEFAULT_STATIC_TOKEN, SimCloud, SimConfig
from tests.cloud.helpers import FAST_RETRY


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """One RSA key for the whole run: generating one takes a noticeable fraction of a second."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    """A small simulated cloud: 2 folders x 3 clusters x 5 backups, no latency."""
    async with SimCloud(SimConfig(folders=2, clusters_per_folder=3, backup_duration=0.2)) as cloud:
        yield cloud


@pytest.fixture
async def client(sim: SimCloud) -> AsyncIterator[CloudClient]:
    """A client of ``sim`` with a static token and millisecond retries."""
    async with CloudClient(
        mdb_endpoint=sim.url,
        operation_endpoint=sim.url,
        auth=StaticTokenProvider(DEFAULT_STATIC_TOKEN),
        retry=FAST_RETRY,
        timeout=2.0,
        rng=random.Random(7),
    ) as cloud_client:
        yield cloud_client
