"""The YAML config: the example file is valid, and a wrong file names the line and the reason."""

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cloud.models import Environment
from bot.config import load_config, parse_config
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_config_is_valid_and_means_what_it_says() -> None:
    config = load_config(ROOT / "backups-bot.example.yaml")
    assert config.watch.folders == ["b1gexamplefolder0001"]
    assert config.freshness.grace == timedelta(hours=2)
    assert config.freshness.overrides[0].max_age == timedelta(hours=6)
    assert config.digests[0].timezone == "Europe/Moscow"
    assert config.alerts[0].match.environment is Environment.PRODUCTION
    assert config.alerts[0].repeat == timedelta(hours=4)
    assert config.access.rules[0].commands == ["backup", "snooze", "unsnooze"]


def test_no_file_means_the_defaults() -> None:
    config = load_config(None)
    assert config.freshness.default_max_age == timedelta(hours=24)
    assert config.sweep.every == timedelta(minutes=15)
    assert config.digests == []


def test_an_empty_file_means_the_defaults() -> None:
    assert parse_config("", source="x.yaml") == load_config(None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("freshness:\n  grace: 2x\n", "x.yaml:2: freshness.grace: '2x' is not a duration"),
        ("freshness:\n  grace: 0m\n", "x.yaml:2: freshness.grace: '0m' is zero"),
        (
            "digests:\n  - channel: C1\n    timezone: Mars/Base\n",
            "x.yaml:3: digests.0.timezone: 'Mars/Base' is not an IANA time zone",
        ),
        (
            "digests:\n  - channel: C1\n    schedule: '30 9 * *'\n",
            "x.yaml:3: digests.0.schedule: '30 9 * *' is not a cron schedule",
        ),
        (
            "alerts:\n  - channel: C1\n    mention: [X1]\n",
            "x.yaml:3: alerts.0.mention: 'X1' is not a user group id",
        ),
        ("watch:\n  folder: [a]\n", "x.yaml:2: watch.folder: unknown key"),
        ("alerts:\n  - mention: [S1]\n", "x.yaml:2: alerts.0.channel: Field required"),
        ("- just\n- a list\n", "x.yaml:1: the config must be a mapping"),
        ("watch: [unclosed\n", "x.yaml:2: "),
    ],
)
def test_a_wrong_file_is_refused_with_the_line_and_the_reason(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="x.yaml")
    assert expected in str(caught.value)


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "missing.yaml")


def test_a_cron_field_out_of_range_is_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"x.yaml:3: digests.0.schedule: '61 9 \* \* \*' is not a valid"
    ):
        parse_config("digests:\n  - channel: C1\n    schedule: '61 9 * * *'\n", source="x.yaml")


def test_a_refused_cron_schedule_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"'0 9 \* \* 8' is not a valid cron schedule: weekday: "):
        parse_config("digests:\n  - channel: C1\n    schedule: '0 9 * * 8'\n", source="x.yaml")


def test_crontab_weekday_7_is_sunday_as_in_crontab() -> None:
    config = parse_config("digests:\n  - channel: C1\n    schedule: '0 9 * * 7'\n", source="x")
    assert config.digests[0].schedule == "0 9 * * 7"


def test_names_are_looked_up_in_shown_and_watched_folders_once_each() -> None:
    config = parse_config(
        "watch:\n  folders: [b1gwatched, b1gboth]\naccess:\n  folders: [b1gboth, b1gshown]\n"
    )
    assert config.search_folders() == ["b1gboth", "b1gshown", "b1gwatched"]
    assert config.visible_folders() == ["b1gboth", "b1gshown"]
