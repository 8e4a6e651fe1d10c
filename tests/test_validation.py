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


# --- in the config's language (issue 23): the same refusals, said in Russian -----------------

RUSSIAN = "locale: ru\n"


@pytest.fixture
def shell_language(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No language from the shell unless a test sets one."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            "sweep:\n  every: 0m\n",
            "sweep.every: '0m' — ноль; длительность должна быть положительной",
        ),
        ("sweep:\n  every: 15\n", "sweep.every: у 15 нет единицы; напишите 15m для минут"),
        ("sweep:\n  every: 10s\n", "sweep.every: 10s — слишком коротко: проверка читает весь парк"),
        ("freshness:\n  grace: 2x\n", "freshness.grace: '2x' — не длительность"),
        ("sweep:\n  blind_after: 0\n", "нужно значение не меньше 1; напишите целое число от 1"),
        ("sweep:\n  blind_after: many\n", "нужно целое число; напишите целое число от 1 до 10000"),
        ("limits:\n  per_user: 5\n", "limits.per_user: неизвестный ключ; ключи limits: "),
        ("sweeps:\n  every: 5m\n", "sweeps: неизвестный ключ; может быть, sweep? ключи верхнего"),
        ("digests:\n  - schedule: '0 9 * * *'\n", "digests.0.channel: обязательное поле; добавьте"),
        ("digests:\n  - {channel: C1, timezone: Mars}\n", "'Mars' — не часовой пояс IANA"),
        ("digests:\n  - {channel: C1, schedule: daily}\n", "'daily' — не расписание cron"),
        ("alerts:\n  - {channel: C1, mention: [bob]}\n", "'bob' — не id группы пользователей"),
        ("alerts:\n  - {channel: C1, group_by: [team]}\n", "'team' — не ключ группировки"),
        ("watch: [a\n", "исправьте там синтаксис YAML"),
    ],
)
def test_a_config_fault_is_said_in_the_configs_language(
    environment: Path, shell_language: pytest.MonkeyPatch, config: str, expected: str
) -> None:
    environment.write_text(RUSSIAN + f"watch:\n  folders: [{FOLDER}]\n" + config, "utf-8")
    if config.startswith("watch:"):
        environment.write_text(RUSSIAN + config, "utf-8")
    details = _details()
    assert len(details) == 1, details
    assert expected in details[0]


def test_a_config_that_names_no_locale_is_refused_in_english(
    environment: Path, shell_language: pytest.MonkeyPatch
) -> None:
    shell_language.setenv("LANG", "ru_RU.UTF-8")  # the config's language wins over the shell's
    environment.write_text(f"watch:\n  folders: [{FOLDER}]\nsweep:\n  every: 0m\n", "utf-8")
    [detail] = _details()
    assert "sweep.every: '0m' is zero; a duration must be positive" in detail


def test_a_locale_the_bot_does_not_speak_is_refused_in_the_shells_language(
    environment: Path, shell_language: pytest.MonkeyPatch
) -> None:
    shell_language.setenv("LANG", "ru_RU.UTF-8")
    environment.write_text(f"locale: de\nwatch:\n  folders: [{FOLDER}]\n", "utf-8")
    [detail] = _details()
    assert "locale: 'de' — не язык бота; напишите один из: en, ru" in detail


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "файл конфига не читается"),
        ({"LC_ALL": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, "файл конфига не читается"),
        ({"LC_ALL": "C.UTF-8", "LANG": "ru_RU.UTF-8"}, "cannot read the config file"),
        ({"LANG": "de_DE.UTF-8"}, "cannot read the config file"),
        ({}, "cannot read the config file"),
    ],
)
def test_a_config_that_cannot_be_read_is_refused_in_the_shells_language(
    environment: Path, shell_language: pytest.MonkeyPatch, variables: dict[str, str], said: str
) -> None:
    for name, value in variables.items():
        shell_language.setenv(name, value)
    shell_language.setenv("BACKUPS_BOT_CONFIG", str(environment.parent))  # a directory
    [detail] = _details()
    assert said in detail


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "70000", "PORT: нужно значение не больше 65535; исправьте переменную (или .env)"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: 'loud' — не уровень логов; используйте один из: DEBUG"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind", "SLACK_APP_TOKEN не похож на токен уровня"),
        ("DATABASE_URL", "oracle://bot:pw@db/x", "DATABASE_URL: базы 'oracle' не поддерживаются"),
    ],
)
def test_an_environment_fault_is_said_in_the_configs_language(
    environment: Path,
    shell_language: pytest.MonkeyPatch,
    name: str,
    value: str,
    expected: str,
) -> None:
    environment.write_text(RUSSIAN + f"watch:\n  folders: [{FOLDER}]\n", "utf-8")
    shell_language.setenv(name, value)
    details = _details()
    assert len(details) == 1, details
    assert expected in details[0]
    assert "pw" not in details[0]
