"""The YAML config: the example file is valid, and a wrong file names the line and the reason."""

from datetime import timedelta
from pathlib import Path
from typing import get_args, get_origin

import pytest
from pydantic import BaseModel

from bot.cloud.models import Environment
from bot.config import BotConfig, ConfigFileError, load_config, parse_config
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_config_is_valid_and_means_what_it_says() -> None:
    config = load_config(ROOT / "backups-bot.example.yaml")
    assert config.watch.folders == ["b1gexamplefolder0001"]
    assert config.watch.clouds == ["b1gexamplecloud00001"]
    assert config.watch.exclude is not None
    assert config.watch.exclude.labels == {"backups": "ignore"}
    assert config.freshness.grace == timedelta(hours=2)
    assert config.freshness.overrides[0].max_age == timedelta(hours=6)
    assert config.digests[0].timezone == "Europe/Moscow"
    assert config.alerts[0].match.environment is Environment.PRODUCTION
    assert config.alerts[0].repeat == timedelta(hours=4)
    assert config.access.rules[0].commands == ["backup", "snooze", "unsnooze"]
    [drill] = config.drills
    assert drill.match.labels == {"tier": "critical"}
    assert drill.subnets == {"ru-central1-a": "e9bexamplesubnet01"}
    assert (drill.time_limit, drill.max_concurrent) == (timedelta(hours=3), 1)
    assert drill.rto_target == timedelta(hours=1)


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


# --- every number and duration, refused when it cannot work ---------------------------------

#: The keys a drill requires.
DRILL = (
    "drills:\n  - folder: b1gf\n    network: enpn\n    subnets:\n      ru-central1-a: e9bs\n"
    "    channel: C1\n"
)

#: Every numeric and duration key of the config: its kind, the YAML that sets it to ``{v}`` (with
#: whatever else its section requires), and a value the bot can run with.
KEYS: dict[str, tuple[str, str, str]] = {
    "freshness.grace": ("duration", "freshness:\n  grace: {v}\n", "2h"),
    "freshness.default_max_age": ("duration", "freshness:\n  default_max_age: {v}\n", "26h"),
    "freshness.overrides.0.max_age": (
        "duration",
        "freshness:\n  overrides:\n    - max_age: {v}\n",
        "6h",
    ),
    "freshness.shrink_warning": ("ratio", "freshness:\n  shrink_warning: {v}\n", "0.3"),
    "digests.0.misfire_grace": (
        "duration",
        "digests:\n  - channel: C1\n    misfire_grace: {v}\n",
        "2h",
    ),
    "alerts.0.repeat": ("duration", "alerts:\n  - channel: C1\n    repeat: {v}\n", "4h"),
    "alerts.0.group_after": ("count", "alerts:\n  - channel: C1\n    group_after: {v}\n", "5"),
    "sweep.every": ("duration", "sweep:\n  every: {v}\n", "15m"),
    "sweep.blind_after": ("count", "sweep:\n  blind_after: {v}\n", "3"),
    "sweep.lease": ("duration", "sweep:\n  lease: {v}\n", "5m"),
    "limits.user_per_minute": ("count", "limits:\n  user_per_minute: {v}\n", "30"),
    "limits.channel_per_minute": ("count", "limits:\n  channel_per_minute: {v}\n", "60"),
    "limits.backup_every": ("duration", "limits:\n  backup_every: {v}\n", "10m"),
    "slo.target": ("percent", "slo:\n  target: {v}\n", "99.5%"),
    "slo.overrides.0.target": ("percent", "slo:\n  overrides:\n    - target: {v}\n", "99.9%"),
    "ledger.retention": ("duration", "ledger:\n  retention: {v}\n", "396d"),
    "drills.0.random_within": ("duration", DRILL + "    random_within: {v}\n", "7d"),
    "drills.0.time_limit": ("duration", DRILL + "    time_limit: {v}\n", "3h"),
    "drills.0.max_concurrent": ("count", DRILL + "    max_concurrent: {v}\n", "1"),
    "drills.0.hosts": ("count", DRILL + "    hosts: {v}\n", "1"),
    "drills.0.verify_port": ("count", DRILL + "    verify_port: {v}\n", "9200"),
}

