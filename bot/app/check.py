"""``backups-bot check``: validate config and credentials, reach the APIs, one line per finding.

Every check runs even when an earlier one failed, so one run tells everything that is wrong.
Lines read ``ok    <what>: <detail>`` or ``FAIL  <what>: <reason>``; the exit code is 0 only when
nothing failed. The marks and the ``<what>`` are the same in every language (scripts read them);
the detail is in the config's ``locale`` (bot.app.cli.command_line_locale: the shell's language
for a config that cannot be read). No line ever contains a token or a key: reasons come from
our typed errors and Slack's error codes, both free of secrets.

A check tells "unreachable" (no answer: DNS, connection, timeout) from "refused" (an answer that
says no), since what to do differs. It changes nothing anywhere: the database is opened read-only
and a database that does not exist yet is not created (``serve`` creates it).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bot.app.cli import (
    EXIT_FAILURE,
    EXIT_OK,
    Startup,
    command_line_locale,
    run_main,
    validate_startup,
)
from bot.app.startup import BAD_TOKEN_CODES, NotYet, reach_database
from bot.cloud.client import CloudClient
from bot.cloud.models import ResourcePreset
from bot.config import BotConfig, DrillRoute, Watch
from bot.errors import (
    AuthError,
    BotError,
    CloudRequestError,
    ConfigError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from bot.i18n.catalog import _, ngettext, use_locale
from bot.i18n.units import human_duration
from bot.settings import Settings, reveal

#: Roles the service account needs, said when the cloud refuses.
VIEWER_ROLE = "managed-opensearch.viewer"
EDITOR_ROLE = "managed-opensearch.editor"
#: What listing a cloud's folders (and an organization's clouds) takes: "Viewing information
#: about a folder or cloud" in Resource Manager's access management documentation.
RESOURCE_MANAGER_ROLE = "resource-manager.viewer"
#: What a restore drill's network takes (the README's "Restore drills": vpc.user on it).
DRILL_ROLE = "vpc.user"


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    ok: bool
    what: str
    detail: str
    #: Works, but less well than it could (the check still passes).
    warning: bool = False

    def line(self) -> str:
        mark = "FAIL" if not self.ok else "warn" if self.warning else "ok  "
        return f"{mark}  {self.what}: {self.detail}"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate config and credentials and reach the APIs",
        description="Validate config and credentials, reach Slack, IAM, the cloud API and the "
        "database; print what is wrong in one line each.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    del args
    with use_locale(command_line_locale()):
        findings = run_main(collect(validate_startup()))
        for finding in findings:
            print(finding.line())
    return EXIT_OK if all(f.ok for f in findings) else EXIT_FAILURE


async def collect(startup: Startup) -> list[Finding]:
    """Every finding, in a stable order: environment, config, Slack, cloud, database. What
    ``serve`` would refuse before connecting anywhere comes from the one validation both share
    (bot.app.cli.validate_startup), so the two accept exactly the same settings."""
    if startup.settings is None:
        return [Finding(False, p.what, p.detail) for p in startup.problems]
    settings = startup.settings

    def failed(*whats: str) -> list[Finding]:
        return [Finding(False, p.what, p.detail) for p in startup.problems if p.what in whats]

    findings = failed("environment") or [Finding(True, "environment", _("variables parse"))]
    if startup.config is not None and not failed("config"):
        source = settings.config_path()
        findings.append(Finding(True, "config", _("{path} is valid").format(path=source)))
    findings += failed("config")
    findings += await _check_slack(settings, failed("slack", "slack mode"))
    findings += failed("cloud credentials") or await _check_cloud(
        settings, startup.config or BotConfig()
    )
    findings += failed("database") or list(await _check_database(settings))
    return findings


async def _check_slack(settings: Settings, problems: list[Finding]) -> list[Finding]:
    from bot.slack.notifier import SlackAPIFailure, SlackNotifier  # slack_sdk loads when needed

    out = list(problems)
    if any(p.what == "slack" for p in problems):
        return out  # no token, or not a bot token: Slack's answer would add nothing
    if not any(p.what == "slack mode" for p in problems):
        mode = (
            _("Socket Mode (SLACK_APP_TOKEN is set)")
            if settings.socket_mode
            else _("HTTP mode on port {port}").format(port=settings.port)
        )
        out.append(Finding(True, "slack mode", mode))
    notifier = SlackNotifier.from_settings(settings)
    try:
        who = await notifier.auth_test()
    except SlackAPIFailure as exc:
        out.append(Finding(False, "slack auth.test", _slack_failure(exc, settings)))
    except BotError as exc:
        out.append(Finding(False, "slack auth.test", str(exc)))
    else:
        team = who.get("team") or who.get("team_id") or "?"
        said = _("{user} in {team}").format(user=f"@{who.get('user', '?')}", team=team)
        out.append(Finding(True, "slack auth.test", said))
        out.append(_scopes_finding(await notifier.granted_scopes()))
    finally:
        await notifier.aclose()
    return out


def _slack_failure(exc: Any, settings: Settings) -> str:
    """auth.test's failure, said as what it is: no answer, a failing Slack, or a refusal."""
    code = str(exc.code)
    if code == "timeout" or code.startswith("unreachable"):
        reason = _("no answer in time") if code == "timeout" else code.removeprefix("unreachable ")
        return _(
            "Slack is unreachable at {url} {reason}; check the network (a proxy, a firewall) "
            "and SLACK_API_URL"
        ).format(url=settings.slack_api_url, reason=reason)
    if code.startswith("http_") or code in ("ratelimited", "unexpected_answer"):
        return _("Slack did not answer properly ({code}); try again in a minute").format(code=code)
    if code in BAD_TOKEN_CODES:
        return _(
            "Slack refused the bot token ({code}); set SLACK_BOT_TOKEN to the app's current "
            "Bot User OAuth Token (xoxb-...)"
        ).format(code=code)
    return _("Slack refused auth.test ({code})").format(code=code)


