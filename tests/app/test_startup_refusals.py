"""``check`` and ``serve`` refuse the same bad configs and environments, each in one line.

Both really run, as processes, against a simulated cloud and a fake Slack on loopback, so that
only the one fault of each case is wrong. For every case: ``check`` prints exactly one FAIL
line; ``serve`` exits non-zero with exactly one ERROR log line, ``cannot start: `` and the same
words; neither prints a traceback; no secret appears in either.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.config import WATCHES_NOTHING
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud import SimCloud
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from tests.waiting import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-refusals-bot-token-0123456789"
SIGNING_SECRET = "refusals-signing-secret-0123456789"
DB_PASSWORD = "hunter2-refusals-db-password"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, DB_PASSWORD, DEFAULT_STATIC_TOKEN)
#: How many cases run at once, each a check and a serve process (the machine has two cores).
PARALLEL = 2
#: A serve that accepted its case would run until killed; it has this long to refuse.
SERVE_DEADLINE = 40.0

GOOD_CONFIG = "watch:\n  folders: [{folder}]\n"
ALERTS = "watch:\n  folders: [{folder}]\nalerts:\n  - channel: C0ONCALL\n"
DIGESTS = "watch:\n  folders: [{folder}]\ndigests:\n  - channel: C0TEAM\n"


@dataclass(frozen=True)
class Case:
    """One fault: the config file's text (or bytes), the environment's changes, and words the
    refusal must contain."""

    name: str
    expected: str
    config: str | bytes = GOOD_CONFIG
    env: dict[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()
    #: Files written in the working directory before the run (name -> bytes).
    files: dict[str, bytes] = field(default_factory=dict)


#: Each runs ``check`` and ``serve`` once, as processes (about 1.5 s of CPU each); more cases go
#: through the same validate_startup in-process, in tests/test_validation.py.
CASES = [
    # --- the config file -------------------------------------------------------------------
    Case("not UTF-8", "bot.yaml:2: not UTF-8 (byte 0xe9", b"watch:\n  folders: [caf\xe9]\n"),
    Case("an unknown top-level key", "watcher: unknown key; did you mean watch?", "watcher: {}\n"),
    Case(
        "an unknown nested key",
        "bot.yaml:2: watch.folder: unknown key; did you mean folders?",
        "watch:\n  folder: [b1g]\n",
    ),
    Case(
        "a cron with four fields",
        "digests.0.schedule: '30 9 * *' is not a cron schedule; write five fields",
        DIGESTS + "    schedule: '30 9 * *'\n",
    ),
    Case(
        "a time zone that does not exist",
        "digests.0.timezone: 'Mars/Base' is not an IANA time zone (e.g. Europe/Moscow)",
        DIGESTS + "    timezone: Mars/Base\n",
    ),
    Case(
        "a duration without a unit",
        "freshness.grace: '2x' is not a duration; write a number and a unit",
        GOOD_CONFIG + "freshness:\n  grace: 2x\n",
    ),
    Case(
        "a word for a duration",
        "alerts.0.repeat: 'soon' is not a duration",
        ALERTS + "    repeat: soon\n",
    ),
    Case("broken YAML", "bot.yaml:2: ", "watch: [unclosed\n"),
    Case("a list at the top", "bot.yaml:1: the config must be a mapping", "- a\n- b\n"),
    Case("an empty file", WATCHES_NOTHING, ""),
    Case("empty watch lists", WATCHES_NOTHING, "watch:\n  folders: []\n  clusters: []\n"),
    Case("digests but no watch", WATCHES_NOTHING, "digests:\n  - channel: C0TEAM\n"),
    Case(
        "an alert route without a channel",
        "alerts.0.channel: Field required",
        "watch:\n  folders: [{folder}]\nalerts:\n  - mention: [S0GROUP]\n",
    ),
    Case(
        "a mention that is not an id",
        "alerts.0.mention: 'oncall' is not a user group id",
        ALERTS + "    mention: [oncall]\n",
    ),
    Case(
        "a negative rate limit",
        "limits.user_per_minute: Input should be greater than or equal to 0",
        GOOD_CONFIG + "limits:\n  user_per_minute: -1\n",
    ),
    Case(
        "a bare number for a duration",
        "bot.yaml:4: sweep.every: 15 has no unit; write 15m for minutes",
        GOOD_CONFIG + "sweep:\n  every: 15\n",
    ),
    Case(
        "a sweep every 0",
        "sweep.every: 0 is not a duration; a duration is positive",
        GOOD_CONFIG + "sweep:\n  every: 0\n",
    ),
    Case(
        "a negative sweep interval",
        "sweep.every: '-5m' is negative; a duration must be positive: write 5m",
        GOOD_CONFIG + "sweep:\n  every: -5m\n",
    ),
    Case(
        "a lease of zero",
        "sweep.lease: '0s' is zero",
        GOOD_CONFIG + "sweep:\n  lease: 0s\n",
    ),
    Case(
        "a config nested a thousand deep",
        "bot.yaml:3: nested more than 8 levels deep",
        GOOD_CONFIG + "freshness: " + "[" * 1000 + "]" * 1000 + "\n",
    ),
    Case(
        "a config file that does not exist",
        "cannot read the config file (No such file or directory); check BACKUPS_BOT_CONFIG",
        env={"BACKUPS_BOT_CONFIG": "{tmp}/missing.yaml"},
    ),
    # --- the environment -------------------------------------------------------------------
    Case("LOG_LEVEL=LOUD", "LOG_LEVEL: 'LOUD' is not a log level", env={"LOG_LEVEL": "LOUD"}),
    Case("LOG_FORMAT=xml", "LOG_FORMAT: 'xml' is not a log format", env={"LOG_FORMAT": "xml"}),
    Case("a word for PORT", "PORT: Input should be a valid integer", env={"PORT": "http"}),
    Case(
        "no cloud request in flight",
        "YC_MAX_IN_FLIGHT: Input should be greater than or equal to 1",
        env={"YC_MAX_IN_FLIGHT": "0"},
    ),
    Case("a .env that is not UTF-8", ".env:1: not UTF-8", files={".env": b"LOG_LEVEL=INFO\xff\n"}),
    Case(
        "a DATABASE_URL that is not a URL",
        "DATABASE_URL is not a database URL; write one like sqlite+aiosqlite",
        env={"DATABASE_URL": "definitely not a url"},
    ),
    Case(
        "a MySQL DATABASE_URL",
        "DATABASE_URL: 'mysql' databases are not supported; use SQLite or PostgreSQL",
        env={"DATABASE_URL": f"mysql+aiomysql://bot:{DB_PASSWORD}@127.0.0.1/bot"},
    ),
    Case(
        "a synchronous PostgreSQL driver",
        "DATABASE_URL: the driver 'psycopg2' is not one the bot has",
        env={"DATABASE_URL": f"postgresql+psycopg2://bot:{DB_PASSWORD}@127.0.0.1/bot"},
    ),
    # A PostgreSQL that does not answer (nothing listens, a host not known yet) is no refusal:
    # serve waits for it, and check says so (tests/app/test_serve.py, tests/app/test_check.py).
    Case(
        "a SQLite file that is not a database",
        "DATABASE_URL: cannot open the SQLite file",
        env={"DATABASE_URL": "sqlite+aiosqlite:///{tmp}/not-a-db.txt"},
        files={"not-a-db.txt": b"hello, this is text\n" * 100},
    ),
    Case("no bot token", "SLACK_BOT_TOKEN is not set", unset=("SLACK_BOT_TOKEN",)),
    Case(
        "a user token for the bot token",
        "SLACK_BOT_TOKEN does not look like a bot token",
        env={"SLACK_BOT_TOKEN": "xoxp-1234-user-token-abcdef"},
    ),
    Case(
        "HTTP mode without a signing secret",
        "HTTP mode needs SLACK_SIGNING_SECRET",
        unset=("SLACK_SIGNING_SECRET",),
    ),
    Case(
        "a service account key file that does not exist",
        "service account key file {tmp}/key.json does not exist",
        env={"YC_SERVICE_ACCOUNT_KEY_FILE": "{tmp}/key.json"},
        unset=("YC_IAM_TOKEN",),
    ),
    Case(
        "a service account key file that is not JSON",
        "is not valid JSON (line 1, column 1)",
        env={"YC_SERVICE_ACCOUNT_KEY_FILE": "{tmp}/key.json"},
        unset=("YC_IAM_TOKEN",),
        files={"key.json": b"-----BEGIN PRIVATE KEY-----\nMIIE\n"},
    ),
]


@pytest.fixture
async def world() -> AsyncIterator[tuple[SimCloud, FakeSlack]]:
    async with (
        SimCloud(SimConfig(folders=1, clusters_per_folder=1)) as sim,
        FakeSlack(bot_token=BOT_TOKEN) as slack,
    ):
        yield sim, slack


def _environment(case: Case, sim: SimCloud, slack: FakeSlack, tmp: Path) -> dict[str, str]:
    config = tmp / "bot.yaml"
    text = case.config
    raw = text if isinstance(text, bytes) else text.replace("{folder}", sim.fleet.folder_ids()[0])
    config.write_bytes(raw.encode() if isinstance(raw, str) else raw)
    for name, content in case.files.items():
        (tmp / name).write_bytes(content)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "YC_", "BACKUPS_BOT_", "DATABASE_URL", "LOG_", "PORT"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        YC_MDB_ENDPOINT=sim.url,
        YC_RESOURCE_MANAGER_ENDPOINT=sim.url,
        YC_IAM_ENDPOINT=sim.url,
        YC_OPERATION_ENDPOINT=sim.url,
        YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
        BACKUPS_BOT_CONFIG=str(config),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'bot.db'}",
        PORT=str(free_port()),
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    port = str(free_port())

    def fill(text: str) -> str:
        return text.replace("{tmp}", str(tmp)).replace("{port}", port)

    env.update({k: fill(v) for k, v in case.env.items()})
    for name in case.unset:
        env.pop(name, None)
    env["_EXPECTED"] = fill(case.expected)
    return env


async def _run(verb: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        verb,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), SERVE_DEADLINE)
    except TimeoutError:
        process.kill()
        out, _ = await process.communicate()
        return -1, out.decode(errors="replace") + f"\n(still running after {SERVE_DEADLINE} s)"
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


@dataclass
class Verdict:
    case: Case
    expected: str
    check_code: int
    check_out: str
    serve_code: int
    serve_out: str


async def _verdicts(sim: SimCloud, slack: FakeSlack, tmp_path: Path) -> list[Verdict]:
    gate = asyncio.Semaphore(PARALLEL)

    async def one(index: int, case: Case) -> Verdict:
        tmp = tmp_path / f"case{index:02d}"
        tmp.mkdir()
        env = _environment(case, sim, slack, tmp)
        async with gate:
            check, serve = await asyncio.gather(_run("check", env, tmp), _run("serve", env, tmp))
        return Verdict(case, env["_EXPECTED"], *check, *serve)

    return await asyncio.gather(*(one(i, case) for i, case in enumerate(CASES)))


def _judge(v: Verdict) -> list[str]:
    """What is wrong with one case's two runs (empty: both refused alike, in one line)."""
    wrong = []
    both = v.check_out + v.serve_out
    if "Traceback" in both:
        wrong.append("a traceback")
    wrong += [f"the secret {s[:6]}... shows" for s in SECRETS if s in both]
    fails = [line for line in v.check_out.splitlines() if line.startswith("FAIL")]
    if v.check_code != 1 or len(fails) != 1:
        wrong.append(f"check exited {v.check_code} with {len(fails)} FAIL lines")
        return wrong
    detail = fails[0].split(": ", 1)[1]
    if v.expected not in detail:
        wrong.append(f"check said {detail!r}, not {v.expected!r}")
    records, stray = [], []
    for line in v.serve_out.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            stray.append(line)
    if stray:
        wrong.append(f"serve printed lines that are not JSON log lines: {stray[:3]}")
    errors = [r for r in records if r.get("level") in ("ERROR", "CRITICAL")]
    if v.serve_code not in (1, 2) or len(errors) != 1:
        wrong.append(f"serve exited {v.serve_code} with {len(errors)} ERROR lines")
    elif errors[0].get("msg") != f"cannot start: {detail}" or "exc" in errors[0]:
        wrong.append(f"serve said {errors[0].get('msg')!r}; check said {detail!r}")
    return wrong


async def test_check_and_serve_refuse_the_same_bad_configs_in_one_line_each(
    world: tuple[SimCloud, FakeSlack], tmp_path: Path
) -> None:
    assert len(CASES) >= 30
    sim, slack = world
    verdicts = await _verdicts(sim, slack, tmp_path)
    problems = {v.case.name: wrong for v in verdicts if (wrong := _judge(v))}
    assert problems == {}, "\n".join(
        f"{name}: {'; '.join(wrong)}" for name, wrong in problems.items()
    )
    assert len(slack.calls_to("chat.postMessage")) == 0


async def test_the_good_config_of_the_table_passes_check(
    world: tuple[SimCloud, FakeSlack], tmp_path: Path
) -> None:
    sim, slack = world
    env = _environment(Case("good", ""), sim, slack, tmp_path)
    code, out = await _run("check", env, tmp_path)
    assert code == 0, out
    assert not [line for line in out.splitlines() if line.startswith("FAIL")]
