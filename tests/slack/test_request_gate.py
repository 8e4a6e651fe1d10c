"""Verify first: the gate in front of Bolt refuses what Slack did not sign, before anything
decodes, parses or logs the body, against the real Bolt app on loopback."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.demo.fake_slack import (
    FakeSlack,
    block_action_payload,
    sign,
    signed_headers,
    slash_command_form,
)
from bot.demo.simcloud.server import SimCloud
from bot.ops.http import ServerLimits
from bot.ops.logging import HELD_SECRETS, REDACTED, Redactor
from bot.slack.app import (
    MAX_BODY_BYTES,
    SIGNATURE_WINDOW,
    Refusal,
    RefusalLog,
    check_headers,
    new_bolt_app,
    signature_matches,
)
from bot.slack.notifier import SlackNotifier
from tests.slack.harness import SIGNING_SECRET, make_settings, running_bot

#: A megabyte, just under aiohttp's own 1 MiB cap on a body it reads: before the gate, Bolt
#: read, parsed and logged such a body (and the redactor took minutes over the log line).
MEGABYTE = 1_000_000
#: A response URL as Slack sends it: a bearer URL that must never reach a log.
RESPONSE_URL = "https://hooks.slack.com/commands/T0TESTTEAM/1234567890123/rEsPoNsEsEcReT0123"
BODY_MARKER = "list body-marker-c9q0000000000001"
QUERY_MARKER = "query-marker-7f3a"
VERIFICATION_TOKEN = "deprecated-verification-token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: Far above what a refusal takes on an idle machine (a few ms); far below the minutes that
#: parsing and logging a megabyte with a quadratic redactor took.
PROMPT = 1.0


def _healthz(web_app: web.Application) -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app.router.add_get("/healthz", healthz)


def _form() -> str:
    return slash_command_form(BODY_MARKER, response_url=RESPONSE_URL)


# --- the pure checks -------------------------------------------------------------------------


NOW = 1_700_000_000.0
GOOD_SIGNATURE = "v0=" + "a" * 64


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (None, Refusal.NO_TIMESTAMP),
        ("", Refusal.BAD_TIMESTAMP),
        ("soon", Refusal.BAD_TIMESTAMP),
        ("1.5", Refusal.BAD_TIMESTAMP),
        ("-5", Refusal.BAD_TIMESTAMP),
        (" 1700000000", Refusal.BAD_TIMESTAMP),
        ("١٧٠٠٠٠٠٠٠٠", Refusal.BAD_TIMESTAMP),  # Arabic-Indic digits: isdigit() but not ASCII
        ("9" * 400, Refusal.BAD_TIMESTAMP),
        (str(int(NOW) - SIGNATURE_WINDOW - 1), Refusal.STALE),
        (str(int(NOW) + SIGNATURE_WINDOW + 1), Refusal.STALE),
        (str(int(NOW) - SIGNATURE_WINDOW), None),
    ],
)
def test_the_timestamp_must_be_ascii_seconds_within_five_minutes(
    timestamp: str | None, expected: Refusal | None
) -> None:
    assert check_headers(timestamp, GOOD_SIGNATURE, now=NOW) is expected


@pytest.mark.parametrize(
    "signature", [None, "", "v0=", "v1=" + "a" * 64, "v0=" + "A" * 64, "v0=" + "g" * 64]
)
def test_a_signature_not_of_the_v0_form_is_refused_before_the_body_is_read(
    signature: str | None,
) -> None:
    assert check_headers(str(int(NOW)), signature, now=NOW) is Refusal.BAD_SIGNATURE_FORM


def test_the_signature_is_the_hmac_of_the_raw_bytes() -> None:
    body = "text=caf\u00e9".encode()
    good = sign(SIGNING_SECRET, body, 1700000000)
    assert signature_matches(SIGNING_SECRET.encode(), "1700000000", good, body)
    assert not signature_matches(SIGNING_SECRET.encode(), "1700000001", good, body)
    assert not signature_matches(b"another-secret", "1700000000", good, body)
    assert not signature_matches(SIGNING_SECRET.encode(), "1700000000", good, body + b" ")


def test_a_flood_of_refusals_is_one_line_per_reason_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.app")
    now = [100.0]
    refusals = RefusalLog(interval=10.0, clock=lambda: now[0])
    for _ in range(500):
        refusals.refused(Refusal.WRONG_SIGNATURE)
    refusals.refused(Refusal.TOO_LARGE)
    now[0] += 10.0
    refusals.refused(Refusal.WRONG_SIGNATURE)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "refused a request to the Slack endpoint: the signature does not match the body (401)",
        "refused a request to the Slack endpoint: the body is over 64 KB (413)",
        "refused a request to the Slack endpoint: the signature does not match the body (401); "
        "499 more refused for this since the last line",
    ]


# --- over HTTP, against the real Bolt app ---------------------------------------------------


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _post(
    session: aiohttp.ClientSession, url: str, data: object, headers: dict[str, str]
) -> tuple[int, float]:
    started = time.monotonic()
    async with session.post(url, data=data, headers=headers) as resp:
        await resp.read()
        return resp.status, time.monotonic() - started


async def test_megabyte_unsigned_bodies_are_refused_promptly_while_healthz_answers(
    fake_slack: FakeSlack, sim: SimCloud, session: aiohttp.ClientSession
) -> None:
    big = ("payload=" + "a" * (MEGABYTE - 8)).encode()

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: refused as it is read
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    async with running_bot(fake_slack, sim.url, routes=_healthz) as bot:
        assert bot.server is not None
        health = f"{bot.server.url}/healthz"
        probes: list[float] = []
        flooding = True

        async def probe() -> None:
            while flooding:
                started = time.monotonic()
                async with session.get(health) as resp:
                    assert resp.status == 200
                probes.append(time.monotonic() - started)
                await asyncio.sleep(0.01)

        prober = asyncio.create_task(probe())
        try:
            answers = await asyncio.gather(
                *(_post(session, bot.events_url, io.BytesIO(big), FORM) for _ in range(10)),
                _post(session, bot.events_url, chunked(), FORM),
                _post(session, bot.events_url, chunked(), signed_headers("forged", big)),
                _post(session, bot.events_url, io.BytesIO(big), signed_headers("forged", big)),
            )
        finally:
            flooding = False
            await prober
    # With a Content-Length over the cap: 413 unread; chunked: 401 unread without a timestamp,
    # else 413 once 64 KB have been read.
    assert [status for status, _ in answers] == [413] * 10 + [401, 413, 413]
    assert max(took for _, took in answers) < PROMPT
    assert probes
    assert max(probes) < PROMPT
    assert fake_slack.calls == []
    assert sim.requests == []


def _bad_requests() -> list[tuple[str, bytes, dict[str, str]]]:
    form = _form()
    now = int(time.time())
    not_utf8 = b"payload=%7B%22a%22%3A1%7D&text=\xff\xfe\xc3("
    not_json = ("payload=" + quote("{not json at all")).encode()
    return [
        ("unsigned", form.encode(), FORM),
        ("forged", form.encode(), signed_headers("not-the-signing-secret", form)),
        ("stale", form.encode(), signed_headers(SIGNING_SECRET, form, timestamp=now - 600)),
        ("not UTF-8, unsigned", not_utf8, {**FORM, "X-Slack-Request-Timestamp": str(now)}),
        ("not UTF-8, forged", not_utf8, signed_headers("forged", not_utf8)),
        ("not JSON, forged", not_json, signed_headers("forged", not_json)),
        (
            "a word for a timestamp",
            form.encode(),
            {**FORM, "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=x"},
        ),
        (
            "a float for a timestamp",
            form.encode(),
            {
                **FORM,
                "X-Slack-Request-Timestamp": f"{time.time():.3f}",
                "X-Slack-Signature": sign(SIGNING_SECRET, form, now),
            },
        ),
        (
            "a huge timestamp",
            form.encode(),
            {**FORM, "X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=1"},
        ),
        (
            "a signature for another body",
            form.encode(),
            {**signed_headers(SIGNING_SECRET, form + "&x=1")},
        ),
    ]


async def test_bad_bodies_and_timestamps_get_401_and_nothing_about_them_is_logged(
    fake_slack: FakeSlack, sim: SimCloud, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(fake_slack, sim.url) as bot:
        url = f"{bot.events_url}?q={QUERY_MARKER}"
        statuses = {}
        for name, body, headers in _bad_requests():
            async with bot.session.post(url, data=body, headers=headers) as resp:
                statuses[name] = resp.status
                assert (await resp.json()) == {"error": "invalid request"}
        assert bot.server is not None
        own_url = bot.server.url
    assert statuses == {name: 401 for name, _, _ in _bad_requests()}
    assert fake_slack.calls == []
    assert sim.requests == []
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.exc_info or ''}" for r in caplog.records
    )
    for leak in (
        RESPONSE_URL,
        "rEsPoNsEsEcReT",
        BODY_MARKER,
        "body-marker",
        QUERY_MARKER,
        VERIFICATION_TOKEN,
        own_url,
        "/slack/events?",
        "hooks.slack.com",
        "9" * 50,
    ):
        assert leak not in text, leak
    assert "Traceback" not in text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    refusals = [r for r in caplog.records if "refused a request" in r.getMessage()]
    assert refusals
    assert all(len(r.getMessage()) < 200 for r in refusals)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7B%22a%22%3A1%7D&text=\xff\xfe", "application/x-www-form-urlencoded"),
        (("payload=" + quote("{not json")).encode(), "application/x-www-form-urlencoded"),
        (("payload=" + quote("[1, 2]")).encode(), "application/x-www-form-urlencoded"),
        (b'["a", "list"]', "application/json"),
        (b"{truncated", "application/json"),
    ],
    ids=["not UTF-8", "not JSON", "a JSON list", "a JSON list body", "broken JSON"],
)
async def test_a_signed_body_that_is_not_a_slack_payload_gets_400_and_runs_nothing(
    fake_slack: FakeSlack,
    sim: SimCloud,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {**signed_headers(SIGNING_SECRET, body), "Content-Type": content_type}
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.post(body, headers)  # type: ignore[arg-type]
    assert answer.status == 400
    assert fake_slack.calls == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_signed_body_just_under_the_cap_is_let_through(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    padding = "x" * (MAX_BODY_BYTES - 2000)
    form = slash_command_form("help", response_url=fake_slack.response_url()) + "&pad=" + padding
    assert len(form.encode()) < MAX_BODY_BYTES
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.post(form, signed_headers(SIGNING_SECRET, form))
        assert answer.status == 200
        await bot.reply()


async def test_bolts_own_check_still_refuses_and_logs_no_details(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(fake_slack.api_url, "http://127.0.0.1:9")
    notifier = SlackNotifier.from_settings(settings)
    try:
        app = new_bolt_app(settings, notifier=notifier)
        body = urlencode({"token": VERIFICATION_TOKEN, "response_url": RESPONSE_URL})
        request = AsyncBoltRequest(body=body, headers={**signed_headers("forged", body)}, query="")
        response = await app.async_dispatch(request)
    finally:
        await notifier.aclose()
    assert response.status == 401
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Bolt's own check refused a request's signature" in text
    assert VERIFICATION_TOKEN not in text
    assert "rEsPoNsEsEcReT" not in text


# --- deadlines, shapes, and response URLs held -----------------------------------------------


async def test_a_body_that_does_not_arrive_in_time_is_refused_and_its_connection_closed(
    fake_slack: FakeSlack, sim: SimCloud, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    limits = ServerLimits(body_timeout=0.3)
    form = _form()
    headers = signed_headers(SIGNING_SECRET, form)
    async with running_bot(fake_slack, sim.url, limits=limits) as bot:
        assert bot.server is not None
        port = int(bot.server.url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(
            f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: {len(form)}\r\n"
            f"{head}\r\n{form[:10]}".encode()
        )  # and the rest never comes
        started = time.monotonic()
        answer = await asyncio.wait_for(reader.read(), 10)  # to EOF: the bot closes it
        took = time.monotonic() - started
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert took >= limits.body_timeout
    assert fake_slack.calls == []
    refusals = [r.getMessage() for r in caplog.records if "refused a request" in r.getMessage()]
    assert refusals == [
        "refused a request to the Slack endpoint: the body did not arrive within the deadline (408)"
    ]


WRONG_SHAPES = {
    "an event that is a list": ('{"type": "event_callback", "event": [1, 2, 3]}', "json"),
    "an event without a type": ('{"type": "event_callback", "event": {"user": "U1"}}', "json"),
    "a command without text": (
        "command=%2Fbackups&user_id=U1&channel_id=C1&team_id=T1&response_url=x",
        "form",
    ),
    "a command whose user is missing": ("command=%2Fbackups&text=help", "form"),
    "buttons without actions": (
        "payload=" + quote('{"type": "block_actions", "user": {"id": "U1"}}'),
        "form",
    ),
    "actions that are not objects": (
        "payload=" + quote('{"type": "block_actions", "user": {"id": "U1"}, "actions": ["x"]}'),
        "form",
    ),
    "a user that is a string": (
        "payload="
        + quote('{"type": "block_actions", "user": "U1", "actions": [{"action_id": "a"}]}'),
        "form",
    ),
    "a view without a type": (
        '{"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1"}}',
        "json",
    ),
    "no type at all": ('{"hello": "world"}', "json"),
    "a type that is a number": ('{"type": 7}', "json"),
}


@pytest.mark.parametrize(("body", "encoding"), WRONG_SHAPES.values(), ids=WRONG_SHAPES)
async def test_a_signed_payload_of_the_wrong_shape_is_a_400_with_one_line(
    fake_slack: FakeSlack,
    sim: SimCloud,
    caplog: pytest.LogCaptureFixture,
    body: str,
    encoding: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    content_type = "application/json" if encoding == "json" else FORM["Content-Type"]
    headers = {**signed_headers(SIGNING_SECRET, body), "Content-Type": content_type}
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.post(body, headers)
    assert answer.status == 400
    assert fake_slack.calls == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    [line] = [r.getMessage() for r in caplog.records if "refused a request" in r.getMessage()]
    assert line.startswith(
        "refused a request to the Slack endpoint: the signed payload is not of a shape this app "
        "takes: "
    )
    assert line.endswith("(400)")


#: Values put in place of each field of a real payload: every JSON kind.
ODD_VALUES: tuple[object, ...] = (None, 7, "x", [], [1, 2, 3], {}, {"a": 1}, True, [{}])


def _mutations() -> list[tuple[str, dict[str, object]]]:
    """A real button click and a real event, with each field (one level down too) replaced by
    each odd value, or left out."""
    bases: dict[str, dict[str, object]] = {
        "click": block_action_payload("backups_next", "x", response_url="https://r.example/1"),
        "event": {
            "type": "event_callback",
            "team_id": "T0",
            "event": {"type": "app_home_opened", "user": "U1", "channel": "D1"},
            "authorizations": [{"team_id": "T0", "user_id": "U0BOT", "is_bot": True}],
        },
    }
    out: list[tuple[str, dict[str, object]]] = []
    for name, base in bases.items():
        for key, value in base.items():
            out.append((f"{name} without {key}", {k: v for k, v in base.items() if k != key}))
            for odd in ODD_VALUES:
                out.append((f"{name}.{key}={odd!r}", {**base, key: odd}))
            if isinstance(value, dict):
                for inner in value:
                    for odd in ODD_VALUES:
                        out.append(
                            (f"{name}.{key}.{inner}={odd!r}", {**base, key: {**value, inner: odd}})
                        )
    return out


async def test_no_signed_payload_of_any_shape_makes_a_500_or_an_error_line(
    fake_slack: FakeSlack, sim: SimCloud, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    statuses: dict[str, int] = {}
    async with running_bot(fake_slack, sim.url) as bot:
        for name, payload in _mutations():
            for body, content_type in (
                (json.dumps(payload), "application/json"),
                ("payload=" + quote(json.dumps(payload)), FORM["Content-Type"]),
            ):
                headers = {**signed_headers(SIGNING_SECRET, body), "Content-Type": content_type}
                statuses[f"{name} as {content_type}"] = (await bot.post(body, headers)).status
    assert len(statuses) > 300
    assert {name: s for name, s in statuses.items() if s >= 500} == {}
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_admitted_commands_response_url_is_held_by_the_redactor(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    secret_part = "held-at-the-gate-0123456789"
    url = f"https://slack-proxy.example.com/commands/T0/1/{secret_part}"
    form = slash_command_form("help", response_url=url)
    async with running_bot(fake_slack, sim.url) as bot:
        answer = await bot.post(form, signed_headers(SIGNING_SECRET, form))
        assert answer.status == 200
        assert url in HELD_SECRETS.values()
        assert Redactor().redact(f"Sending a request - url: {url}") == (
            f"Sending a request - url: {REDACTED}"
        )