def _scopes_finding(granted: frozenset[str] | None) -> Finding:
    """What the token's scopes allow: posting at all, and exactly-once delivery."""
    from bot.slack.scopes import FILE_SCOPES, HISTORY_SCOPES, LOCALE_SCOPES, POST_SCOPES

    if granted is None:
        return Finding(True, "slack scopes", _("Slack did not list them"), warning=True)
    missing = sorted(POST_SCOPES - granted)
    if missing:
        return Finding(
            False,
            "slack scopes",
            _(
                "the token lacks {scopes}: nothing can be posted; add them to the app "
                "(manifest.yaml lists every scope) and reinstall it"
            ).format(scopes=", ".join(missing)),
        )
    lacking = sorted(HISTORY_SCOPES - granted)
    if lacking:
        return Finding(
            True,
            "slack scopes",
            _(
                "the token lacks {scopes}: delivery is at-least-once (a post whose answer Slack "
                "loses may appear twice, since the bot cannot look for it); add them and "
                "reinstall the app"
            ).format(scopes=", ".join(lacking)),
            warning=True,
        )
    # Each missing optional scope costs one feature, not the bot: one warning says them all.
    costs = [
        _("{scopes}: {cost}").format(scopes=", ".join(missing), cost=cost)
        for missing, cost in (
            (
                sorted(LOCALE_SCOPES - granted),
                _("replies are in the channel's language, not each person's Slack language"),
            ),
            (
                sorted(FILE_SCOPES - granted),
                _("a digest's table of every cluster (a CSV file in its thread) cannot be shared"),
            ),
        )
        if missing
    ]
    if costs:
        said = costs[0]
        for cost in costs[1:]:
            said = _("{first}; and {second}").format(first=said, second=cost)
        return Finding(
            True,
            "slack scopes",
            _("the token lacks {costs}; add them and reinstall the app").format(costs=said),
            warning=True,
        )
    return Finding(True, "slack scopes", _("posting, and exactly-once delivery (history scopes)"))


