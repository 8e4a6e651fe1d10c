"""``backups-bot check``: validate config and credentials, reach the APIs, one line per finding.

Every check runs even when an earlier one failed, so one run tells everything that is wrong.
Lines read ``ok    <what>: <detail>`` or ``FAIL  <what>: <reason>``; the exit code is 0 only when
nothing failed. No line ever contains a token or a key: reasons come from our typed errors and
Slack's error codes, both free of secrets.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.app.cli import EXIT_FAILURE, EXIT_OK, validate_startup
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.errors import BotError, ConfigError, PermissionDenied
from bot.settings import Settings, reveal

#: Roles the service account needs, said when the cloud refuses.
VIEWER_ROLE = "managed-opensearch.viewer"
EDITOR_ROLE = "managed-opensearch.editor"


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
    findings = asyncio.run(collect())
    for finding in findings:
        print(finding.line())
    return EXIT_OK if all(f.ok for f in findings) else EXIT_FAILURE


async def collect() -> list[Finding]:
    """Every finding, in a stable order: environment, config, Slack, cloud, database. What
    ``serve`` would refuse before connecting anywhere comes from the one validation both share
    (bot.app.cli.validate_startup), so the two accept exactly the same settings."""
    startup = validate_startup()
    if startup.settings is None:
        return [Finding(False, p.what, p.detail) for p in startup.problems]
    settings = startup.settings

    def failed(*whats: str) -> list[Finding]:
        return [Finding(False, p.what, p.detail) for p in startup.problems if p.what in whats]

    findings = failed("environment") or [Finding(True, "environment", "variables parse")]
    if startup.config is not None and not failed("config"):
        source = settings.config_path()
        findings.append(Finding(True, "config", f"{source} is valid"))
    findings += failed("config")
    findings += await _check_slack(settings, failed("slack", "slack mode"))
    findings += failed("cloud credentials") or await _check_cloud(
        settings, startup.config or BotConfig()
    )
    findings += failed("database") or list(await _check_database(settings))
    return findings


async def _check_slack(settings: Settings, problems: list[Finding]) -> list[Finding]:
    from bot.slack.notifier import SlackNotifier  # slack_sdk loads only when needed

    out = list(problems)
    if any(p.what == "slack" for p in problems):
        return out  # no token, or not a bot token: Slack's answer would add nothing
    if not any(p.what == "slack mode" for p in problems):
        mode = "Socket Mode (SLACK_APP_TOKEN is set)" if settings.socket_mode else None
        out.append(Finding(True, "slack mode", mode or f"HTTP mode on port {settings.port}"))
    notifier = SlackNotifier.from_settings(settings)
    try:
        who = await notifier.auth_test()
    except BotError as exc:
        out.append(Finding(False, "slack auth.test", str(exc)))
    else:
        team = who.get("team") or who.get("team_id") or "?"
        out.append(Finding(True, "slack auth.test", f"@{who.get('user', '?')} in {team}"))
        out.append(_scopes_finding(await notifier.granted_scopes()))
    finally:
        await notifier.aclose()
    return out


def _scopes_finding(granted: frozenset[str] | None) -> Finding:
    """What the token's scopes allow: posting at all, and exactly-once delivery."""
    from bot.slack.scopes import HISTORY_SCOPES, POST_SCOPES

    if granted is None:
        return Finding(True, "slack scopes", "Slack did not list them", warning=True)
    missing = sorted(POST_SCOPES - granted)
    if missing:
        return Finding(
            False,
            "slack scopes",
            f"the token lacks {', '.join(missing)}: nothing can be posted; add them to the "
            "app (manifest.yaml lists every scope) and reinstall it",
        )
    lacking = sorted(HISTORY_SCOPES - granted)
    if lacking:
        return Finding(
            True,
            "slack scopes",
            f"the token lacks {', '.join(lacking)}: delivery is at-least-once (a post whose "
            "answer Slack loses may appear twice, since the bot cannot look for it); add them "
            "and reinstall the app",
            warning=True,
        )
    return Finding(True, "slack scopes", "posting, and exactly-once delivery (history scopes)")


