"""The YAML config: what to watch, how fresh is fresh, where digests and alerts go, who may do what.

Validated by pydantic at start; a wrong file is refused with the line, the reason and what to
write instead (``ConfigError("backups-bot.yaml:12: freshness.grace: '2x' is not a duration ...")``).
A config that passes is one the bot can run: every duration is positive and carries a unit, every
number and duration lies within what the bot can do something sensible with (a sweep at most once
a minute, nothing a hundred years long), and nothing is nested deeper than a config needs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import annotated_types
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from bot.cloud.models import Environment
from bot.cron import cron_trigger
from bot.durations import ZeroDuration, format_duration, parse_duration
from bot.errors import ConfigError
from bot.i18n.catalog import N_, SOURCE_LOCALE, _, available_locales, supported_locale

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: No duration in the config means anything beyond a year: longer is a typo (or a joke).
LONGEST = timedelta(days=366)

#: The shortest ``sweep.every`` and ``sweep.lease`` a config may set. A sweep reads the whole
#: fleet, so more often than once a minute only spends the cloud's quota; a lease shorter than a
#: minute can run out while a digest of a large fleet is still being built (the sweep renews its
#: lease every third of it, a digest does not), and the run is then refused at its commit.
SHORTEST_SWEEP = MINUTE
#: The same with ``BACKUPS_BOT_FAST_SWEEPS=1``, for tests and demos that sweep every second.
SHORTEST_FAST_SWEEP = SECOND
#: Where :func:`parse_config` puts the shortest sweep into pydantic's validation context.
_SHORTEST_SWEEP_KEY = "shortest_sweep"

#: The deepest nesting of mappings and lists a config needs (alerts, a route, its match, its
#: labels: 5) with room to spare; deeper is refused before anything recurses into it.
MAX_NESTING = 8


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(
                _("{value} is not positive; write a positive duration, like 15m").format(
                    value=format_duration(value)
                )
            )
        return value
    if isinstance(value, bool):
        raise ValueError(
            _("{value} is not a duration; write one like 90m, 26h or 7d").format(
                value=str(value).lower()
            )
        )
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError(
                _(
                    "{value} is not a duration; a duration is positive and carries a unit: "
                    "write one like 15m or 2h"
                ).format(value=value)
            )
        if value != int(value):
            raise ValueError(
                _("{value} has no unit; write a whole number and a unit, like 15m").format(
                    value=value
                )
            )
        raise ValueError(
            _("{n} has no unit; write {n}m for minutes, {n}s for seconds (or {n}h, {n}d)").format(
                n=int(value)
            )
        )
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-"):
            positive = text[1:].strip() or "15m"
            raise ValueError(
                _("{value} is negative; a duration must be positive: write {positive}").format(
                    value=repr(value), positive=positive
                )
            )
        try:
            return parse_duration(value)
        except ZeroDuration as exc:
            raise ValueError(
                _("{problem}: write one like 90m, 26h or 7d").format(problem=exc)
            ) from None
        # any other ValueError: its message already says what to write
    raise ValueError(_("expected a duration; write one like 90m, 26h or 7d"))


def _longest(delta: timedelta) -> timedelta:
    if delta > LONGEST:
        raise ValueError(
            _("{value} is longer than any duration here can be; write {most} or less").format(
                value=format_duration(delta), most=format_duration(LONGEST)
            )
        )
    return delta


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    AfterValidator(_longest),
    PlainSerializer(lambda d: format_duration(d, parts=4), return_type=str),
]


def _within(least: timedelta, most: timedelta, *, why: str = "") -> AfterValidator:
    """A duration between ``least`` and ``most`` (both allowed); ``why`` (marked with ``N_``)
    says what the bound is for, in the refusal."""

    def check(delta: timedelta) -> timedelta:
        if delta < least:
            said = (
                _("{value} is too short ({why}); write {least} or more")
                if why
                else _("{value} is too short; write {least} or more")
            )
            raise ValueError(
                said.format(
                    value=format_duration(delta), why=why and _(why), least=format_duration(least)
                )
            )
        if delta > most:
            said = (
                _("{value} is too long ({why}); write {most} or less")
                if why
                else _("{value} is too long; write {most} or less")
            )
            raise ValueError(
                said.format(
                    value=format_duration(delta), why=why and _(why), most=format_duration(most)
                )
            )
        return delta

    return AfterValidator(check)


# --- grouping keys: what a route's group_by may say (bot.fleet.grouping groups by them) --------

FOLDER = "folder"
ENVIRONMENT = "environment"
LABEL_PREFIX = "label:"

_HOW = N_("{key} is not a grouping key; use folder, environment or label:<name>")


def check_group_by(keys: Sequence[str]) -> list[str]:
    """``keys`` as given, or ValueError with a one-line reason for the first bad or repeated one."""
    seen: set[str] = set()
    for key in keys:
        if not isinstance(key, str) or not _is_key(key):
            raise ValueError(_(_HOW).format(key=repr(key)))
        if key in seen:
            raise ValueError(
                _("{key} is given twice; name each grouping key once").format(key=repr(key))
            )
        seen.add(key)
    return list(keys)


def _is_key(key: str) -> bool:
    if key in (FOLDER, ENVIRONMENT):
        return True
    name = key.removeprefix(LABEL_PREFIX)
    return key.startswith(LABEL_PREFIX) and bool(name.strip()) and name == name.strip()


class ConfigFileError(ConfigError):
    """A config file with one or more problems, each one line: ``file:line: key: what to do``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


