"""The one validation ``check`` and ``serve`` share (bot.app.cli.validate_startup), in-process.

tests/app/test_startup_refusals.py runs both verbs as processes over a table of faults; the cases
here go through the same function without the processes' start-up cost.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.cli import validate_startup
from bot.config import WATCHES_NOTHING

FOLDER = "b1gvalidationfolder1"
GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-validation-token",
    "SLACK_SIGNING_SECRET": "validation-signing-secret",
    "YC_IAM_TOKEN": "validation-iam-token",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
}


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean, valid environment in ``tmp_path`` (the config file is bot.yaml there)."""
    import os

    for name in list(os.environ):
        if name.startswith(("SLACK_", "YC_", "BACKUPS_BOT_", "DATABASE_URL", "LOG_", "PORT")):
            monkeypatch.delenv(name)
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "bot.yaml"
    config.write_text(f"watch:\n  folders: [{FOLDER}]\n", encoding="utf-8")
    monkeypatch.setenv("BACKUPS_BOT_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.chdir(tmp_path)
    return config


def _details() -> list[str]:
    return [p.detail for p in validate_startup().problems]


def test_a_valid_environment_has_no_problem(environment: Path) -> None:
    startup = validate_startup()
    assert startup.ok, startup.problems
    assert startup.config is not None
    assert startup.config.watch.folders == [FOLDER]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (b"watch:\n  folders: [a]\n#\n# \xff\n", "bot.yaml:4: not UTF-8 (byte 0xff at column 3)"),
        ("watch:\n  folders: [a]\nsweep:\n  every: 0m\n", "sweep.every: '0m' is zero"),
        ("watch:\n\tfolders: [b1g]\n", "bot.yaml:2: "),
        ("# watch:\n#   folders: [a]\n", WATCHES_NOTHING),
        (
            "watch:\n  folders: [a]\ndigests:\n  - channel: C1\n    schedule: '61 9 * * *'\n",
            "digests.0.schedule: '61 9 * * *' is not a valid cron schedule",
        ),
        (
            "watch:\n  folders: [a]\nlimits:\n  backup_every: never\n",
            "limits.backup_every: 'never' is not a duration",
        ),
        (
            "watch:\n  folders: [a]\nlimits:\n  per_user: 5\n",
            "limits.per_user: unknown key; the keys of limits are user_per_minute, channel_",
        ),
        ("watch:\n  only:\n    - environment: PROD\n", "watch.only.0.environment: Input should be"),
    ],
)
def test_each_config_fault_is_one_line_naming_the_file_and_line(
    environment: Path, config: str | bytes, expected: str
) -> None:
    environment.write_bytes(config if isinstance(config, bytes) else config.encode())
    details = _details()
    assert len(details) == 1, details
    assert expected in details[0]
    assert "\n" not in details[0]


def test_several_config_faults_are_a_line_each(environment: Path) -> None:
    environment.write_text(
        "watch:\n  folders: [a]\n  folder: [b]\nfreshness:\n  grace: 2x\n", encoding="utf-8"
    )
    details = _details()
    assert [d.split(": ", 2)[:2] for d in details] == [
        [f"{environment}:3", "watch.folder"],
        [f"{environment}:5", "freshness.grace"],
    ]


def test_a_config_path_that_is_a_directory_is_one_line(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUPS_BOT_CONFIG", str(environment.parent))
    assert _details() == [
        f"{environment.parent}: cannot read the config file (Is a directory); "
        "check BACKUPS_BOT_CONFIG"
    ]


def test_no_config_file_at_all_watches_nothing(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKUPS_BOT_CONFIG")
    environment.unlink()
    [detail] = _details()
    assert detail.startswith("no config file (BACKUPS_BOT_CONFIG is not set")
    assert detail.endswith(WATCHES_NOTHING)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: 'loud' is not a log level; use one of DEBUG, INFO"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind", "SLACK_APP_TOKEN does not look like an app-level"),
        (
            "DATABASE_URL",
            "postgresql+asyncpg://bot:pw-secret-1@db:5432",
            "DATABASE_URL names no PostgreSQL database; add /<database> after the host",
        ),
        ("DATABASE_URL", "://", "DATABASE_URL is not a database URL"),
        ("DATABASE_URL", "postgresql://bot:pw@db:notaport/x", "DATABASE_URL is not a database URL"),
        ("DATABASE_URL", "oracle://bot:pw@db/x", "'oracle' databases are not supported"),
        ("YC_REQUEST_TIMEOUT", "-1", "YC_REQUEST_TIMEOUT: Input should be greater than 0"),
    ],
)
def test_each_environment_fault_is_one_line_naming_the_variable(
    environment: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    details = _details()
    assert len(details) == 1, details
    assert expected in details[0]
    assert "pw-secret-1" not in details[0]


def test_postgres_urls_are_accepted_with_or_without_the_driver(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in ("postgresql://bot@db:5432/bot", "postgres://bot@db/bot", "sqlite:///./x.db"):
        monkeypatch.setenv("DATABASE_URL", url)
        assert _details() == [], url