async def _check_cloud(settings: Settings, config: BotConfig) -> list[Finding]:
    try:
        cloud = CloudClient.from_settings(settings)
    except BotError as exc:  # e.g. an unreadable service account key file
        return [Finding(False, "cloud credentials", str(exc))]
    source = _source(settings)
    probes = [
        *(
            (f"folder {folder}", partial(_count_clusters, cloud, folder))
            for folder in dict.fromkeys([*config.watch.folders, *config.access.folders])
        ),
        *(
            (f"cluster {cluster}", partial(_cluster, cloud, cluster))
            for cluster in config.watch.clusters
        ),
    ]
    try:
        try:
            await cloud.auth.token()
        except BotError as exc:
            return [Finding(False, "cloud credentials", _auth_failure(exc, settings))]
        # A token is only known good once the cloud took it: the first read says so. A token
        # the cloud refuses fails every read alike, so it is said once, with what to do.
        found: list[Finding] = []
        taken = False
        for what, call in probes:
            try:
                finding, took = await _probe(what, call)
            except Unauthenticated as exc:
                return [Finding(False, "cloud credentials", _refused(source, exc, settings))]
            found.append(finding)
            taken = taken or took
        if config.watch.finds_folders:
            try:
                clouds, took = await _check_clouds(cloud, config.watch)
            except Unauthenticated as exc:
                return [Finding(False, "cloud credentials", _refused(source, exc, settings))]
            found.extend(clouds)
            taken = taken or took
        for index, route in enumerate(config.drills):
            try:
                drills, took = await _check_drill_route(cloud, index, route)
            except Unauthenticated as exc:
                return [Finding(False, "cloud credentials", _refused(source, exc, settings))]
            found.extend(drills)
            taken = taken or took
    finally:
        await cloud.aclose()
    if not taken:
        configured = probes or config.watch.finds_folders or config.drills
        detail = (
            _("IAM token from {source} (not verified: the cloud did not answer)")
            if configured
            else _("IAM token from {source} (not verified: nothing to read is configured)")
        ).format(source=source)
        return [Finding(True, "cloud credentials", detail, warning=True), *found]
    detail = _("IAM token from {source}").format(source=source)
    return [Finding(True, "cloud credentials", detail), *found]


def _refused(source: str, exc: BotError, settings: Settings) -> str:
    """The cloud refused the token: from where, the cloud's words, and what to do."""
    return _("the cloud refused the IAM token from {source} ({error}); {remedy}").format(
        source=source, error=exc, remedy=_remedy(settings)
    )


async def _probe(
    what: str, call: Callable[[], Awaitable[str]], *, role: str = VIEWER_ROLE
) -> tuple[Finding, bool]:
    """One read's finding, and whether the cloud took the token (it answered past its check).
    Unauthenticated is left to the caller: it is about every read, not this one."""
    try:
        return Finding(True, what, await call()), True
    except Unauthenticated:
        raise
    except CloudRequestError as exc:
        return Finding(False, what, _unreachable_or(exc)), False
    except PermissionDenied as exc:
        if role == VIEWER_ROLE:
            detail = _(
                "the service account cannot read it; grant {viewer} ({editor} to start backups). "
                "The cloud says: {error}"
            ).format(viewer=VIEWER_ROLE, editor=EDITOR_ROLE, error=exc)
        else:
            detail = _(
                "the service account cannot read it; grant {role}. The cloud says: {error}"
            ).format(role=role, error=exc)
        return Finding(False, what, detail), True
    except ConfigError as exc:
        return Finding(False, what, str(exc)), True
    except NotFound as exc:
        return Finding(False, what, str(exc)), True
    except BotError as exc:
        return Finding(False, what, str(exc)), False


