"""``backups-bot exec``: a real subprocess against the simulated cloud on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import clock
from bot.app.cli import build_parser
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.server import SimCloud
from tests.slack.harness import FOLDER, LOGS, backup_id, make_fleet


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    async with SimCloud(SimConfig(), make_fleet(clock.now())) as cloud:
        yield cloud


def _env(cloud_url: str, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YC_", "SLACK_"))}
    env.update(
        YC_MDB_ENDPOINT=cloud_url,
        YC_RESOURCE_MANAGER_ENDPOINT=cloud_url,
        YC_OPERATION_ENDPOINT=cloud_url,
        YC_IAM_ENDPOINT=cloud_url,
        YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
        YC_REQUEST_TIMEOUT="5",
        BACKUPS_BOT_CONFIG=str(config),
        COLUMNS="100",
    )
    return env


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "backups-bot.yaml"
    path.write_text(f"watch:\n  folders: [{FOLDER}]\n", encoding="utf-8")
    return path


async def _exec(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "exec",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_exec_prints_the_answer_as_the_console_renders_it(
    sim: SimCloud, config_file: Path, tmp_path: Path
) -> None:
    code, out, err = await _exec(
        _env(sim.url, config_file), tmp_path, "--", "list", "logs-prod", "--limit", "3"
    )
    assert code == 0, err
    assert backup_id(LOGS, 2) in out
    assert backup_id(LOGS, 3) not in out
    assert "&lt;" not in out
    assert '"blocks"' not in out


async def test_exec_json_prints_the_slack_payload(
    sim: SimCloud, config_file: Path, tmp_path: Path
) -> None:
    code, out, _ = await _exec(
        _env(sim.url, config_file), tmp_path, "--json", "--", "get", backup_id(LOGS, 0)
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["response_type"] == "ephemeral"
    assert payload["blocks"]
    assert "&lt;!channel&gt;" in json.dumps(payload)


async def test_exec_exits_2_on_a_usage_error(
    sim: SimCloud, config_file: Path, tmp_path: Path
) -> None:
    code, out, _ = await _exec(_env(sim.url, config_file), tmp_path, "--", "lsit", "x")
    assert code == 2
    assert "/backups list" in out


async def test_exec_exits_1_when_the_cloud_cannot_be_reached(
    config_file: Path, tmp_path: Path, unused_tcp_port: int
) -> None:
    env = _env(f"http://127.0.0.1:{unused_tcp_port}", config_file)
    code, out, err = await _exec(env, tmp_path, "--", "list", LOGS)
    assert code == 1
    assert "can't reach the cloud" in out
    assert "Traceback" not in out + err


async def test_exec_answers_watcher_commands_with_the_same_state_as_serve(
    sim: SimCloud, config_file: Path, tmp_path: Path
) -> None:
    env = _env(sim.url, config_file)
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"
    code, out, err = await _exec(env, tmp_path, "--", "clusters")
    assert code == 0, err
    assert "logs-prod" in out
    assert "search-prod" in out
    # With no open alert there is nothing to snooze: a usage error that says so.
    code, out, err = await _exec(env, tmp_path, "--", "snooze", "logs-prod", "4h")
    assert code == 2
    assert "logs-prod has no open alert to snooze" in out
    assert "Traceback" not in out + err
    code, out, _ = await _exec(env, tmp_path, "--", "status")
    assert code == 0
    assert "Backups status" in out
    assert "4 fresh" in out


def test_exec_is_a_registered_verb() -> None:
    args = build_parser().parse_args(["exec", "--json", "--", "list", "x", "--limit", "3"])
    assert args.json
    assert args.words == ["--", "list", "x", "--limit", "3"]


async def test_exec_get_shows_restore_readiness_and_the_size_trend(
    sim: SimCloud, config_file: Path, tmp_path: Path
) -> None:
    from bot.demo.simcloud.fleet import GIB

    newest = sim.fleet.backup(backup_id(LOGS, 0))
    assert newest is not None
    newest.free_space_required_bytes = 2 * 1024 * GIB  # more than the data nodes' 1.5 TiB
    code, out, err = await _exec(
        _env(sim.url, config_file), tmp_path, "--", "get", backup_id(LOGS, 0)
    )
    assert code == 0, err
    flat = " ".join(out.split())
    assert (
        "A restore of this backup would not fit a cluster of this shape: it needs 2 TiB free, "
        "the data nodes have 1.5 TiB." in flat
    )
    assert "Last 14 backups, oldest first: size " in flat
    assert "40 GiB–53 GiB" in flat
    assert any(block in out for block in "▁▂▃▄▅▆▇█")
