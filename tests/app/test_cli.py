"""The console script exists and answers --version without touching the network."""

import subprocess
import sys

from bot import __version__


def test_it_prints_its_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"backups-bot {__version__}"


def test_it_exits_2_without_a_command() -> None:
    out = subprocess.run([sys.executable, "-m", "bot"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "usage: backups-bot" in out.stderr