async def _check_clouds(cloud: CloudClient, watch: Watch) -> tuple[list[Finding], bool]:
    """One line per watched cloud (its folders and clusters), one per folder of it that cannot
    be read and why, and whether the cloud took the token. Unauthenticated is the caller's."""
    findings: list[Finding] = []
    taken = False
    cloud_ids = list(dict.fromkeys(watch.clouds))
    if watch.organization:
        what = f"organization {watch.organization}"
        try:
            page = await cloud.all_clouds(watch.organization)
        except Unauthenticated:
            raise
        except PermissionDenied as exc:
            taken = True
            detail = _(
                "the service account cannot list its clouds; grant {role} on the organization "
                "(or name them in watch.clouds). The cloud says: {error}"
            ).format(role=RESOURCE_MANAGER_ROLE, error=exc)
            findings.append(Finding(False, what, detail))
        except BotError as exc:
            findings.append(Finding(False, what, _unreachable_or(exc)))
        else:
            taken = True
            count = len(page.clouds)
            said = ngettext("{n} cloud", "{n} clouds", count).format(n=count)
            findings.append(Finding(True, what, said))
            cloud_ids.extend(c.id for c in page.clouds if c.id not in cloud_ids)
    for cloud_id in cloud_ids:
        more, took = await _check_one_cloud(cloud, cloud_id, watch)
        findings.extend(more)
        taken = taken or took
    return findings, taken


async def _check_one_cloud(
    cloud: CloudClient, cloud_id: str, watch: Watch
) -> tuple[list[Finding], bool]:
    try:
        name = (await cloud.get_cloud(cloud_id)).name
    except Unauthenticated:
        raise
    except BotError:
        name = ""
    what = f"cloud {name} ({cloud_id})" if name else f"cloud {cloud_id}"
    try:
        page = await cloud.all_folders(cloud_id)
    except Unauthenticated:
        raise
    except PermissionDenied as exc:
        detail = _(
            "the service account cannot list its folders; grant {role} on the cloud. The "
            "cloud says: {error}"
        ).format(role=RESOURCE_MANAGER_ROLE, error=exc)
        return [Finding(False, what, detail)], True
    except BotError as exc:
        return [Finding(False, what, _unreachable_or(exc))], False
    excluded = watch.exclude.folder if watch.exclude is not None else None
    active = [f for f in page.folders if f.active and f.id != excluded]
    inactive = sum(1 for f in page.folders if not f.active)
    clusters = 0
    unreadable: list[Finding] = []
    for folder in active:
        label = f"folder {folder.name} ({folder.id})" if folder.name else f"folder {folder.id}"
        try:
            clusters += sum([1 async for _cluster in cloud.list_clusters(folder.id)])
        except Unauthenticated:
            raise
        except PermissionDenied as exc:
            detail = _(
                "in {cloud}, cannot be read: its clusters are not watched; grant {role} on it "
                "or on the cloud, or leave it out with watch.exclude: {exclude}. The cloud "
                "says: {error}"
            ).format(cloud=what, role=VIEWER_ROLE, exclude=f"{{folder: {folder.id}}}", error=exc)
            unreadable.append(Finding(False, label, detail))
        except BotError as exc:
            said = _("in {cloud}: {problem}").format(cloud=what, problem=_unreachable_or(exc))
            unreadable.append(Finding(False, label, said))
    detail = _("{folders}, {clusters}").format(
        folders=ngettext("{n} active folder", "{n} active folders", len(active)).format(
            n=len(active)
        ),
        clusters=ngettext("{n} OpenSearch cluster", "{n} OpenSearch clusters", clusters).format(
            n=clusters
        ),
    )
    if inactive:
        detail += " " + ngettext(
            "({n} folder being deleted, not watched)",
            "({n} folders being deleted, not watched)",
            inactive,
        ).format(n=inactive)
    if unreadable:
        detail += "; " + _("{n} cannot be read (below)").format(n=len(unreadable))
    return [Finding(not unreadable, what, detail), *unreadable], True


