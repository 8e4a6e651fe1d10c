"""``backups-bot serve`` as a real process, against a simulated cloud and a fake Slack served by
this test process: probes, metrics, commands over HTTP and Socket Mode, a graceful SIGTERM, and
logs that are JSON lines without a single secret in them.

The helpers here (a running ``serve`` process and its environment) are shared with
``tests/app/test_serve_replicas.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot import clock
from bot.app.startup import Waiting
from bot.demo.fake_slack import FakeSlack, signed_headers, slash_command_form, slash_command_payload
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.server import SimCloud
from bot.store import Store
from bot.store.tables import outbox, run_claims
from tests.store.conftest import POSTGRES_ADMIN_URL
from tests.waiting import free_port, wait_until
from tests.world import FOLDER, IDS, ONCALL_CHANNEL, ONCALL_GROUP, make_fleet, seed_backups

REPO = Path(__file__).resolve().parents[2]

# Secrets handed to the process; none of them may ever show up in its output.
BOT_TOKEN = "xoxb-1111-runtime-bot-token-0123456789"
APP_TOKEN = "xapp-1-A0TEST-runtime-app-token-0123456789"
SIGNING_SECRET = "runtime-signing-secret-0123456789abcdef"
IAM_TOKEN = "runtime-iam-token-0123456789abcdef"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, IAM_TOKEN)

#: How long a test waits for the process to start serving (Python start-up, migrations, Slack's
#: auth.test, the first fleet read): a bound that only catches a process that never gets there.
#: 20 s was not enough for a replica restarted by tests/test_crash.py at load 19 on 2 cores.
START_TIMEOUT = 60.0


def write_config(path: Path, *, every: str = "1h", lease: str = "5m") -> Path:
    """A config watching the test folder, with the on-call route for PRODUCTION clusters."""
    path.write_text(
        f"""
watch:
  folders: [{FOLDER}]
alerts:
  - channel: {ONCALL_CHANNEL}
    mention: [{ONCALL_GROUP}]
    match: {{environment: PRODUCTION}}
sweep:
  every: {every}
  lease: {lease}
""",
        encoding="utf-8",
    )
    return path


async def start_sim(*, latency: float = 0.0) -> SimCloud:
    """The watcher tests' fleet (two stale PRODUCTION clusters), accepting only IAM_TOKEN."""
    now = clock.now()
    sim = SimCloud(SimConfig(latency=latency, static_tokens=(IAM_TOKEN,)), make_fleet(now))
    seed_backups(sim, now)
    await sim.start()
    return sim


