"""The YAML config: what to watch, how fresh is fresh, where digests and alerts go, who may do what.

Validated by pydantic at start; a wrong file is refused with the line and the reason
(``ConfigError("backups-bot.yaml:12: freshness.grace: '2x' is not a duration ...")``).
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
)

from bot.cloud.models import Environment
from bot.cron import cron_trigger
from bot.durations import format_duration, parse_duration
from bot.errors import ConfigError
from bot.fleet.grouping import check_group_by


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("expected a duration like 90m, 26h or 7d")


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(lambda d: format_duration(d, parts=4), return_type=str),
]


class ConfigFileError(ConfigError):
    """A config file with one or more problems, each one line: ``file:line: key: what to do``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


#: What a watched config means when it names nothing to watch; check and serve refuse it.
WATCHES_NOTHING = "the config watches nothing: add watch.folders or watch.clusters"


def decode_problem(source: str, raw: bytes, exc: UnicodeDecodeError) -> str:
    """One line for a file that is not UTF-8: where the first bad byte is, and what to do."""
    before = raw[: exc.start]
    line = before.count(b"\n") + 1
    column = exc.start - (before.rfind(b"\n") + 1) + 1
    return (
        f"{source}:{line}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {column}); "
        "save the file as UTF-8"
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """Which clusters a rule applies to; every given key must match, an empty match matches all."""

    folder: str | None = None
    cluster: str | None = Field(default=None, description="cluster id or name")
    labels: dict[str, str] = Field(default_factory=dict)
    environment: Environment | None = None

    @field_validator("environment", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Watch(_Strict):
    folders: list[str] = Field(default_factory=list)
    clusters: list[str] = Field(default_factory=list)
    #: Only clusters matching one of these (if any) are watched, e.g. by label or environment.
    only: list[Match] = Field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Nothing to watch: no folder and no cluster."""
        return not self.folders and not self.clusters


class FreshnessOverride(_Strict):
    match: Match = Field(default_factory=Match)
    max_age: Duration


class Freshness(_Strict):
    grace: Duration = timedelta(hours=2)
    default_max_age: Duration = timedelta(hours=24)
    overrides: list[FreshnessOverride] = Field(default_factory=list)
    #: A newest backup this much smaller than the one before it is flagged (0.3 = 30 %).
    shrink_warning: float = Field(default=0.3, ge=0, le=1)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Moscow)") from exc
    return value


def _check_cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(
            f"{value!r} is not a cron schedule; write five fields: minute hour day month weekday"
        )
    try:
        cron_trigger(value, "UTC")
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid cron schedule: {exc}") from None
    return value


class DigestRoute(_Strict):
    channel: str
    schedule: str = "30 9 * * mon-fri"
    timezone: str = "UTC"
    only_problems: bool = False
    match: Match = Field(default_factory=Match)
    #: A digest missed while the bot was down is still posted if it comes back within this.
    misfire_grace: Duration = timedelta(hours=2)
    #: The digest's problems are shown in groups: by folder, environment or label:<name>.
    group_by: list[str] = Field(default_factory=lambda: ["folder"])

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _cron = field_validator("schedule")(classmethod(lambda cls, v: _check_cron(v)))
    _group_by = field_validator("group_by")(classmethod(lambda cls, v: check_group_by(v)))


class AlertRoute(_Strict):
    channel: str
    mention: list[str] = Field(default_factory=list)
    repeat: Duration = timedelta(hours=4)
    send_resolved: bool = True
    match: Match = Field(default_factory=Match)
    #: A storm becomes one post per group: [] (the default) is one group for the whole route.
    group_by: list[str] = Field(default_factory=list)
    #: More clusters than this of one group going stale in one sweep are alerted as the group.
    group_after: int = Field(default=5, ge=1)

    _group_by = field_validator("group_by")(classmethod(lambda cls, v: check_group_by(v)))

    @field_validator("mention")
    @classmethod
    def _mention_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item or item[0] not in "SUW":
                raise ValueError(
                    f"{item!r} is not a user group id (S...) or user id (U... or W...)"
                )
        return value


class Sweep(_Strict):
    every: Duration = timedelta(minutes=15)
    blind_after: int = Field(default=3, ge=1)
    #: Where the bot alerts about itself when it cannot read the cloud; default: every alert
    #: route's channel.
    self_alert_channel: str | None = None
    #: How long a replica's claim on a scheduled run holds before another may take it over.
    lease: Duration = timedelta(minutes=5)


class AccessRule(_Strict):
    commands: list[str]
    users: list[str] = Field(default_factory=list)
    usergroups: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)


class Access(_Strict):
    folders: list[str] = Field(default_factory=list)
    rules: list[AccessRule] = Field(default_factory=list)


class Limits(_Strict):
    """What one person or one channel can make the bot do, per bot process. A command over a
    limit is answered "slow down, try again in N s" and not queued."""

    #: Commands and buttons that reach the cloud, per person per minute (0: no limit).
    user_per_minute: int = Field(default=30, ge=0, le=10_000)
    #: The same, for everyone in one channel together (0: no limit).
    channel_per_minute: int = Field(default=60, ge=0, le=10_000)
    #: A backup of one cluster is started at most once in this long, whoever asks; asking again
    #: sooner is answered with the backup already started.
    backup_every: Duration = timedelta(minutes=10)


class BotConfig(_Strict):
    """The whole YAML file."""

    watch: Watch = Field(default_factory=Watch)
    freshness: Freshness = Field(default_factory=Freshness)
    digests: list[DigestRoute] = Field(default_factory=list)
    alerts: list[AlertRoute] = Field(default_factory=list)
    sweep: Sweep = Field(default_factory=Sweep)
    access: Access = Field(default_factory=Access)
    limits: Limits = Field(default_factory=Limits)

    def visible_folders(self) -> list[str]:
        """Folders the bot shows at all: ``access.folders``, else the watched folders."""
        return list(self.access.folders or self.watch.folders)

    def search_folders(self) -> list[str]:
        """Folders where a cluster named by its name is looked for: shown and watched ones."""
        return list(dict.fromkeys([*self.access.folders, *self.watch.folders]))


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a 1-based line number."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _model_at(path: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The config model that the key path leads to (list indexes are skipped), if any."""
    model: type[BaseModel] | None = BotConfig
    for part in path:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        model = _inner_model(model.model_fields[part].annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    """'unknown key' with what to write instead: the nearest known key, and all of them."""
    model = _model_at(loc[:-1])
    if model is None:
        return "unknown key; remove it"
    known = list(model.model_fields)
    near = difflib.get_close_matches(str(loc[-1]), known, n=1)
    where = ".".join(str(p) for p in loc[:-1] if not isinstance(p, int)) or "the top level"
    hint = f"did you mean {near[0]}? " if near else ""
    return f"unknown key; {hint}the keys of {where} are {', '.join(known)}"


def parse_config(text: str, source: str = "config") -> BotConfig:
    """Parse and validate config text; errors name ``source:line`` and the key path, one line
    each (:class:`ConfigFileError`)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigFileError([f"{where}: {problem}; fix the YAML syntax there"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFileError(
            [f"{source}:1: the config must be a mapping of keys (watch, digests, ...)"]
        )
    try:
        return BotConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False, include_input=False):
            loc = tuple(err["loc"])
            line = _line_of(node, loc)
            path = ".".join(str(p) for p in loc) or "(top)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = _unknown_key(loc)
            elif err["type"] == "missing":
                msg = "Field required; add it"
            lines.append(f"{source}:{line or '?'}: {path}: {msg}")
        raise ConfigFileError(lines) from None


def load_config(path: Path | None) -> BotConfig:
    """Read the config file, or return the defaults when there is none."""
    if path is None:
        return BotConfig()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigFileError(
            [f"{path}: cannot read the config file ({reason}); check BACKUPS_BOT_CONFIG"]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError([decode_problem(str(path), raw, exc)]) from None
    return parse_config(text, source=str(path))
