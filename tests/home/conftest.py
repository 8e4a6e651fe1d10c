"""The same loopback servers as the Slack tests, and a store on SQLite."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.slack.conftest import fake_slack, sim

__all__ = ["fake_slack", "home_store", "sim"]


@pytest.fixture
async def home_store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'home.db'}") as store:
        yield store