#: What no key of a kind takes: zero (unless it means "no limit"), negatives, bare numbers for
#: durations, and values far beyond any use (a hundred years, a billion).
BAD: dict[str, tuple[str, ...]] = {
    "duration": ("0", "0s", "0m", "-5m", "-5", "15", "15.5", "1:30", "5200w", "yes", "15 minutes"),
    "count": ("-1", "1000000000", "1.5", "many"),
    "ratio": ("-0.1", "1.5", "1e9", "half"),
    "percent": ("0", "0%", "-1", "101%", "1e9", "most", "yes"),
}
#: Counts where 0 means "no limit".
ZERO_ALLOWED = {"limits.user_per_minute", "limits.channel_per_minute"}


def _numeric_keys(model: type[BaseModel] = BotConfig, prefix: str = "") -> set[str]:
    """Every int, float and duration key of the config models (a list's item as index 0)."""
    found: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        inner = get_args(annotation)[0] if get_origin(annotation) is list else annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            found |= _numeric_keys(inner, f"{path}.0." if inner is not annotation else f"{path}.")
        elif annotation in (int, float, timedelta):
            found.add(path)
    return found


def test_the_table_holds_every_numeric_and_duration_key_of_the_config() -> None:
    assert set(KEYS) == _numeric_keys()


def _cases() -> list[tuple[str, str]]:
    cases = []
    for key, (kind, _, _) in KEYS.items():
        values = BAD[kind] + (("0",) if kind == "count" and key not in ZERO_ALLOWED else ())
        cases += [(key, value) for value in values]
    cases += [("sweep.every", "30s"), ("sweep.lease", "30s"), ("sweep.every", "2d")]
    cases += [("sweep.lease", "2h"), ("digests.0.misfire_grace", "2d")]
    return cases


@pytest.mark.parametrize(("key", "value"), _cases())
def test_a_value_that_cannot_work_is_refused_in_one_line_with_what_to_write(
    key: str, value: str
) -> None:
    template = KEYS[key][1]
    text = template.format(v=value)
    line = text.count("\n")  # the key is on the template's last line
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="x.yaml")
    [problem] = caught.value.problems
    assert problem.startswith(f"x.yaml:{line}: {key}: "), problem
    assert "\n" not in problem
    assert "write" in problem.split(": ", 2)[2], problem


@pytest.mark.parametrize("key", KEYS)
def test_a_value_the_bot_can_run_with_is_taken(key: str) -> None:
    _, template, good = KEYS[key]
    parse_config(template.format(v=good), source="x.yaml")


def test_a_bare_number_for_a_duration_says_which_units_to_write() -> None:
    with pytest.raises(ConfigFileError) as caught:
        parse_config("sweep:\n  every: 15\n", source="x.yaml")
    assert str(caught.value) == (
        "x.yaml:2: sweep.every: 15 has no unit; write 15m for minutes, 15s for seconds "
        "(or 15h, 15d)"
    )


def test_a_sweep_more_often_than_once_a_minute_is_refused_unless_fast_sweeps_are_allowed() -> None:
    text = "sweep:\n  every: 2s\n  lease: 3s\n"
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="x.yaml")
    assert [p.split(": ")[1] for p in caught.value.problems] == ["sweep.every", "sweep.lease"]
    fast = parse_config(text, source="x.yaml", fast_sweeps=True)
    assert (fast.sweep.every, fast.sweep.lease) == (timedelta(seconds=2), timedelta(seconds=3))


