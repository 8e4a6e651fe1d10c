"""Bench of a catalog's first use: how long the Russian catalog takes to load, parsed from its
``.po`` (an editable install) and read from the ``.mo`` the build compiles (the wheel, the image).

Each way is timed in a fresh interpreter (``-X importtime`` aside: the wall time of the load
itself, after the imports both share), a few times, and the median printed.

Run: ``python bench/bench_catalog.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.i18n.catalog import compile_catalog

ROOT = Path(__file__).resolve().parents[1]
LOCALE = "ru"

#: One load in a fresh interpreter, printing its milliseconds.
_LOAD = """
import sys, time
from pathlib import Path
from bot.i18n.catalog import load_translations
start = time.perf_counter()
found = load_translations(Path(sys.argv[1]), "ru")
took = time.perf_counter() - start
assert found.ngettext("{n} backup", "{n} backups", 5) == "{n} бэкапов"
print(took * 1000)
"""


def _median_ms(directory: Path, runs: int) -> float:
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", _LOAD, str(directory)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _run in range(runs)
    ]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    po = ROOT / "bot" / "locale" / LOCALE / "LC_MESSAGES" / "messages.po"
    with tempfile.TemporaryDirectory() as tmp:
        parsed, compiled = Path(tmp, "po"), Path(tmp, "mo")
        for directory in (parsed, compiled):
            directory.mkdir()
            shutil.copy(po, directory / po.name)
        (compiled / "messages.mo").write_bytes(compile_catalog(po.read_bytes(), LOCALE))
        from_po = _median_ms(parsed, args.runs)
        from_mo = _median_ms(compiled, args.runs)
    print(f"first use of the {LOCALE} catalog, median of {args.runs} fresh interpreters:")
    print(f"  parsed from messages.po: {from_po:8.1f} ms")
    print(f"  read from messages.mo:   {from_mo:8.1f} ms  ({from_po / from_mo:.0f}x faster)")


if __name__ == "__main__":
    main()