def serve_env(
    sim: SimCloud,
    slack: FakeSlack,
    *,
    database_url: str,
    config: Path,
    port: int,
    socket_mode: bool = False,
    **extra: str,
) -> dict[str, str]:
    """The environment of a ``serve`` process talking to ``sim`` and ``slack`` only."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "YC_", "BACKUPS_BOT_", "DATABASE_URL", "LOG_", "PORT"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        YC_MDB_ENDPOINT=sim.url,
        YC_RESOURCE_MANAGER_ENDPOINT=sim.url,
        YC_OPERATION_ENDPOINT=sim.url,
        YC_IAM_ENDPOINT=sim.url,
        YC_IAM_TOKEN=IAM_TOKEN,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=database_url,
        BACKUPS_BOT_CONFIG=str(config),
        PORT=str(port),
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        # The replica and crash tests sweep every two seconds: below the minute a real config
        # must keep to.
        BACKUPS_BOT_FAST_SWEEPS="1",
    )
    if socket_mode:
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    env.update(extra)
    return env


@dataclass
class ServeProcess:
    """A running ``python -m bot serve`` and every line it wrote (stdout and stderr)."""

    process: asyncio.subprocess.Process
    port: int
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    async def get(self, path: str) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.url + path, timeout=aiohttp.ClientTimeout(total=5)) as resp,
        ):
            return resp.status, await resp.text()

    async def post(self, path: str, body: str, headers: dict[str, str]) -> tuple[int, float]:
        """POST ``body``; the status and how long the answer took, in seconds."""
        started = time.monotonic()
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.url + path,
                data=body.encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=5),
            ) as resp,
        ):
            await resp.read()
            return resp.status, time.monotonic() - started

    async def wait_serving(self, timeout: float = START_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until it serves (not only waits for the world: /readyz has left its "startup"
        check behind); fail at once if the process exits instead."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(
                    f"serve exited with {self.process.returncode}:\n" + "\n".join(self.lines)
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                _, body = await self.get("/readyz")
                if "startup" not in json.loads(body).get("checks", {}):
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("serve did not start serving in time:\n" + "\n".join(self.lines))

    async def readyz(self) -> tuple[int, dict[str, Any]]:
        """/readyz's status and its JSON body."""
        status, body = await self.get("/readyz")
        return status, json.loads(body)

    async def wait_exit(self, timeout: float) -> int:  # noqa: ASYNC109
        code = await asyncio.wait_for(self.process.wait(), timeout)
        if self.reader is not None:
            await asyncio.wait_for(self.reader, timeout)
        return code

    async def terminate(self, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """SIGTERM, then wait for the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.wait_exit(timeout)

    async def kill(self) -> None:
        """SIGKILL: no shutdown at all, as when a node dies."""
        if self.process.returncode is None:
            self.process.kill()
        await self.wait_exit(10)

    def records(self) -> list[dict[str, Any]]:
        """The log lines, parsed; a line that is not a JSON object fails the test."""
        out = []
        for line in self.lines:
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError(f"not a JSON log line: {line!r}") from None
            assert isinstance(record, dict), line
            out.append(record)
        return out

    def messages(self) -> list[str]:
        return [str(r.get("msg", "")) for r in self.records()]

    def output(self) -> str:
        return "\n".join(self.lines)


async def start_serve(
    env: dict[str, str], cwd: Path, *, preexec: Callable[[], None] | None = None
) -> ServeProcess:
    """``python -m bot serve``; ``preexec`` runs in the child before it starts (a limit)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        preexec_fn=preexec,
    )
    serve = ServeProcess(process, int(env["PORT"]))
    serve.reader = asyncio.create_task(serve._read())
    return serve


@contextlib.asynccontextmanager
async def serving(
    env: dict[str, str], cwd: Path, *, preexec: Callable[[], None] | None = None
) -> AsyncIterator[ServeProcess]:
    """A started ``serve`` process, killed afterwards if the test left it running."""
    serve = await start_serve(env, cwd, preexec=preexec)
    try:
        yield serve
    finally:
        if serve.process.returncode is None:
            serve.process.kill()
            await serve.process.wait()
        if serve.reader is not None and not serve.reader.done():
            serve.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serve.reader


def assert_clean_logs(serve: ServeProcess) -> None:
    """JSON lines only, no traceback printed around the logger, no secret anywhere."""
    output = serve.output()
    for secret in SECRETS:
        assert secret not in output
    assert "Traceback" not in output
    records = serve.records()
    assert records, "no log lines at all"
    for record in records:
        assert {"ts", "level", "logger", "request_id", "msg"} <= record.keys(), record


def alert_posts(slack: FakeSlack) -> list[str]:
    """The top-level messages posted (alerts), by their text."""
    return [
        str(call.args.get("text", ""))
        for call in slack.calls_to("chat.postMessage")
        if not call.args.get("thread_ts")
    ]


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(
        bot_token=BOT_TOKEN, app_token=APP_TOKEN, usergroups={ONCALL_GROUP: ["U0ONCALL1"]}
    ) as fake:
        yield fake


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    cloud = await start_sim()
    yield cloud
    await cloud.stop()


@pytest.fixture
async def slow_sim() -> AsyncIterator[SimCloud]:
    """Every request takes 0.4 s, so that a sweep or an answer is still running when asked."""
    cloud = await start_sim(latency=0.4)
    yield cloud
    await cloud.stop()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path / "backups-bot.yaml")


# --- HTTP mode -----------------------------------------------------------------------------------