async def _check_drill_route(
    cloud: CloudClient, index: int, route: DrillRoute
) -> tuple[list[Finding], bool]:
    """A ``drills:`` route against the cloud, creating nothing: its network exists, each subnet
    exists in that network and in its zone, the resource preset is offered in those zones; and
    what one drill may cost at most (hosts × preset × time limit, in the preset's figures).
    Unauthenticated is the caller's."""
    where = f"drills.{index}"
    findings: list[Finding] = []
    taken = False

    async def network() -> str:
        found = await cloud.get_network(route.network)
        name = found.name or found.id
        if found.folder_id:
            return _("{network} (folder {folder}) exists").format(
                network=name, folder=found.folder_id
            )
        return _("{network} exists").format(network=name)

    def subnet(zone: str, subnet_id: str) -> Callable[[], Awaitable[str]]:
        async def read() -> str:
            found = await cloud.get_subnet(subnet_id)
            if found.network_id and found.network_id != route.network:
                raise ConfigError(
                    _(
                        "it is in network {found}, not in {network}; "
                        "name a subnet of the drill's network"
                    ).format(found=found.network_id, network=route.network)
                )
            if found.zone_id and found.zone_id != zone:
                raise ConfigError(
                    _("it is in zone {found}, not in {zone}").format(found=found.zone_id, zone=zone)
                )
            return _("exists in {zone}, network {network}").format(zone=zone, network=route.network)

        return read

    for what, call in (
        (f"{where} network {route.network}", network),
        *(
            (f"{where} subnet {subnet_id}", subnet(zone, subnet_id))
            for zone, subnet_id in route.subnets.items()
        ),
    ):
        finding, took = await _probe(what, call, role=DRILL_ROLE)
        findings.append(finding)
        taken = taken or took
    what = f"{where} preset {route.preset}"
    preset: ResourcePreset | None = None

    async def read_preset() -> str:
        nonlocal preset
        preset = await cloud.get_resource_preset(route.preset)
        missing = sorted(set(route.subnets) - set(preset.zone_ids)) if preset.zone_ids else []
        if missing:
            raise ConfigError(_("not offered in {zones}").format(zones=", ".join(missing)))
        return _("offered: {figures} per host").format(figures=_preset_figures(preset))

    finding, took = await _probe(what, read_preset, role=VIEWER_ROLE)
    findings.append(finding)
    taken = taken or took
    findings.append(Finding(True, f"{where} cost", _drill_cost(route, preset)))
    return findings, taken


def _preset_figures(preset: ResourcePreset) -> str:
    return _("{cores} cores, {memory} GiB memory").format(
        cores=preset.cores, memory=f"{preset.memory / 1024**3:g}"
    )


def _drill_cost(route: DrillRoute, preset: ResourcePreset | None) -> str:
    """What one drill of ``route`` may cost at most, in the preset's figures."""
    hours = route.time_limit.total_seconds() / 3600
    host_hours = route.hosts * hours
    hosts = ngettext(
        "at most {n} host of {preset}", "at most {n} hosts of {preset}", route.hosts
    ).format(n=route.hosts, preset=route.preset)
    figures = (
        ""
        if preset is None
        else " " + _("({figures} each)").format(figures=_preset_figures(preset))
    )
    said = _("{hosts}{figures} for up to {limit}: {host_hours} host-hours").format(
        hosts=hosts,
        figures=figures,
        limit=human_duration(route.time_limit),
        host_hours=f"{host_hours:g}",
    )
    if preset is not None:
        said += " " + _("({core_hours} core-hours, {gib_hours} GiB-hours of memory)").format(
            core_hours=f"{host_hours * preset.cores:g}",
            gib_hours=f"{host_hours * preset.memory / 1024**3:g}",
        )
    disk = (
        _("{size} GiB").format(size=route.disk)
        if route.disk
        else _("the backup's size (at least 10 GiB)")
    )
    return _("{said}, plus {disk} of {disk_type} per host; nothing is created by check").format(
        said=said, disk=disk, disk_type=route.disk_type
    )


def _unreachable_or(exc: BotError) -> str:
    if isinstance(exc, CloudRequestError):
        return _("unreachable: {error}").format(error=exc)
    return str(exc)


async def _count_clusters(cloud: CloudClient, folder: str) -> str:
    count = 0
    async for _cluster in cloud.list_clusters(folder):
        count += 1
    return ngettext(
        "readable, {n} OpenSearch cluster", "readable, {n} OpenSearch clusters", count
    ).format(n=count)


async def _cluster(cloud: CloudClient, cluster_id: str) -> str:
    cluster = await cloud.get_cluster(cluster_id)
    page = await cloud.list_cluster_backups_page(cluster_id, page_size=1)
    said = (
        _("readable ({cluster}, has backups)")
        if page.backups
        else _("readable ({cluster}, has no backup yet)")
    )
    return said.format(cluster=cluster.display_name)


