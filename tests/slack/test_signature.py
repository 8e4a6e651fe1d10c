"""Bolt's request verification is in force: only requests signed by Slack, recently, run."""

from __future__ import annotations

import time

import pytest

from bot.demo.fake_slack import FakeSlack, sign, signed_headers, slash_command_form
from bot.demo.simcloud.server import SimCloud
from tests.slack.harness import SIGNING_SECRET, running_bot


def _unsigned(body: str) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded"}


def _wrong_secret(body: str) -> dict[str, str]:
    return signed_headers("not-the-signing-secret", body)


def _stale(body: str) -> dict[str, str]:
    return signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 6 * 60)


def _signed_for_other_body(body: str) -> dict[str, str]:
    headers = signed_headers(SIGNING_SECRET, body)
    headers["X-Slack-Signature"] = sign(SIGNING_SECRET, body + "&text=other", int(time.time()))
    return headers


def _future(body: str) -> dict[str, str]:
    return signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) + 6 * 60)


@pytest.mark.parametrize(
    "make_headers", [_unsigned, _wrong_secret, _stale, _signed_for_other_body, _future]
)
async def test_a_request_not_signed_by_slack_recently_is_refused_and_runs_nothing(
    fake_slack: FakeSlack, sim: SimCloud, make_headers: object
) -> None:
    assert callable(make_headers)
    async with running_bot(fake_slack, sim.url) as bot:
        body = slash_command_form("list logs-prod", response_url=fake_slack.response_url())
        answer = await bot.post(body, make_headers(body))
        assert answer.status == 401
        await bot.in_flight.drain(2)
    assert fake_slack.calls == []
    assert fake_slack.responses() == []
    assert sim.requests == []


async def test_a_properly_signed_request_within_five_minutes_runs(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    async with running_bot(fake_slack, sim.url) as bot:
        body = slash_command_form("help", response_url=fake_slack.response_url())
        headers = signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 4 * 60)
        answer = await bot.post(body, headers)
        assert answer.status == 200
        await bot.reply()
