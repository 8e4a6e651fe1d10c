"""Pure code stays pure: importing every module whose role is a rule, a plan, a value or a
message pulls in no I/O library, no scheduler, no store and no network client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.test_layers import PURE_ROLES

ROOT = Path(__file__).resolve().parents[1]

#: What pure code must never load: I/O libraries, the scheduler, the store and the clients.
#: APScheduler's triggers are the cron engine's arithmetic (bot.cron, used by the schedules of
#: backups) and do no I/O; its schedulers, executors and job stores run jobs and may not load.
FORBIDDEN = (
    "apscheduler.schedulers",
    "apscheduler.executors",
    "apscheduler.jobstores",
    "aiohttp",
    "slack_sdk",
    "slack_bolt",
    "sqlalchemy",
    "bot.store",
    "bot.cloud.client",
    "bot.slack.notifier",
    "bot.slack.app",
)

_PROBE = """
import importlib, json, sys
names = json.loads(sys.argv[1])
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": sorted(sys.modules)}))
"""


def pure_modules() -> list[str]:
    """Every module of bot/ whose file name says it is pure."""
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if path.stem in PURE_ROLES and "demo" not in path.parts:
            found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def test_importing_every_pure_module_loads_no_io_library_scheduler_store_or_client() -> None:
    names = pure_modules()
    # The roles really name modules (a typo in them must not pass for purity).
    assert {"bot.alerts.policy", "bot.alerts.plan", "bot.commands.grammar"} <= set(names)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(names)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = json.loads(done.stdout)["modules"]
    leaked = [
        name
        for name in loaded
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    ]
    assert leaked == []