def _auth_failure(exc: BotError, settings: Settings) -> str:
    """Why no IAM token could be had: IAM (or the metadata service) unreachable, a refusal
    (with what to do), or a local problem such as an unreadable key file (said as it is)."""
    text = str(exc)
    if isinstance(exc, AuthError) and exc.unreachable:
        return _("unreachable: {error}").format(error=text)
    if isinstance(exc, AuthError) and exc.refused:
        return _("{error}; {remedy}").format(error=text, remedy=_remedy(settings))
    return text


def _remedy(settings: Settings) -> str:
    """What to do when the cloud refuses the credentials, by where they come from."""
    if reveal(settings.yc_iam_token):
        return _(
            "an IAM token lives at most 12 hours: set a new YC_IAM_TOKEN (yc iam create-token), "
            "or better YC_SERVICE_ACCOUNT_KEY_FILE"
        )
    if settings.yc_service_account_key_file is not None:
        return _(
            "the key or its service account may be deleted: create a key "
            "(yc iam key create --service-account-name <name> --output key.json)"
        )
    if reveal(settings.yc_oauth_token):
        return _(
            "the OAuth token was revoked or expired: get a new one, or use a service account key"
        )
    return _(
        "the VM or node has no service account, or the metadata service is not the cloud's: "
        "attach one, or set YC_SERVICE_ACCOUNT_KEY_FILE"
    )


def _source(settings: Settings) -> str:
    if reveal(settings.yc_iam_token):
        return "YC_IAM_TOKEN"
    if settings.yc_service_account_key_file is not None:
        return _("the service account key {path}").format(path=settings.yc_service_account_key_file)
    if reveal(settings.yc_oauth_token):
        return _("YC_OAUTH_TOKEN (deprecated for automation: prefer a service account key)")
    return _("the metadata service at {url}").format(url=settings.yc_metadata_url)


async def _delivery_findings(store: Any) -> list[Finding]:
    """What the outbox says: channels that refuse the bot, posts waiting or given up."""
    from bot.outbox.change import EVERY_CHANNEL

    out = []
    for problem in await store.outbox.channel_problems():
        where = (
            _("the bot token")
            if problem.channel == EVERY_CHANNEL
            else _("channel {channel}").format(channel=problem.channel)
        )
        said = _(
            "Slack refuses {where} ({code}) since {since} UTC; its posts wait: invite the bot "
            "or fix the config, then restart it"
        ).format(where=where, code=problem.code, since=f"{problem.since:%Y-%m-%d %H:%M}")
        out.append(Finding(False, "slack delivery", said))
    counts = await store.outbox.count_posts()
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    failed = counts.get("failed", 0)
    out.append(Finding(True, "slack delivery", _delivery(waiting, failed), warning=failed > 0))
    return out


def _delivery(waiting: int, failed: int) -> str:
    """How many posts wait in the outbox, and how many were given up."""
    return _("{waiting}, {failed}").format(
        waiting=ngettext(
            "{n} post waiting to be sent", "{n} posts waiting to be sent", waiting
        ).format(n=waiting),
        failed=ngettext("{n} given up", "{n} given up", failed).format(n=failed),
    )