#: What a watched config means when it names nothing to watch; check and serve refuse it.
WATCHES_NOTHING = N_(
    "the config watches nothing: add watch.clouds (every folder of a cloud), watch.folders "
    "or watch.clusters"
)


def decode_problem(source: str, raw: bytes, exc: UnicodeDecodeError) -> str:
    """One line for a file that is not UTF-8: where the first bad byte is, and what to do."""
    before = raw[: exc.start]
    line = before.count(b"\n") + 1
    column = exc.start - (before.rfind(b"\n") + 1) + 1
    return _(
        "{source}:{line}: not UTF-8 (byte {byte} at column {column}); save the file as UTF-8"
    ).format(source=source, line=line, byte=f"0x{raw[exc.start]:02x}", column=column)


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
    #: Every ACTIVE folder of these clouds, found anew each sweep (Resource Manager).
    clouds: list[str] = Field(default_factory=list)
    #: Every cloud of this organization, as if each were in ``clouds``.
    organization: str | None = None
    folders: list[str] = Field(default_factory=list)
    clusters: list[str] = Field(default_factory=list)
    #: Only clusters matching one of these (if any) are watched, e.g. by label or environment.
    only: list[Match] = Field(default_factory=list)
    #: Clusters left out on purpose, wherever they are found.
    exclude: Match | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing to watch: no cloud, no organization, no folder and no cluster."""
        return not (self.clouds or self.organization or self.folders or self.clusters)

    @property
    def finds_folders(self) -> bool:
        """Whether folders are found in clouds (``clouds`` or ``organization``)."""
        return bool(self.clouds or self.organization)


class FreshnessOverride(_Strict):
    match: Match = Field(default_factory=Match)
    max_age: Duration


class Freshness(_Strict):
    grace: Annotated[Duration, _within(SECOND, timedelta(days=30))] = timedelta(hours=2)
    default_max_age: Duration = timedelta(hours=24)
    overrides: list[FreshnessOverride] = Field(default_factory=list)
    #: A newest backup this much smaller than the one before it is flagged (0.3 = 30 %).
    shrink_warning: float = Field(default=0.3, ge=0, le=1)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            _("{value} is not an IANA time zone (e.g. Europe/Moscow)").format(value=repr(value))
        ) from exc
    return value


def _check_cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(
            _(
                "{value} is not a cron schedule; write five fields: minute hour day month weekday"
            ).format(value=repr(value))
        )
    try:
        cron_trigger(value, "UTC")
    except ValueError as exc:
        raise ValueError(
            _("{value} is not a valid cron schedule: {problem}").format(
                value=repr(value), problem=exc
            )
        ) from None
    return value


# --- languages (issue 23): who reads a channel's posts in which language ----------------------


def _check_locale(value: str) -> str:
    locale = supported_locale(value)
    if locale is None:
        speaks = ", ".join(sorted(available_locales()))
        raise ValueError(
            _("{value} is not a language the bot speaks; write one of: {speaks}").format(
                value=repr(value), speaks=speaks
            )
        )
    return locale


#: A language the bot has a catalog for: ``en``, ``ru`` (``ru-RU`` reads as ``ru``).
LocaleName = Annotated[str, AfterValidator(_check_locale)]


class DigestRoute(_Strict):
    channel: str
    #: The digest's language; unset: the top-level ``locale``.
    locale: LocaleName | None = None
    schedule: str = "30 9 * * mon-fri"
    timezone: str = "UTC"
    only_problems: bool = False
    match: Match = Field(default_factory=Match)
    #: A digest missed while the bot was down is still posted if it comes back within this.
    misfire_grace: Annotated[
        Duration, _within(MINUTE, DAY, why=N_("a digest more than a day late is the next one's"))
    ] = timedelta(hours=2)
    #: The digest's problems are shown in groups: by folder, environment or label:<name>.
    group_by: list[str] = Field(default_factory=lambda: ["folder"])

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _cron = field_validator("schedule")(classmethod(lambda cls, v: _check_cron(v)))
    _group_by = field_validator("group_by")(classmethod(lambda cls, v: check_group_by(v)))


class AlertRoute(_Strict):
    channel: str
    #: The language of the route's alerts; unset: the top-level ``locale``.
    locale: LocaleName | None = None
    mention: list[str] = Field(default_factory=list)
    repeat: Annotated[Duration, _within(MINUTE, timedelta(days=30))] = timedelta(hours=4)
    send_resolved: bool = True
    match: Match = Field(default_factory=Match)
    #: A storm becomes one post per group: [] (the default) is one group for the whole route.
    group_by: list[str] = Field(default_factory=list)
    #: More clusters than this of one group going stale in one sweep are alerted as the group.
    group_after: int = Field(default=5, ge=1, le=1000)
    #: A firing alert that nobody acknowledged or snoozed within this of its opening mentions
    #: ``escalate_to`` once in its thread; its later reminders mention them with on-call.
    escalate_after: Annotated[Duration, _within(MINUTE, timedelta(days=7))] | None = None
    escalate_to: list[str] = Field(default_factory=list)
    #: A link button on the route's alerts: a URL template with ``{cluster}`` (the name),
    #: ``{cluster_id}`` and ``{folder}``, each URL-encoded when filled in.
    runbook_url: str | None = None

    _group_by = field_validator("group_by")(classmethod(lambda cls, v: check_group_by(v)))

    @field_validator("mention", "escalate_to")
    @classmethod
    def _mention_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item or item[0] not in "SUW":
                raise ValueError(
                    _("{item} is not a user group id (S...) or user id (U... or W...)").format(
                        item=repr(item)
                    )
                )
        return value

    @field_validator("runbook_url")
    @classmethod
    def _runbook_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError(_("{value} is not an http(s) URL").format(value=repr(value)))
        try:
            value.format(cluster="x", cluster_id="x", folder="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                _(
                    "{value}: a runbook URL may use {{cluster}}, {{cluster_id}} and {{folder}} "
                    "only ({error})"
                ).format(value=repr(value), error=exc)
            ) from None
        return value

    @model_validator(mode="after")
    def _escalation_whole(self) -> AlertRoute:
        if (self.escalate_after is None) != (not self.escalate_to):
            raise ValueError(
                _("escalate_after and escalate_to go together: how long, and whom to mention")
            )
        return self


class Sweep(_Strict):
    every: Annotated[
        Duration, _within(SECOND, DAY, why=N_("a sweep less often than daily misses a day"))
    ] = timedelta(minutes=15)
    blind_after: int = Field(default=3, ge=1, le=10_000)
    #: Where the bot alerts about itself when it cannot read the cloud; default: every alert
    #: route's channel.
    self_alert_channel: str | None = None
    #: How long a replica's claim on a scheduled run holds before another may take it over.
    #: A minute at least (see SHORTEST_SWEEP), an hour at most: a replica that dies holding a
    #: run keeps it from the others that long.
    lease: Annotated[
        Duration, _within(SECOND, HOUR, why=N_("a dead replica's runs wait that long"))
    ] = timedelta(minutes=5)

    @field_validator("every", "lease")
    @classmethod
    def _not_too_short(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        shortest = _shortest_sweep(info.context)
        if value < shortest:
            said = (
                _(
                    "{value} is too short: a sweep reads the whole fleet, and more often than "
                    "once a minute only spends the cloud's quota; write {least} or more"
                )
                if info.field_name == "every"
                else _(
                    "{value} is too short: a digest must be built within its lease, or its run "
                    "is refused at the end; write {least} or more"
                )
            )
            raise ValueError(
                said.format(value=format_duration(value), least=format_duration(shortest))
            )
        return value


def validation_context(*, fast_sweeps: bool = False) -> dict[str, Any]:
    """pydantic's validation context for :class:`BotConfig` built from data (not a file):
    ``BotConfig.model_validate(data, context=validation_context(fast_sweeps=True))``."""
    return {_SHORTEST_SWEEP_KEY: SHORTEST_FAST_SWEEP if fast_sweeps else SHORTEST_SWEEP}


def _shortest_sweep(context: Any) -> timedelta:
    if isinstance(context, Mapping):
        value = context.get(_SHORTEST_SWEEP_KEY)
        if isinstance(value, timedelta):
            return value
    return SHORTEST_SWEEP


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
    backup_every: Annotated[Duration, _within(SECOND, timedelta(days=7))] = timedelta(minutes=10)


# --- the freshness ledger and its objective (slo, ledger) -------------------------------------


def _percent(value: Any) -> Any:
    """``99.5%`` (or 99.5) as the share 0.995."""
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            value = float(text)
        except ValueError:
            raise ValueError(
                _("{value} is not a percentage; write one like 99.5%").format(value=repr(value))
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(_("expected a percentage; write one like 99.5%"))
    if not 0 < value <= 100:
        raise ValueError(
            _("{value}% is not a share of time; write more than 0% and at most 100%").format(
                value=value
            )
        )
    return round(float(value) / 100, 12)


Percent = Annotated[
    float,
    BeforeValidator(_percent),
    PlainSerializer(lambda share: f"{share * 100:g}%", return_type=str),
]


class SloOverride(_Strict):
    match: Match = Field(default_factory=Match)
    target: Percent


class Slo(_Strict):
    """The share of time each cluster is to be within its maximum age."""

    target: Percent = 0.995
    #: First match wins; a cluster no override matches has ``target``.
    overrides: list[SloOverride] = Field(default_factory=list)


class ReportRoute(_Strict):
    """A monthly freshness report: one post with the last month's figures and worst clusters,
    and the CSV of every cluster in its thread."""

    channel: str
    #: The first Monday of the month, 10:00 (APScheduler's cron: the day and weekday both hold).
    schedule: str = "0 10 1-7 * mon"
    timezone: str = "UTC"
    match: Match = Field(default_factory=Match)

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _cron = field_validator("schedule")(classmethod(lambda cls, v: _check_cron(v)))


# --- restore drills: off unless configured; each one makes a cluster that costs money -----------

#: The smallest disk a drill cluster gets, and the largest a config may ask for (GiB).
DRILL_MIN_DISK_GIB = 10
DRILL_MAX_DISK_GIB = 64 * 1024


class DrillRoute(_Strict):
    """One ``drills:`` entry: which clusters are restored, when, from which backup, where to, for
    how long at most, and where the result is posted."""

    match: Match = Field(default_factory=Match)
    #: A cluster is drilled at most once per period of this schedule (e.g. monthly).
    schedule: str = "0 3 1 * *"
    timezone: str = "UTC"
    #: newest: the newest backup; random: one at random of the last ``random_within``.
    backup: Literal["newest", "random"] = "newest"
    random_within: Annotated[Duration, _within(DAY, timedelta(days=366))] = timedelta(days=7)
    #: Where the throwaway cluster is created: its folder, network and a subnet per zone.
    folder: str
    network: str
    subnets: dict[str, str]
    #: The resource preset of its hosts, their count, and the disk per host in GiB (None: the
    #: backup's freeSpaceRequiredBytes, rounded up, at least 10 GiB).
    preset: str = "s2.micro"
    hosts: int = Field(default=1, ge=1, le=10)
    disk: int | None = Field(default=None, ge=DRILL_MIN_DISK_GIB, le=DRILL_MAX_DISK_GIB)
    disk_type: str = "network-ssd"
    #: The OpenSearch version to restore to (None: the backup's).
    version: str | None = None
    #: The drill cluster is deleted by then, whatever happened (the reaper enforces it too).
    time_limit: Annotated[
        Duration,
        _within(
            timedelta(minutes=10),
            timedelta(days=2),
            why=N_("a drill cluster costs money while it lives"),
        ),
    ] = timedelta(hours=3)
    #: Drills of this route running at once (each is a cluster).
    max_concurrent: int = Field(default=1, ge=1, le=10)
    #: none: the restore completes and the cluster is healthy; opensearch: also count the
    #: indices over the OpenSearch REST API (the bot must reach the drill cluster's hosts).
    verify: Literal["none", "opensearch"] = "none"
    #: With ``verify: opensearch``: the port of the hosts' REST API, and the CA file (PEM) its
    #: certificates are checked against (None: the system's trust store; the cloud's hosts use
    #: Yandex Cloud's CA, https://storage.yandexcloud.net/cloud-certs/CA.pem).
    verify_port: int = Field(default=9200, ge=1, le=65535)
    verify_ca_file: str | None = None
    channel: str
    #: The restore time the team promises; a drill slower than this is flagged.
    rto_target: Annotated[Duration, _within(MINUTE, timedelta(days=7))] | None = None
    #: The language of its posts (the config's default when unset).
    locale: str | None = None

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _cron = field_validator("schedule")(classmethod(lambda cls, v: _check_cron(v)))

    @field_validator("subnets")
    @classmethod
    def _some_subnet(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError(
                _("no subnet; write one per zone, like {example}").format(
                    example="{ru-central1-a: e9bexamplesubnet01}"
                )
            )
        for zone, subnet in value.items():
            if not zone or not subnet:
                raise ValueError(
                    _("{zone}: {subnet} is not a zone and a subnet id").format(
                        zone=repr(zone), subnet=repr(subnet)
                    )
                )
        return value


class Ledger(_Strict):
    """What the freshness ledger keeps."""

    #: Backups, maximum ages and states older than this are forgotten (13 months by default:
    #: a year back from any month, whole).
    retention: Annotated[
        timedelta,
        BeforeValidator(_duration),
        _within(
            timedelta(days=32), timedelta(days=3660), why=N_("a month at least, ten years at most")
        ),
        PlainSerializer(lambda d: format_duration(d, parts=4), return_type=str),
    ] = timedelta(days=396)


class BotConfig(_Strict):
    """The whole YAML file."""

    watch: Watch = Field(default_factory=Watch)
    freshness: Freshness = Field(default_factory=Freshness)
    digests: list[DigestRoute] = Field(default_factory=list)
    alerts: list[AlertRoute] = Field(default_factory=list)
    sweep: Sweep = Field(default_factory=Sweep)
    access: Access = Field(default_factory=Access)
    limits: Limits = Field(default_factory=Limits)
    slo: Slo = Field(default_factory=Slo)
    reports: list[ReportRoute] = Field(default_factory=list)
    ledger: Ledger = Field(default_factory=Ledger)
    drills: list[DrillRoute] = Field(default_factory=list)
    #: The bot's language: of the routes that name none, the bot's notices about itself, and
    #: replies to people whose Slack language the bot does not speak.
    locale: LocaleName = SOURCE_LOCALE

    def locale_of(self, route: DigestRoute | AlertRoute) -> str:
        """The language of a route's posts."""
        return route.locale or self.locale

    def channel_locale(self, channel: str) -> str:
        """The language of a channel: of its first route that names one, else the bot's."""
        routes: list[AlertRoute | DigestRoute] = [*self.alerts, *self.digests]
        for route in routes:
            if route.channel == channel and route.locale:
                return route.locale
        return self.locale

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
        return _("unknown key; remove it")
    known = ", ".join(model.model_fields)
    near = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    where = ".".join(str(p) for p in loc[:-1] if not isinstance(p, int))
    if near and where:
        said = _("unknown key; did you mean {near}? the keys of {where} are {known}")
    elif near:
        said = _("unknown key; did you mean {near}? the keys of the top level are {known}")
    elif where:
        said = _("unknown key; the keys of {where} are {known}")
    else:
        said = _("unknown key; the keys of the top level are {known}")
    return said.format(near=near[0] if near else "", where=where, known=known)


