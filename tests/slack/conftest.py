"""Fixtures: the fake Slack Web API and a small simulated cloud, both real loopback servers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import clock
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.server import SimCloud
from tests.slack.harness import LEAD, ONCALL_GROUP, ONCALLER, make_fleet


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(usergroups={ONCALL_GROUP: [ONCALLER, LEAD]}) as fake:
        yield fake


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    async with SimCloud(SimConfig(), make_fleet(clock.now())) as cloud:
        yield cloud