async def _check_database(settings: Settings) -> tuple[Finding, ...]:
    """Reach the database read-only: its schema's revision and what the outbox holds. Nothing
    is created or migrated; a database that does not exist yet is only said to be so."""
    from sqlalchemy.engine import URL

    from bot.store.db import (
        POSTGRES_CONNECT_TIMEOUT,
        check_database_url,
        describe_connect_failure,
        is_sqlite_file,
    )

    try:
        url: URL = check_database_url(settings.database_url)
    except ConfigError as exc:
        return (Finding(False, "database", str(exc)),)
    where = url.drivername
    if url.get_backend_name() == "sqlite":
        if not is_sqlite_file(url):
            detail = _("{driver}: in memory, so alert state is lost whenever the bot stops").format(
                driver=where
            )
            return (Finding(True, "database", detail, warning=True), _no_delivery())
        assert url.database is not None
        opened = _open_sqlite(where, url.database)
        if isinstance(opened, tuple):
            return opened
        engine = opened
    else:
        try:
            await reach_database(settings.database_url)  # what serve waits for, same words
        except NotYet as exc:
            return (Finding(False, "database", _("unreachable: {error}").format(error=exc)),)
        except ConfigError as exc:
            return (Finding(False, "database", str(exc)),)
        engine = _read_only_postgres(url)
    try:
        revision = await _revision(engine)
        head = _head_revision()
        if revision != head:
            said = (
                _("{driver}: reachable, no tables yet; serve migrates it to {head}")
                if revision is None
                else _("{driver}: reachable, schema at {revision}; serve migrates it to {head}")
            )
            detail = said.format(driver=where, revision=revision, head=head)
            return (Finding(True, "database", detail), _no_delivery(schema_behind=True))
        from bot.store import Store

        delivery = await _delivery_findings(Store(engine))
    except Exception as exc:  # any driver error: say its type and first line, no URL password
        if url.get_backend_name() == "sqlite":  # in the words serve uses for the same file
            detail = describe_connect_failure(url, exc, timeout=POSTGRES_CONNECT_TIMEOUT)
            return (Finding(False, "database", detail),)
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return (Finding(False, "database", f"{where}: {type(exc).__name__}: {first}"),)
    finally:
        await engine.dispose()
    detail = _("{driver}: reachable, migrations applied").format(driver=where)
    return Finding(True, "database", detail), *delivery


def _open_sqlite(where: str, database: str) -> Any:
    """A read-only engine on the SQLite file, or the findings when it does not exist yet."""
    path = Path(database).expanduser().absolute()
    if not path.exists():
        return _sqlite_to_be_made(where, path)
    return _read_only_sqlite(path)


def _sqlite_to_be_made(where: str, path: Path) -> tuple[Finding, ...]:
    """An SQLite file that does not exist yet: fine if serve may make it where it would."""
    parent = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        detail = _(
            "{driver}: {path} does not exist and cannot be made here (no writable {parent}); "
            "fix DATABASE_URL or the directory"
        ).format(driver=where, path=path, parent=parent)
        return (Finding(False, "database", detail),)
    detail = _("{driver}: {path} does not exist yet; serve creates it").format(
        driver=where, path=path
    )
    return (Finding(True, "database", detail), _no_delivery())


def _no_delivery(*, schema_behind: bool = False) -> Finding:
    """The delivery line when there is no outbox to read: nothing can be waiting in it."""
    if schema_behind:
        detail = _("not read: the schema is not current")
        return Finding(True, "slack delivery", detail, warning=True)
    return Finding(True, "slack delivery", _delivery(0, 0))


def _read_only_sqlite(path: Path) -> Any:
    """An engine that only reads ``path``. With no ``-wal`` file beside it no process has the
    file open, and SQLite is told the file will not change (``immutable``), so that it makes no
    ``-wal`` or ``-shm`` file of its own; otherwise it reads alongside the writer (``mode=ro``)."""
    from urllib.parse import quote

    from sqlalchemy.ext.asyncio import create_async_engine

    quiet = "" if path.with_name(path.name + "-wal").exists() else "&immutable=1"
    return create_async_engine(
        f"sqlite+aiosqlite:///file:{quote(str(path))}?mode=ro{quiet}&uri=true"
    )


def _read_only_postgres(url: Any) -> Any:
    """An engine whose every transaction PostgreSQL refuses to let write."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.store.db import POSTGRES_CONNECT_TIMEOUT

    return create_async_engine(
        url,
        connect_args={
            "timeout": POSTGRES_CONNECT_TIMEOUT,
            "server_settings": {"default_transaction_read_only": "on"},
        },
    )


async def _revision(engine: Any) -> str | None:
    from bot.store.db import current_revision

    async with engine.connect() as conn:
        revision: str | None = await conn.run_sync(current_revision)
        return revision


def _head_revision() -> str | None:
    """The newest migration this version of the bot ships."""
    from alembic.script import ScriptDirectory

    from bot.store.db import alembic_config

    head: str | None = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return head
