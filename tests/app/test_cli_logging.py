"""Every verb logs through the same redacting handler: serve, sweep, digest, exec, check,
drill, demo."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path

import pytest

from bot.app.cli import build_parser, verb_logging
from bot.ops.logging import REDACTED, RedactingFilter
from tests.waiting import free_port

REPO = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-cli-logging-token-0123456789"
IAM_TOKEN = "cli-logging-iam-token-0123456789"
VERBS = ("serve", "sweep", "digest", "exec", "check", "drill", "demo", "report")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "YC_", "BACKUPS_BOT_", "DATABASE_URL", "LOG_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.chdir(tmp_path)


def _ours() -> list[logging.Handler]:
    return [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactingFilter) for f in h.filters)
    ]


def test_every_verb_of_the_command_line_is_one_of_those_checked() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "verb")
    assert set(subparsers.choices) == set(VERBS)  # type: ignore[arg-type]


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("verb", "level"),
    [
        ("serve", "INFO"),
        ("sweep", "WARNING"),
        ("digest", "WARNING"),
        ("exec", "WARNING"),
        ("check", "WARNING"),
        ("drill", "WARNING"),
        ("demo", "ERROR"),
        ("report", "WARNING"),
    ],
)
def test_each_verb_logs_redacted_json_at_its_level_and_cleans_up(
    verb: str, level: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    before = list(logging.getLogger().handlers)
    with verb_logging(verb):
        assert len(_ours()) == 1
        assert logging.getLogger().getEffectiveLevel() == logging.getLevelName(level)
        logging.getLogger("bot.test").error("posting with %s failed", BOT_TOKEN)
    assert _ours() == []
    assert logging.getLogger().handlers == before
    [line] = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["msg"] == f"posting with {REDACTED} failed"
    assert record["request_id"] == "-"


@pytest.mark.usefixtures("clean_env")
def test_log_level_set_applies_to_every_verb(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    with verb_logging("exec"):
        assert logging.getLogger().getEffectiveLevel() == logging.DEBUG


@pytest.mark.usefixtures("clean_env")
def test_a_bad_log_level_is_said_once_by_the_other_verbs_which_go_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    monkeypatch.setenv("LOG_FORMAT", "json")
    with verb_logging("sweep"):
        assert logging.getLogger().getEffectiveLevel() == logging.WARNING
    [line] = capsys.readouterr().err.splitlines()
    assert "LOG_LEVEL: 'LOUD' is not a log level" in json.loads(line)["msg"]


@pytest.mark.usefixtures("clean_env")
def test_secrets_are_redacted_even_when_the_settings_do_not_parse(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    monkeypatch.setenv("YC_IAM_TOKEN", IAM_TOKEN)
    with verb_logging("exec"):
        logging.getLogger("bot.test").warning("token %s", IAM_TOKEN)
    assert IAM_TOKEN not in capsys.readouterr().err


async def test_the_sweep_verb_writes_json_log_lines_without_secrets(tmp_path: Path) -> None:
    config = tmp_path / "bot.yaml"
    config.write_text("watch:\n  folders: [b1gunreachable00001]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YC_", "LOG_"))}
    env.update(
        PYTHONPATH=str(REPO),
        YC_MDB_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        YC_RESOURCE_MANAGER_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        YC_IAM_TOKEN=IAM_TOKEN,
        YC_REQUEST_TIMEOUT="2",
        BACKUPS_BOT_CONFIG=str(config),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        LOG_LEVEL="DEBUG",
        LOG_FORMAT="json",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sweep",
        "--dry-run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    lines = err.decode().splitlines()
    assert lines, "the sweep logged nothing at DEBUG"
    records = [json.loads(line) for line in lines]  # every line a JSON record
    assert all({"ts", "level", "logger", "request_id", "msg"} <= r.keys() for r in records)
    assert IAM_TOKEN not in out.decode() + err.decode()
    assert "Traceback" not in err.decode()