async def _check_cloud(settings: Settings, config: BotConfig) -> list[Finding]:
    try:
        cloud = CloudClient.from_settings(settings)
    except BotError as exc:  # e.g. an unreadable service account key file
        return [Finding(False, "cloud credentials", str(exc))]
    out: list[Finding] = []
    try:
        try:
            await cloud.auth.token()
        except BotError as exc:
            return [Finding(False, "cloud credentials", str(exc))]
        out.append(Finding(True, "cloud credentials", f"IAM token from {_source(settings)}"))
        folders = dict.fromkeys([*config.watch.folders, *config.access.folders])
        for folder in folders:
            out.append(await _probe(f"folder {folder}", partial(_count_clusters, cloud, folder)))
        for cluster in config.watch.clusters:
            out.append(await _probe(f"cluster {cluster}", partial(_cluster, cloud, cluster)))
    finally:
        await cloud.aclose()
    return out


async def _probe(what: str, call: Callable[[], Awaitable[str]]) -> Finding:
    try:
        return Finding(True, what, await call())
    except PermissionDenied as exc:
        return Finding(
            False,
            what,
            f"the service account cannot read it; grant {VIEWER_ROLE} "
            f"({EDITOR_ROLE} to start backups). The cloud says: {exc}",
        )
    except BotError as exc:
        return Finding(False, what, str(exc))


async def _count_clusters(cloud: CloudClient, folder: str) -> str:
    count = 0
    async for _ in cloud.list_clusters(folder):
        count += 1
    return f"readable, {count} OpenSearch cluster{'s' if count != 1 else ''}"


async def _cluster(cloud: CloudClient, cluster_id: str) -> str:
    cluster = await cloud.get_cluster(cluster_id)
    page = await cloud.list_cluster_backups_page(cluster_id, page_size=1)
    backups = "has backups" if page.backups else "has no backup yet"
    return f"readable ({cluster.display_name}, {backups})"


def _source(settings: Settings) -> str:
    if reveal(settings.yc_iam_token):
        return "YC_IAM_TOKEN"
    if settings.yc_service_account_key_file is not None:
        return f"the service account key {settings.yc_service_account_key_file}"
    if reveal(settings.yc_oauth_token):
        return "YC_OAUTH_TOKEN (deprecated for automation: prefer a service account key)"
    return f"the metadata service at {settings.yc_metadata_url}"


async def _delivery_findings(store: Any) -> list[Finding]:
    """What the outbox says: channels that refuse the bot, posts waiting or given up."""
    from bot.outbox.change import EVERY_CHANNEL

    out = []
    for problem in await store.outbox.channel_problems():
        where = (
            "the bot token" if problem.channel == EVERY_CHANNEL else f"channel {problem.channel}"
        )
        out.append(
            Finding(
                False,
                "slack delivery",
                f"Slack refuses {where} ({problem.code}) since {problem.since:%Y-%m-%d %H:%M} "
                "UTC; its posts wait: invite the bot or fix the config, then restart it",
            )
        )
    counts = await store.outbox.count_posts()
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    failed = counts.get("failed", 0)
    detail = f"{waiting} post(s) waiting to be sent, {failed} given up"
    out.append(Finding(True, "slack delivery", detail, warning=failed > 0))
    return out


async def _check_database(settings: Settings) -> tuple[Finding, ...]:
    from bot.store import Store
    from bot.store.db import probe_database

    where = settings.database_url.split("://", 1)[0]
    try:
        await probe_database(settings.database_url)  # what serve asks first, in the same words
        store = await Store.open(settings.database_url)
    except ConfigError as exc:
        return (Finding(False, "database", str(exc)),)
    except Exception as exc:  # any driver error: say its type and first line, no URL password
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return (Finding(False, "database", f"{where}: {type(exc).__name__}: {first}"),)
    try:
        await store.ping()
        delivery = await _delivery_findings(store)
    finally:
        await store.close()
    return Finding(True, "database", f"{where}: reachable, migrations applied"), *delivery
