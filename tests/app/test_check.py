"""``backups-bot check`` against a simulated cloud and a fake Slack on loopback, as a subprocess."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud import SimCloud, demo_fleet
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.outbox.change import Change
from bot.outbox.posts import OutboundPost, PostKind
from bot.store import Store
from tests.store.conftest import POSTGRES_ADMIN_URL, _admin
from tests.waiting import free_port

SLACK_TOKEN = "xoxb-check-test-token-0123456789"


@pytest.fixture
async def sim() -> AsyncIterator[SimCloud]:
    async with SimCloud(SimConfig(folders=2, clusters_per_folder=2)) as cloud:
        yield cloud


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=SLACK_TOKEN) as fake:
        yield fake


def _env(sim: SimCloud, slack: FakeSlack, tmp_path: Path, **extra: str) -> dict[str, str]:
    folders = sim.fleet.folder_ids()
    config = tmp_path / "bot.yaml"
    config.write_text(f"watch:\n  folders: [{folders[0]}]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YC_", "DATABASE"))}
    env.update(
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_SIGNING_SECRET="check-signing-secret",
        SLACK_API_URL=slack.api_url,
        YC_MDB_ENDPOINT=sim.url,
        YC_IAM_ENDPOINT=sim.url,
        YC_OPERATION_ENDPOINT=sim.url,
        YC_RESOURCE_MANAGER_ENDPOINT=sim.url,
        YC_VPC_ENDPOINT=sim.url,
        YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
        BACKUPS_BOT_CONFIG=str(config),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    )
    env.update(extra)
    return env


def _watch(env: dict[str, str], text: str) -> None:
    """Make the config of ``env`` the given one."""
    Path(env["BACKUPS_BOT_CONFIG"]).write_text(text, encoding="utf-8")


async def _check(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_it_reports_every_check_ok_and_exits_0(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    code, out = await _check(_env(sim, slack, tmp_path), tmp_path)
    assert code == 0, out
    lines = out.strip().splitlines()
    assert all(line.startswith("ok  ") for line in lines), out  # no FAIL, no warning
    folder = sim.fleet.folder_ids()[0]
    assert f"ok    folder {folder}: readable, 2 OpenSearch clusters" in lines
    assert "ok    slack auth.test: @backups-bot in Example" in lines
    assert "ok    cloud credentials: IAM token from YC_IAM_TOKEN" in lines
    assert any(line.startswith("ok    database: sqlite+aiosqlite") for line in lines)


async def test_it_says_what_is_wrong_in_one_line_each(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(
        sim,
        slack,
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-wrong-token-abcdef",
        YC_IAM_TOKEN="not-a-token-the-cloud-knows",
    )
    del env["SLACK_SIGNING_SECRET"]
    code, out = await _check(env, tmp_path)
    assert code == 1
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert any(
        line.startswith("FAIL  slack mode: HTTP mode needs SLACK_SIGNING_SECRET") for line in fails
    )
    assert any(
        line.startswith("FAIL  slack auth.test:") and "invalid_auth" in line for line in fails
    )
    # A token the cloud refuses is one line, with what to do, not one failure per folder.
    [cloud] = [line for line in fails if line.startswith("FAIL  cloud credentials:")]
    assert "the cloud refused the IAM token from YC_IAM_TOKEN" in cloud
    assert "set a new YC_IAM_TOKEN" in cloud
    assert not any(line.startswith("FAIL  folder ") for line in fails)
    # The tokens it was given never appear in what it prints.
    assert "xoxb-wrong-token-abcdef" not in out
    assert "not-a-token-the-cloud-knows" not in out


async def test_it_names_the_role_when_a_folder_is_forbidden(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    folder = sim.fleet.folder_ids()[0]
    sim.inject_fault(r"/managed-opensearch/v1/clusters$", 403, times=10)
    code, out = await _check(_env(sim, slack, tmp_path), tmp_path)
    assert code == 1
    expected = f"FAIL  folder {folder}: the service account cannot read it; grant "
    assert expected + "managed-opensearch.viewer" in out


async def test_it_says_what_each_watched_cloud_gives(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    cloud = sim.fleet.clouds[0]
    env = _env(sim, slack, tmp_path)
    _watch(env, f"watch:\n  clouds: [{cloud.id}]\n")
    code, out = await _check(env, tmp_path)
    assert code == 0, out
    assert f"ok    cloud cloud-1 ({cloud.id}): 2 active folders, 4 OpenSearch clusters" in out
    assert "ok    cloud credentials: IAM token from YC_IAM_TOKEN" in out


async def test_it_names_the_folders_of_an_organization_it_cannot_read_and_why(
    slack: FakeSlack, tmp_path: Path
) -> None:
    async with SimCloud(SimConfig(), fleet=demo_fleet(datetime.now(UTC))) as org:
        env = _env(org, slack, tmp_path)
        organization = org.fleet.clouds[0].organization_id
        _watch(env, f"watch:\n  organization: {organization}\n")
        code, out = await _check(env, tmp_path)
        platform, sandbox = org.fleet.clouds
        restricted = next(f for f in org.fleet.folders if f.unreadable)
    assert code == 1
    lines = out.splitlines()
    assert f"ok    organization {organization}: 2 clouds" in lines
    assert (
        f"ok    cloud platform ({platform.id}): 3 active folders, 30 OpenSearch clusters" in lines
    )
    assert (
        f"FAIL  cloud sandbox ({sandbox.id}): 1 active folder, 0 OpenSearch clusters "
        "(2 folders being deleted, not watched); 1 cannot be read (below)"
    ) in lines
    [line] = [
        x for x in lines if x.startswith(f"FAIL  folder finance-restricted ({restricted.id})")
    ]
    assert "grant managed-opensearch.viewer" in line
    assert f"watch.exclude: {{folder: {restricted.id}}}" in line
    assert "Permission denied" in line


async def test_it_names_the_resource_manager_role_when_a_cloud_is_forbidden(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(sim, slack, tmp_path)
    _watch(env, "watch:\n  clouds: [b1gnosuchcloud000001]\n")
    code, out = await _check(env, tmp_path)
    assert code == 1
    assert (
        "FAIL  cloud b1gnosuchcloud000001: the service account cannot list its folders; grant "
        "resource-manager.viewer on the cloud"
    ) in out


async def test_a_broken_config_is_one_line_and_the_rest_still_runs(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(sim, slack, tmp_path)
    (tmp_path / "bot.yaml").write_text("freshness:\n  grace: soon\n", encoding="utf-8")
    code, out = await _check(env, tmp_path)
    assert code == 1
    assert "FAIL  config: " in out
    assert "bot.yaml:2: freshness.grace: 'soon' is not a duration" in out
    assert "ok    slack auth.test" in out


async def test_a_missing_bot_token_is_said_plainly(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(sim, slack, tmp_path)
    del env["SLACK_BOT_TOKEN"]
    code, out = await _check(env, tmp_path)
    assert code == 1
    assert "FAIL  slack: SLACK_BOT_TOKEN is not set" in out


async def test_it_says_the_scopes_allow_exactly_once_delivery(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    code, out = await _check(_env(sim, slack, tmp_path), tmp_path)
    assert code == 0, out
    assert "ok    slack scopes: posting, and exactly-once delivery (history scopes)" in out
    assert "ok    slack delivery: 0 posts waiting to be sent, 0 given up" in out


async def test_a_token_without_history_scopes_is_a_warning_about_at_least_once(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    slack.remove_scopes("channels:history", "groups:history")
    code, out = await _check(_env(sim, slack, tmp_path), tmp_path)
    assert code == 0, out
    [line] = [line for line in out.splitlines() if "slack scopes" in line]
    assert line.startswith("warn  slack scopes: the token lacks channels:history, groups:history")
    assert "at-least-once" in line


async def test_a_channel_that_refuses_the_bot_fails_the_check_with_what_to_do(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(sim, slack, tmp_path)
    store = await Store.open(env["DATABASE_URL"])
    try:
        await store.commit(
            Change(posts=[OutboundPost(PostKind.ALERT, "C0GONE", {"text": "alert"})]),
            now=datetime.now(UTC),
        )
        await store.outbox.park_channel(
            "C0GONE", code="not_in_channel", now=datetime.now(UTC), next_try=datetime.now(UTC)
        )
    finally:
        await store.close()

    code, out = await _check(env, tmp_path)

    assert code == 1
    [line] = [line for line in out.splitlines() if line.startswith("FAIL  slack delivery")]
    assert "Slack refuses channel C0GONE (not_in_channel)" in line
    assert "invite the bot" in line
    assert "ok    slack delivery: 1 post waiting to be sent, 0 given up" in out


# --- unreachable is not refused ------------------------------------------------------------------


async def test_an_unreachable_slack_is_said_to_be_unreachable_not_refused(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/api/"
    code, out = await _check(_env(sim, slack, tmp_path, SLACK_API_URL=nobody), tmp_path)
    assert code == 1
    [line] = [line for line in out.splitlines() if "slack auth.test" in line]
    assert line.startswith(f"FAIL  slack auth.test: Slack is unreachable at {nobody} ("), line
    assert "refused" not in line
    assert "check the network" in line


async def test_an_unreachable_cloud_leaves_the_token_unverified(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    code, out = await _check(_env(sim, slack, tmp_path, YC_MDB_ENDPOINT=nobody), tmp_path)
    assert code == 1
    lines = out.splitlines()
    folder = sim.fleet.folder_ids()[0]
    [line] = [line for line in lines if line.startswith(f"FAIL  folder {folder}:")]
    assert line.startswith(f"FAIL  folder {folder}: unreachable: could not reach the cloud at ")
    assert (
        "warn  cloud credentials: IAM token from YC_IAM_TOKEN "
        "(not verified: the cloud did not answer)"
    ) in lines


async def test_a_refused_key_exchange_fails_with_what_to_do(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    sim.inject_fault(r"/iam/v1/tokens$", 401, times=10)
    env = _env(sim, slack, tmp_path, YC_OAUTH_TOKEN="y0_not-a-real-oauth-token")
    del env["YC_IAM_TOKEN"]
    code, out = await _check(env, tmp_path)
    assert code == 1
    [line] = [line for line in out.splitlines() if "cloud credentials" in line]
    assert line.startswith("FAIL  cloud credentials: IAM refused to exchange"), line
    assert line.endswith("get a new one, or use a service account key")
    assert "y0_not-a-real-oauth-token" not in out


# --- the database is read, never made or changed -------------------------------------------------


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _contents(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


async def test_it_creates_no_database_where_there_is_none(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(sim, slack, tmp_path)
    del env["DATABASE_URL"]  # the default: ./backups-bot.db in the working directory
    before = _listing(tmp_path)
    code, out = await _check(env, tmp_path)
    assert code == 0, out
    assert _listing(tmp_path) == before
    expected = f"ok    database: sqlite+aiosqlite: {tmp_path / 'backups-bot.db'} does not exist yet"
    assert expected + "; serve creates it" in out.splitlines()


async def test_an_existing_database_is_read_and_left_as_it_was(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(sim, slack, tmp_path)
    await (await Store.open(env["DATABASE_URL"])).close()
    files = _contents(tmp_path)
    code, out = await _check(env, tmp_path)
    assert code == 0, out
    assert "ok    database: sqlite+aiosqlite: reachable, migrations applied" in out
    assert _contents(tmp_path) == files


@pytest.mark.postgres
async def test_on_postgresql_it_migrates_nothing(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    name = f"bbtest_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
        env = _env(sim, slack, tmp_path, DATABASE_URL=url.render_as_string(hide_password=False))
        code, out = await _check(env, tmp_path)
        assert code == 0, out
        [line] = [line for line in out.splitlines() if line.startswith("ok    database:")]
        assert line.startswith("ok    database: postgresql+asyncpg: reachable, no tables yet; ")
        assert "serve migrates it to " in line
        connection = await asyncpg.connect(
            url.set(drivername="postgresql").render_as_string(hide_password=False)
        )
        try:
            tables = await connection.fetchval(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            )
        finally:
            await connection.close()
        assert tables == 0
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_a_database_that_does_not_answer_is_said_to_be_unreachable(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    url = f"postgresql+asyncpg://bot@127.0.0.1:{port}/bot"
    code, out = await _check(_env(sim, slack, tmp_path, DATABASE_URL=url), tmp_path)
    assert code == 1
    [line] = [line for line in out.splitlines() if line.startswith("FAIL  database:")]
    assert line.startswith(
        f"FAIL  database: unreachable: DATABASE_URL: PostgreSQL at 127.0.0.1:{port}"
    )


# --- in the config's language (issue 23): the details in Russian, the marks and names as ever ----


def _russian(env: dict[str, str], watch: str) -> None:
    """The config of ``env`` in Russian, watching ``watch``; the shell says nothing."""
    _watch(env, f"locale: ru\nwatch:\n{watch}")
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        env.pop(name, None)


async def test_a_good_config_in_russian_is_checked_in_russian(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(sim, slack, tmp_path)
    folder = sim.fleet.folder_ids()[0]
    _russian(env, f"  folders: [{folder}]\n")
    code, out = await _check(env, tmp_path)
    assert code == 0, out
    lines = out.strip().splitlines()
    assert all(line.startswith("ok  ") for line in lines), out
    assert "ok    environment: переменные разобраны" in lines
    assert f"ok    config: {env['BACKUPS_BOT_CONFIG']} в порядке" in lines
    assert "ok    slack mode: режим HTTP на порту 3000" in lines
    assert "ok    slack auth.test: @backups-bot в Example" in lines
    assert f"ok    folder {folder}: читается, 2 кластера OpenSearch" in lines
    assert "ok    cloud credentials: IAM-токен из YC_IAM_TOKEN" in lines
    assert "ok    slack delivery: 0 сообщений ждут отправки, 0 брошено" in lines
    assert any(line.startswith("ok    database: sqlite+aiosqlite: ") for line in lines), out


async def test_each_kind_of_refusal_is_said_in_russian_with_the_same_exit_code(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(
        sim,
        slack,
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-wrong-token-abcdef",
        YC_IAM_TOKEN="not-a-token-the-cloud-knows",
        DATABASE_URL="oracle://bot:pw-secret@db/x",
        LOG_LEVEL="loud",
    )
    del env["SLACK_SIGNING_SECRET"]
    folder = sim.fleet.folder_ids()[0]
    _russian(env, f"  folders: [{folder}]\nsweep:\n  every: 15\n")
    code, out = await _check(env, tmp_path)
    assert code == 1
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    expected = [
        "FAIL  environment: LOG_LEVEL: 'loud' — не уровень логов; используйте один из: DEBUG",
        "FAIL  config: ",
        "FAIL  slack mode: для режима HTTP нужен SLACK_SIGNING_SECRET",
        "FAIL  slack auth.test: Slack отклонил токен бота (invalid_auth); задайте",
        "FAIL  database: DATABASE_URL: базы 'oracle' не поддерживаются",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in fails), (start, out)
    [config] = [line for line in fails if line.startswith("FAIL  config: ")]
    assert config.endswith(
        "sweep.every: у 15 нет единицы; напишите 15m для минут, 15s для секунд (или 15h, 15d)"
    )
    assert "pw-secret" not in out


async def test_a_refused_token_is_said_in_russian(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _env(sim, slack, tmp_path, YC_IAM_TOKEN="not-a-token-the-cloud-knows")
    _russian(env, f"  folders: [{sim.fleet.folder_ids()[0]}]\n")
    code, out = await _check(env, tmp_path)
    assert code == 1
    [cloud] = [line for line in out.splitlines() if "cloud credentials" in line]
    assert cloud.startswith("FAIL  cloud credentials: облако отклонило IAM-токен из YC_IAM_TOKEN")
    assert cloud.endswith(
        "IAM-токен живёт не больше 12 часов: задайте новый YC_IAM_TOKEN (yc iam create-token), "
        "а лучше YC_SERVICE_ACCOUNT_KEY_FILE"
    )


async def test_an_unreachable_cloud_is_said_in_russian(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    env = _env(sim, slack, tmp_path, YC_MDB_ENDPOINT=nobody)
    folder = sim.fleet.folder_ids()[0]
    _russian(env, f"  folders: [{folder}]\n")
    code, out = await _check(env, tmp_path)
    assert code == 1
    lines = out.splitlines()
    [line] = [line for line in lines if line.startswith(f"FAIL  folder {folder}:")]
    assert line.startswith(
        f"FAIL  folder {folder}: недоступно: не удалось достучаться до облака (127.0.0.1:"
    ), line
    assert (
        "warn  cloud credentials: IAM-токен из YC_IAM_TOKEN (не проверен: облако не ответило)"
    ) in lines


@pytest.mark.parametrize(
    ("lang", "said"),
    [("ru_RU.UTF-8", "файл конфига не читается"), ("C.UTF-8", "cannot read the config file")],
)
async def test_a_config_that_cannot_be_read_is_refused_in_the_shells_language(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path, lang: str, said: str
) -> None:
    env = _env(sim, slack, tmp_path, BACKUPS_BOT_CONFIG=str(tmp_path), LANG=lang)
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    code, out = await _check(env, tmp_path)
    assert code == 1
    [config] = [line for line in out.splitlines() if line.startswith("FAIL  config: ")]
    assert said in config


def _drill_route(folder: str, *, network: str, subnet: str, preset: str = "s2.small") -> str:
    return (
        f"drills:\n"
        f"  - {{folder: {folder}, network: {network}, subnets: {{ru-central1-a: {subnet}}},\n"
        f"     preset: {preset}, hosts: 3, time_limit: 2h, channel: C0TEAM}}\n"
    )


async def test_it_validates_a_drill_route_against_the_cloud_and_says_its_cost(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    folder = sim.fleet.folder_ids()[0]
    sim.add_network("enpchecknetwork00001", folder, {"ru-central1-a": "e9bchecksubnet000001"})
    env = _env(sim, slack, tmp_path)
    _watch(
        env,
        f"watch:\n  folders: [{folder}]\n"
        + _drill_route(folder, network="enpchecknetwork00001", subnet="e9bchecksubnet000001"),
    )
    code, out = await _check(env, tmp_path)
    assert code == 0, out
    lines = out.splitlines()
    assert (
        f"ok    drills.0 network enpchecknetwork00001: net-0001 (folder {folder}) exists" in lines
    )
    assert (
        "ok    drills.0 subnet e9bchecksubnet000001: exists in ru-central1-a, "
        "network enpchecknetwork00001"
    ) in lines
    assert "ok    drills.0 preset s2.small: offered: 4 cores, 16 GiB memory per host" in lines
    [cost] = [line for line in lines if line.startswith("ok    drills.0 cost: ")]
    assert "at most 3 hosts of s2.small (4 cores, 16 GiB memory each) for up to 2h" in cost
    assert "6 host-hours (24 core-hours, 96 GiB-hours of memory)" in cost
    # Nothing was created, or asked to be.
    assert [r for r in sim.requests if r.method != "GET" and "/iam/" not in r.path] == []
    assert sim.restored == []


async def test_a_drill_route_whose_network_subnet_or_preset_is_not_there_fails(
    sim: SimCloud, slack: FakeSlack, tmp_path: Path
) -> None:
    folder = sim.fleet.folder_ids()[0]
    # A subnet of another network than the route's.
    sim.add_network("enpothernetwork00001", folder, {"ru-central1-a": "e9bothersubnet000001"})
    env = _env(sim, slack, tmp_path)
    _watch(
        env,
        f"watch:\n  folders: [{folder}]\n"
        + _drill_route(
            folder, network="enpmissingnetwork001", subnet="e9bothersubnet000001", preset="x9.huge"
        )
        + "  - {folder: "
        + folder
        + ", network: enpothernetwork00001, subnets: {ru-central1-a: e9bmissingsubnet0001},"
        " channel: C0TEAM}\n",
    )
    code, out = await _check(env, tmp_path)
    assert code == 1, out
    lines = out.splitlines()
    assert (
        "FAIL  drills.0 network enpmissingnetwork001: Network enpmissingnetwork001 not found"
        in (lines)
    )
    assert (
        "FAIL  drills.0 subnet e9bothersubnet000001: it is in network enpothernetwork00001, "
        "not in enpmissingnetwork001; name a subnet of the drill's network"
    ) in lines
    assert "FAIL  drills.0 preset x9.huge: Resource preset x9.huge not found" in lines
    # The cost is still said, in host-hours (the preset's figures are unknown).
    assert any(
        line.startswith(
            "ok    drills.0 cost: at most 3 hosts of x9.huge for up to 2h: 6 host-hours"
        )
        for line in lines
    )
    assert "FAIL  drills.1 subnet e9bmissingsubnet0001: Subnet e9bmissingsubnet0001 not found" in (
        lines
    )
    assert "ok    drills.1 network enpothernetwork00001" in out