def _field_at(loc: tuple[int | str, ...]) -> FieldInfo | None:
    """The model field an error location names (list indexes skipped), if any."""
    names = [part for part in loc if not isinstance(part, int)]
    if not names:
        return None
    model = _model_at(tuple(names[:-1]))
    if model is None:
        return None
    return model.model_fields.get(str(names[-1]))


def _number_hint(loc: tuple[int | str, ...]) -> str:
    """What to write into a numeric key: its range, from the field's own bounds."""
    field = _field_at(loc)
    if field is None:
        return _("write a number")
    low = high = None
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Le):
            high = item.le
    whole = field.annotation is int
    if low is not None and high is not None:
        said = (
            _("write a whole number from {low} to {high}")
            if whole
            else _("write a number from {low} to {high}")
        )
    elif low is not None:
        said = (
            _("write a whole number of at least {low}")
            if whole
            else _("write a number of at least {low}")
        )
    else:
        said = _("write a whole number") if whole else _("write a number")
    return said.format(low=low, high=high)


#: pydantic's error types about a number, answered with the key's range.
_NUMBER_ERRORS = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "int_parsing",
        "int_from_float",
        "int_type",
        "float_parsing",
        "float_type",
        "finite_number",
    }
)


#: pydantic's own sentences, by error type, said in the current locale (its ``ctx`` fills them).
_PYDANTIC_MESSAGES = {
    "int_parsing": N_("Input should be a valid integer"),
    "int_type": N_("Input should be a valid integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_parsing": N_("Input should be a valid number"),
    "float_type": N_("Input should be a valid number"),
    "finite_number": N_("Input should be a finite number"),
    "bool_parsing": N_("Input should be a valid boolean"),
    "bool_type": N_("Input should be a valid boolean"),
    "string_type": N_("Input should be a valid string"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a mapping of keys"),
    "model_attributes_type": N_("Input should be a mapping of keys"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "literal_error": N_("Input should be {expected}"),
    "enum": N_("Input should be {expected}"),
    "path_type": N_("Input should be a path"),
}


def pydantic_message(err: Mapping[str, Any]) -> str:
    """The sentence of one pydantic error in the current locale: a validator's own (already
    said in it), pydantic's translated by its type, else pydantic's English as it is."""
    if err["type"] in ("value_error", "assertion_error"):
        cause = (err.get("ctx") or {}).get("error")
        if cause is not None:
            return str(cause)
    known = _PYDANTIC_MESSAGES.get(err["type"])
    if known is not None:
        try:
            return _(known).format(**{k: v for k, v in (err.get("ctx") or {}).items()})
        except (KeyError, IndexError):
            pass
    return str(err["msg"]).removeprefix("Value error, ")


def _nesting_problem(text: str, source: str) -> str | None:
    """Nesting deeper than :data:`MAX_NESTING`, found from YAML's event stream (which, unlike
    composing a document, does not recurse), so a file nested a thousand deep is one line."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                mark = event.start_mark
                line = mark.line + 1 if mark is not None else 1
                return _(
                    "{source}:{line}: nested more than {most} levels deep; a config needs "
                    "fewer: write the keys as the example config does"
                ).format(source=source, line=line, most=MAX_NESTING)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
    return None


#: The most values a config may hold once its anchors and aliases are expanded: a few hundred
#: routes are a big config; an alias bomb (a list of lists of the same list...) is not one.
MAX_VALUES = 100_000


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values ``node`` stands for with every alias expanded (memoised: an alias bomb
    costs its size in nodes, not its expanded size)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, sizes) for item in node.value)
    size = min(size, MAX_VALUES + 1)
    sizes[id(node)] = size
    return size


def _cross_problems(config: BotConfig) -> list[tuple[tuple[int | str, ...], str]]:
    """Rules between keys, each with the key it is reported at."""
    problems: list[tuple[tuple[int | str, ...], str]] = []
    lease = config.sweep.lease
    for index, route in enumerate(config.digests):
        if route.misfire_grace <= lease:
            problems.append(
                (
                    ("digests", index, "misfire_grace"),
                    _(
                        "{value} is not longer than sweep.lease ({lease}): a digest held by a "
                        "replica that died is retried after the lease; write a longer grace (or "
                        "a shorter lease)"
                    ).format(
                        value=format_duration(route.misfire_grace), lease=format_duration(lease)
                    ),
                )
            )
    return problems


def parse_config(text: str, source: str = "config", *, fast_sweeps: bool = False) -> BotConfig:
    """Parse and validate config text; errors name ``source:line``, the key path and what to
    write instead, one line each (:class:`ConfigFileError`). ``fast_sweeps`` lets
    ``sweep.every`` and ``sweep.lease`` go down to a second (tests and demos)."""
    try:
        nesting = _nesting_problem(text, source)
        if nesting is not None:
            raise ConfigFileError([nesting])
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _expanded_size(node, {}) > MAX_VALUES:
            raise ConfigFileError(
                [
                    _(
                        "{source}:1: the config holds more than {most} values once its aliases "
                        "are expanded; write it without aliases to aliases"
                    ).format(source=source, most=f"{MAX_VALUES:,}")
                ]
            )
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or _("not valid YAML")
        raise ConfigFileError(
            [
                _("{where}: {problem}; fix the YAML syntax there").format(
                    where=where, problem=problem
                )
            ]
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFileError(
            [
                _("{source}:1: the config must be a mapping of keys (watch, digests, ...)").format(
                    source=source
                )
            ]
        )
    problems: list[tuple[tuple[int | str, ...], str]] = []
    try:
        config = BotConfig.model_validate(data, context=validation_context(fast_sweeps=fast_sweeps))
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            loc = tuple(err["loc"])
            msg = pydantic_message(err)
            if err["type"] == "extra_forbidden":
                msg = _unknown_key(loc)
            elif err["type"] == "missing":
                msg = _("Field required; add it")
            elif err["type"] in _NUMBER_ERRORS:
                msg = f"{msg}; {_number_hint(loc)}"
            problems.append((loc, msg))
    else:
        problems = _cross_problems(config)
    if problems:
        lines = []
        for loc, msg in problems:
            path = ".".join(str(p) for p in loc) or "(top)"
            lines.append(f"{source}:{_line_of(node, loc) or '?'}: {path}: {msg}")
        raise ConfigFileError(lines)
    return config


def load_config(path: Path | None, *, fast_sweeps: bool = False) -> BotConfig:
    """Read the config file, or return the defaults when there is none."""
    if path is None:
        return BotConfig()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigFileError(
            [
                _(
                    "{path}: cannot read the config file ({reason}); check BACKUPS_BOT_CONFIG"
                ).format(path=path, reason=reason)
            ]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError([decode_problem(str(path), raw, exc)]) from None
    return parse_config(text, source=str(path), fast_sweeps=fast_sweeps)