async def test_http_mode_serves_probes_metrics_and_signed_commands(
    sim: SimCloud, slack: FakeSlack, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    env = serve_env(sim, slack, database_url=database_url, config=config_file, port=free_port())
    async with serving(env, tmp_path) as serve:
        await serve.wait_serving()
        assert await serve.get("/healthz") == (200, '{"status": "ok"}')

        status, body = await serve.get("/readyz")
        assert status == 200, body
        ready = json.loads(body)
        assert ready["status"] == "ok"
        assert {name: check["ok"] for name, check in ready["checks"].items()} == {
            "database": True,
            "fleet": True,
            "delivery": True,
        }

        form = slash_command_form(f"list {IDS.stale}", response_url=slack.response_url("r1"))
        status, took = await serve.post("/slack/events", form, signed_headers(SIGNING_SECRET, form))
        assert status == 200
        # Acknowledged within Slack's 3 s (a bound for a collapse, not a speed claim); the answer
        # follows at the response URL.
        assert took < 3.0
        await slack.wait_responses("r1", timeout=10)
        answer = json.dumps(slack.responses("r1")[0])
        assert "orders-prod" in answer

        # Unsigned, or signed with another secret: refused before any listener runs.
        other = slash_command_form(f"list {IDS.stale}", response_url=slack.response_url("r2"))
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        assert (await serve.post("/slack/events", other, headers))[0] == 401
        forged = signed_headers("not-the-signing-secret", other)
        assert (await serve.post("/slack/events", other, forged))[0] == 401

        status, metrics = await serve.get("/metrics")
        assert status == 200
        assert 'backups_bot_commands_total{command="list",outcome="ok"} 1.0' in metrics
        for name in (
            "backups_bot_cloud_requests_total{",
            "backups_bot_cloud_request_duration_seconds_bucket{",
            "backups_bot_alerts_firing ",
            "backups_bot_last_successful_sweep_timestamp_seconds ",
            "backups_bot_digests_posted_total ",
        ):
            assert name in metrics

        assert await serve.terminate() == 0
    assert slack.responses("r2") == []
    assert_clean_logs(serve)
    messages = serve.messages()
    assert any(m.startswith("/backups from U0TESTUSER") for m in messages)
    # The command's lines share one request id, and the last one says how it ended.
    records = serve.records()
    asked = next(r for r in records if str(r["msg"]).startswith("/backups from U0TESTUSER"))
    closing = [r for r in records if str(r["msg"]).startswith("answered U0TESTUSER: ok")]
    assert closing, messages
    assert closing[0]["request_id"] == asked["request_id"] != "-"
    assert messages[-1] == "stopped"


async def test_sigterm_turns_readyz_503_and_lets_a_running_sweep_finish(
    slow_sim: SimCloud, slack: FakeSlack, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    env = serve_env(
        slow_sim, slack, database_url=database_url, config=config_file, port=free_port()
    )
    async with serving(env, tmp_path) as serve:
        await serve.wait_serving()
        # The first sweep starts with the scheduler; wait until it is reading backups.
        await wait_until(
            lambda: slow_sim.requests_to(r"/backups$"), timeout=10, what="the first sweep"
        )
        assert alert_posts(slack) == []

        started = time.monotonic()
        serve.process.send_signal(signal.SIGTERM)
        readyz: list[tuple[int, str]] = []

        async def draining() -> bool:
            readyz.append(await serve.get("/readyz"))
            return readyz[-1][0] == 503

        await wait_until(draining, timeout=5, what="/readyz to turn 503 after SIGTERM")
        body = readyz[-1][1]
        assert json.loads(body)["status"] == "draining"
        assert (await serve.get("/healthz"))[0] == 200  # alive, just not taking traffic

        assert await serve.wait_exit(15) == 0
        assert time.monotonic() - started < 10
    # The sweep was let finish: both alerts went out, and its claim is marked done.
    assert len(alert_posts(slack)) == 2, serve.output()
    async with await Store.open(database_url) as store, store.engine.connect() as conn:
        claims = (
            await conn.execute(select(run_claims).where(run_claims.c.key.like("sweep:%")))
        ).all()
        delivered = (await conn.execute(select(outbox.c.state))).scalars().all()
    assert len(claims) == 1
    assert claims[0].finished_at is not None
    assert delivered == ["sent", "sent"]
    assert_clean_logs(serve)
    # One line for the sweep, with the request id that its other lines carry too.
    summaries = [r for r in serve.records() if "2 alert(s) queued" in r["msg"]]
    assert len(summaries) == 1
    assert summaries[0]["request_id"] != "-"
    # One line per post, as the executor delivered it.
    posted = [r for r in serve.records() if str(r["msg"]).startswith("posted alert ")]
    assert len(posted) == 2
    assert "shutting down: draining answers and scheduled runs" in serve.messages()
    assert serve.messages()[-1] == "stopped"


# --- Socket Mode ---------------------------------------------------------------------------------


async def test_socket_mode_connects_answers_and_delivers_an_answer_after_sigterm(
    slow_sim: SimCloud, slack: FakeSlack, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    env = serve_env(
        slow_sim,
        slack,
        database_url=database_url,
        config=config_file,
        port=free_port(),
        socket_mode=True,
    )
    async with serving(env, tmp_path) as serve:
        await serve.wait_serving()
        await slack.wait_socket_connected(timeout=10)
        opens = slack.calls_to("apps.connections.open")
        assert len(opens) == 1
        assert opens[0].token_ok

        status, body = await serve.get("/readyz")
        assert status == 200, body
        checks = json.loads(body)["checks"]
        assert {name: check["ok"] for name, check in checks.items()} == {
            "database": True,
            "fleet": True,
            "delivery": True,
            "slack": True,
        }
        # Nothing listens for Slack over HTTP in Socket Mode.
        assert (await serve.get("/slack/events"))[0] == 404

        payload = slash_command_payload(f"list {IDS.stale}", response_url=slack.response_url("s1"))
        ack = await slack.send_envelope("slash_commands", payload)
        assert ack["envelope_id"]
        await slack.wait_responses("s1", timeout=10)
        assert "orders-prod" in json.dumps(slack.responses("s1")[0])

        # A command acknowledged just before SIGTERM is still answered (the cloud takes 0.8 s).
        payload = slash_command_payload(f"list {IDS.fresh}", response_url=slack.response_url("s2"))
        await slack.send_envelope("slash_commands", payload)
        assert await serve.terminate() == 0
    assert len(slack.responses("s2")) == 1
    assert "logs-prod" in json.dumps(slack.responses("s2")[0])
    assert_clean_logs(serve)
    assert serve.messages()[-1] == "stopped"


# --- failures ------------------------------------------------------------------------------------


async def test_sigterm_while_starting_stops_at_once_and_exits_0(
    slack: FakeSlack, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    # The cloud takes 8 s to answer the first read; SIGTERM must not wait for it.
    hung = await start_sim(latency=8.0)
    try:
        env = serve_env(
            hung, slack, database_url=database_url, config=config_file, port=free_port()
        )
        async with serving(env, tmp_path) as serve:
            await wait_until(lambda: hung.requests, timeout=START_TIMEOUT, what="the first read")
            started = time.monotonic()
            assert await serve.terminate() == 0
            # Waiting for the hung read would take about 8 s; anything well under that is "at once".
            assert time.monotonic() - started < 6
    finally:
        await hung.stop()
    assert_clean_logs(serve)
    assert serve.messages()[-2:] == ["asked to stop while starting", "stopped"]
    assert slack.calls_to("chat.postMessage") == []


async def test_a_bad_bot_token_stops_it_at_once_with_one_line(
    sim: SimCloud, slack: FakeSlack, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    wrong = "xoxb-2222-not-the-right-token-0123456789"
    env = serve_env(
        sim,
        slack,
        database_url=database_url,
        config=config_file,
        port=free_port(),
        SLACK_BOT_TOKEN=wrong,
    )
    started = time.monotonic()
    async with serving(env, tmp_path) as serve:
        # A refused token is not waited out like an unreachable Slack (that retries for as long
        # as it takes): the process exits. The bound only catches a collapse; it took 16 s once
        # beside a second suite and four CPU hogs (load 10 on two cores), about a second when
        # the machine is quiet.
        code = await serve.wait_exit(60)
    assert code != 0
    assert code == 2  # a configuration error, as refused tokens always were
    assert time.monotonic() - started < 60
    output = serve.output()
    assert wrong not in output
    assert_clean_logs(serve)
    errors = [r for r in serve.records() if r["level"] in ("ERROR", "CRITICAL")]
    assert len(errors) == 1, output
    assert "SLACK_BOT_TOKEN" in errors[0]["msg"]
    assert "invalid_auth" in errors[0]["msg"]
    assert "exc" not in errors[0]
    # It stopped before taking any work: no cloud read, no post.
    assert sim.requests == []
    assert [call.method for call in slack.calls] == ["auth.test"]


# --- secrets at DEBUG ----------------------------------------------------------------------------


async def test_a_debug_log_holds_no_part_of_a_response_url_that_is_not_shaped_like_slacks(
    sim: SimCloud, slack: FakeSlack, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    # The fake's response URL is http://127.0.0.1:<port>/response/<key>: nothing like
    # hooks.slack.com, as a proxy's or a GovSlack host's would not be either.
    key = "pr0xy-r3sp0nse-s3cret-7f3a9c"
    url = slack.response_url(key)
    env = serve_env(
        sim,
        slack,
        database_url=database_url,
        config=config_file,
        port=free_port(),
        LOG_LEVEL="DEBUG",
    )
    async with serving(env, tmp_path) as serve:
        await serve.wait_serving()
        form = slash_command_form(f"list {IDS.stale}", response_url=url)
        status, _ = await serve.post("/slack/events", form, signed_headers(SIGNING_SECRET, form))
        assert status == 200
        await slack.wait_responses(key, timeout=10)
        assert await serve.terminate() == 0
    output = serve.output()
    # slack_sdk's DEBUG line about the answer was written: the one that carried the URL.
    assert "Sending a request - url: [REDACTED]" in output
    for part in (url, key, quote(url, safe=""), url.replace("/", "\\/"), key[:12]):
        assert part not in output, part
    assert_clean_logs(serve)


# --- waiting for the world at start --------------------------------------------------------------


def test_waiting_is_said_at_the_first_failure_then_once_a_minute() -> None:
    waiting = Waiting()
    assert waiting.failed("Slack", "no answer", now=100.0) == (
        "waiting for Slack: no answer; trying again"
    )
    assert waiting.failed("Slack", "no answer", now=159.0) is None
    assert waiting.describe() == "waiting for Slack: no answer"
    assert waiting.failed("Slack", "still none", now=160.0) == (
        "still waiting for Slack after 1m 00s: still none"
    )
    assert waiting.failed("Slack", "still none", now=219.9) is None
    assert waiting.reached("Slack", now=230.5) == "reached Slack after 2m 10s"
    assert waiting.describe() is None
    # Something new to wait for is said at once, whenever the last line was.
    assert waiting.failed("the cloud", "no answer", now=231.0) is not None
    assert Waiting().reached("Slack", now=1.0) is None  # no wait, nothing to say


def test_the_backoff_doubles_from_one_second_up_to_thirty() -> None:
    assert [Waiting.delay(n) for n in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert Waiting.delay(10_000) == 30.0


def _warnings(serve: ServeProcess, prefix: str) -> list[str]:
    return [
        str(r["msg"])
        for r in serve.records()
        if r["level"] == "WARNING" and str(r["msg"]).startswith(prefix)
    ]


async def _startup_reason(serve: ServeProcess) -> str:
    """Wait until /readyz is 503 because start-up waits; its reason."""
    seen: list[dict[str, Any]] = []

    async def waiting() -> bool:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            status, body = await serve.readyz()
            seen.append(body)
            return status == 503 and "waiting for" in str(body)
        return False

    await wait_until(waiting, timeout=START_TIMEOUT, what="/readyz to say what it waits for")
    assert (await serve.get("/healthz"))[0] == 200  # alive all along
    return str(seen[-1]["checks"]["startup"]["reason"])


async def test_it_waits_for_an_unreachable_slack_then_serves(
    sim: SimCloud, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    slack_port = free_port()
    slack = FakeSlack(bot_token=BOT_TOKEN, usergroups={ONCALL_GROUP: ["U0ONCALL1"]})
    env = serve_env(sim, slack, database_url=database_url, config=config_file, port=free_port())
    env["SLACK_API_URL"] = f"http://127.0.0.1:{slack_port}/api/"
    try:
        async with serving(env, tmp_path) as serve:
            reason = await _startup_reason(serve)
            assert reason.startswith(
                f"waiting for Slack: Slack at http://127.0.0.1:{slack_port}/api/ did not answer "
                "(unreachable ("
            ), reason
            await slack.start("127.0.0.1", slack_port)  # the network is up now
            await serve.wait_serving(timeout=40)
            status, body = await serve.readyz()
            assert status == 200, body
            assert await serve.terminate() == 0
    finally:
        await slack.stop()
    assert_clean_logs(serve)
    assert len(_warnings(serve, "waiting for Slack: ")) == 1
    assert any(m.startswith("reached Slack after ") for m in serve.messages())
    assert not [r for r in serve.records() if r["level"] in ("ERROR", "CRITICAL")]


async def test_it_waits_for_an_unreachable_database_and_sigterm_stops_the_wait(
    sim: SimCloud, slack: FakeSlack, config_file: Path, tmp_path: Path
) -> None:
    db_port = free_port()
    url = f"postgresql+asyncpg://bot@127.0.0.1:{db_port}/bot"
    env = serve_env(sim, slack, database_url=url, config=config_file, port=free_port())
    async with serving(env, tmp_path) as serve:
        reason = await _startup_reason(serve)
        assert reason == (
            f"waiting for the database: DATABASE_URL: PostgreSQL at 127.0.0.1:{db_port} refused "
            "the connection; check the host and the port, and that the server runs"
        )
        started = time.monotonic()
        assert await serve.terminate() == 0
        assert time.monotonic() - started < 5  # not after the next try
    assert_clean_logs(serve)
    assert len(_warnings(serve, "waiting for the database: ")) == 1
    assert serve.messages()[-2:] == ["asked to stop while starting", "stopped"]
    assert slack.calls == []  # nothing went further than the database


async def test_a_cloud_that_does_not_answer_at_start_is_read_once_it_does(
    slack: FakeSlack, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    now = clock.now()
    sim = SimCloud(SimConfig(static_tokens=(IAM_TOKEN,)), make_fleet(now))
    seed_backups(sim, now)
    cloud_port = free_port()
    nobody = f"http://127.0.0.1:{cloud_port}"
    env = serve_env(sim, slack, database_url=database_url, config=config_file, port=free_port())
    env.update(
        YC_MDB_ENDPOINT=nobody,
        YC_OPERATION_ENDPOINT=nobody,
        YC_IAM_ENDPOINT=nobody,
        YC_RESOURCE_MANAGER_ENDPOINT=nobody,
    )
    try:
        async with serving(env, tmp_path) as serve:
            # The cloud does not hold the start up: it serves, not ready, and says why.
            await serve.wait_serving(timeout=40)
            status, body = await serve.readyz()
            assert status == 503
            fleet = str(body["checks"]["fleet"]["reason"])
            assert "waiting for the cloud: first cloud read failed: could not reach" in fleet
            await sim.start("127.0.0.1", cloud_port)

            async def ready() -> bool:
                return (await serve.readyz())[0] == 200

            await wait_until(ready, timeout=60, what="readiness once the cloud answers")
            assert await serve.terminate() == 0
    finally:
        await sim.stop()
    assert_clean_logs(serve)
    assert len(_warnings(serve, "waiting for the cloud: first cloud read failed")) == 1
    assert any(m.startswith("reached the cloud after ") for m in serve.messages())


@pytest.mark.postgres
async def test_a_database_that_refuses_the_bot_stops_it_at_once_with_exit_2(
    sim: SimCloud, slack: FakeSlack, config_file: Path, tmp_path: Path
) -> None:
    missing = make_url(POSTGRES_ADMIN_URL).set(
        drivername="postgresql+asyncpg", database=f"bbtest_missing_{os.getpid()}"
    )
    url = missing.render_as_string(hide_password=False)
    env = serve_env(sim, slack, database_url=url, config=config_file, port=free_port())
    async with serving(env, tmp_path) as serve:
        assert await serve.wait_exit(20) == 2
    errors = [r for r in serve.records() if r["level"] in ("ERROR", "CRITICAL")]
    assert [e["msg"] for e in errors] == [
        f"cannot start: DATABASE_URL: PostgreSQL at 127.0.0.1:5432 has no database "
        f"{missing.database}; create it first"
    ]