def test_a_digest_grace_not_longer_than_the_lease_is_refused_at_the_grace() -> None:
    text = "sweep:\n  lease: 30m\ndigests:\n  - channel: C1\n    misfire_grace: 20m\n"
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="x.yaml")
    assert str(caught.value).startswith(
        "x.yaml:5: digests.0.misfire_grace: 20m is not longer than sweep.lease (30m)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 1000 + "]" * 1000 + "\n",
        "a: " + "{b: " * 1000 + "1" + "}" * 1000 + "\n",
        "".join(" " * i + "k:\n" for i in range(1000)) + " " * 1000 + "v: 1\n",
        "a: " + "[" * 100_000,  # unclosed, too
    ],
    ids=["flow lists", "flow mappings", "block mappings", "unclosed"],
)
def test_a_config_nested_a_thousand_deep_is_one_line_not_a_recursion_error(text: str) -> None:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="x.yaml")
    [problem] = caught.value.problems
    assert "nested more than 8 levels deep" in problem
    assert problem.startswith("x.yaml:")


def test_an_alias_bomb_is_refused_without_expanding_it() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
    )
    with pytest.raises(ConfigFileError, match="more than 100,000 values"):
        parse_config(text, source="x.yaml")


def test_a_shallow_alias_is_still_fine() -> None:
    text = (
        "alerts:\n  - channel: C1\n    match: &prod {environment: PRODUCTION}\n"
        "  - channel: C2\n    match: *prod\n"
    )
    config = parse_config(text, source="x.yaml")
    assert config.alerts[1].match.environment is Environment.PRODUCTION


def test_drills_are_off_unless_configured_and_take_the_contracts_defaults() -> None:
    assert parse_config("").drills == []
    [drill] = parse_config(DRILL).drills
    assert drill.time_limit == timedelta(hours=3)
    assert drill.max_concurrent == 1
    assert drill.backup == "newest"
    assert drill.verify == "none"
    assert drill.disk is None
    assert drill.rto_target is None


@pytest.mark.parametrize(
    ("extra", "key", "says"),
    [
        ("    backup: oldest\n", "drills.0.backup", "newest"),
        ("    verify: yes\n", "drills.0.verify", "opensearch"),
        ("    time_limit: 5m\n", "drills.0.time_limit", "costs money"),
        ("    time_limit: 3d\n", "drills.0.time_limit", "write 2d or less"),
        ("    disk: 5\n", "drills.0.disk", "10"),
        ("    schedule: monthly\n", "drills.0.schedule", "five fields"),
        ("    timezone: Mars/Olympus\n", "drills.0.timezone", "IANA"),
        ("    rto_target: 0s\n", "drills.0.rto_target", ""),
        ("    subnets: {}\n", "drills.0.subnets", "one per zone"),
    ],
)
def test_a_drill_that_cannot_run_is_refused_at_its_key(extra: str, key: str, says: str) -> None:
    text = (
        DRILL.replace("    subnets: {ru-central1-a: e9bs}\n", "") if "subnets" in extra else DRILL
    )
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text + extra, source="x.yaml")
    [problem] = caught.value.problems
    assert f": {key}: " in problem, problem
    assert says in problem, problem


@pytest.mark.parametrize("missing", ["folder", "network", "subnets", "channel"])
def test_a_drill_says_where_it_restores_to_and_reports(missing: str) -> None:
    lines = DRILL.replace("  - folder", "  - match: {}\n    folder").splitlines()
    dropped = [line for line in lines if missing not in line and "ru-central1" not in line]
    if missing != "subnets":
        dropped.append("    subnets:\n      ru-central1-a: e9bs")
    text = "\n".join(dropped) + "\n"
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="x.yaml")
    assert any(missing in p for p in caught.value.problems), caught.value.problems


def test_a_cloud_or_an_organization_alone_is_something_to_watch() -> None:
    assert BotConfig.model_validate({"watch": {}}).watch.is_empty
    for watch in ({"clouds": ["b1gcloud"]}, {"organization": "bpforg"}):
        parsed = BotConfig.model_validate({"watch": watch}).watch
        assert not parsed.is_empty
        assert parsed.finds_folders
    assert not BotConfig.model_validate({"watch": {"folders": ["b1g"]}}).watch.finds_folders
