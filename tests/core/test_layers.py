"""The pure core stays pure: importing every ``bot.core`` module pulls in no I/O library, no
scheduler and nothing of ``bot.render`` (which sits above it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Top-level packages the core must never load, and the layer above it.
FORBIDDEN = ("apscheduler", "aiohttp", "slack_sdk", "slack_bolt", "sqlalchemy", "bot.render")

_PROBE = """
import importlib, json, pkgutil, sys
import bot.core
names = sorted("bot.core." + m.name for m in pkgutil.iter_modules(bot.core.__path__))
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "modules": sorted(sys.modules)}))
"""


def test_importing_every_core_module_loads_no_io_library_scheduler_or_renderer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(done.stdout)
    # The probe really imported the core (a typo in it must not pass for purity).
    assert {"bot.core.access", "bot.core.digest", "bot.core.grammar"} <= set(found["imported"])
    leaked = [
        name
        for name in found["modules"]
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    ]
    assert leaked == []
