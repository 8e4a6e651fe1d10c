"""The README and docs/ say what is true: every ``backups-bot`` command line they show parses,
every ``make`` target they show exists (``make -n``), every link and contents entry leads
somewhere, the first screen says how to run the demo and the tests and what the tests need, and
``exec``'s exit codes are the ones the README gives."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.cli import build_parser
from bot.demo.simcloud import SimCloud
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS, ROOT / "helm" / "README.md"]

FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.M | re.S)
#: Placeholders of the usage lines in the commands table, and a value each takes.
PLACEHOLDERS = {"<words>": "list logs-prod", "<cluster>": "logs-prod", "YYYY-MM": "2026-11"}


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _shell_lines(path: Path) -> Iterator[str]:
    """The lines of the page's code blocks, continuation lines joined, comments dropped."""
    for block in FENCE.findall(_text(path)):
        for line in block.replace("\\\n", " ").splitlines():
            yield line.split(" #", 1)[0].strip()


def _bot_command_lines() -> list[str]:
    """Every backups-bot command line the pages show: in code blocks, and the commands table."""
    lines = []
    for path in PAGES:
        for line in _shell_lines(path):
            # The program, run by name, by path or after kubectl's `--`; not a name given to
            # something else (`helm install backups-bot`, a service account).
            match = re.search(r"(?:^|bin/|\s-- )backups-bot (.+)$", line)
            if match:
                lines.append(match.group(1))
    for usage in re.findall(r"^\| `backups-bot ([^`]+)` \|", _text(README), re.M):
        for placeholder, value in PLACEHOLDERS.items():
            usage = usage.replace(placeholder, value)
        # `[--wait S]` is an option that may be given: give it, with a value of its kind.
        usage = re.sub(r"\[(--\w[\w-]*) ([A-Z])\]", lambda m: f"{m.group(1)} {_value(m)}", usage)
        lines.append(re.sub(r"[\[\]]", "", usage))
    return lines


def _value(match: re.Match[str]) -> str:
    return {"S": "5", "C": "C0TEAMCHANNEL"}.get(match.group(2), "x")


def test_the_pages_show_backups_bot_command_lines() -> None:
    lines = _bot_command_lines()
    verbs = {shlex.split(line)[0] for line in lines}
    assert {"serve", "exec", "digest", "sweep", "check", "demo"} <= verbs, verbs


@pytest.mark.parametrize("line", _bot_command_lines())
def test_every_backups_bot_command_line_shown_parses(line: str) -> None:
    try:
        args = build_parser().parse_args(shlex.split(line))
    except SystemExit as exc:  # argparse's way of refusing
        pytest.fail(f"`backups-bot {line}` does not parse (exit {exc.code})")
    assert callable(getattr(args, "handler", None)), line


def _make_lines() -> list[str]:
    lines = []
    for path in PAGES:
        for line in _shell_lines(path):
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("make "):
                    lines.append(part)
    return sorted(set(lines))


def test_the_pages_show_the_make_targets_people_need() -> None:
    targets = {word for line in _make_lines() for word in shlex.split(line)[1:] if "=" not in word}
    assert {"demo", "test", "image", "image-test", "lock"} <= targets, targets


@pytest.mark.parametrize("line", _make_lines())
def test_every_make_line_shown_is_one_make_knows(line: str) -> None:
    result = subprocess.run(
        [*shlex.split(line), "-n"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_make_demo_needs_no_helm_and_no_database() -> None:
    plan = subprocess.run(
        ["make", "-n", "-B", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "backups-bot demo" in plan
    assert "pip install --quiet -e .\n" in plan  # the runtime only, no dev extra
    assert "[dev]" not in plan
    assert "helm" not in plan
    assert "postgres" not in plan


def test_the_first_screen_runs_the_demo_and_the_tests_and_says_what_they_need() -> None:
    first = "\n".join(_text(README).splitlines()[:20])
    assert "make demo" in first
    assert "make test" in first
    assert "PostgreSQL" in first


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_leads_somewhere(page: Path) -> None:
    text = _text(page)
    anchors = {_slug(h) for h in re.findall(r"^#+ (.+)$", FENCE.sub("", text), re.M)}
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        if not path:
            assert anchor in anchors, f"{page.name}: no heading for #{anchor}"
            continue
        linked = (page.parent / path).resolve()
        assert linked.exists(), f"{page.name}: {target} does not exist"
        if anchor and linked.suffix == ".md":
            theirs = {
                _slug(h) for h in re.findall(r"^#+ (.+)$", FENCE.sub("", _text(linked)), re.M)
            }
            assert anchor in theirs, f"{page.name}: {linked.name} has no heading for #{anchor}"


def test_the_contents_name_every_section_of_the_guide() -> None:
    text = _text(README)
    contents = text[text.index("## Contents") : text.index("## What it looks like")]
    listed = set(re.findall(r"\]\(#([\w-]+)\)", contents))
    sections = {_slug(h) for h in re.findall(r"^## (.+)$", FENCE.sub("", text), re.M)}
    assert sections - {"contents"} <= listed


def test_the_design_notes_benchmarks_and_mutation_scores_live_in_docs() -> None:
    readme = _text(README)
    assert "| module | mutants |" not in readme
    assert "**Listing backups**" not in readme
    assert "| module | mutants |" in _text(ROOT / "docs" / "TESTING.md")
    assert "**Listing backups**" in _text(ROOT / "docs" / "BENCHMARKS.md")
    assert "## Code layout" in _text(ROOT / "docs" / "DESIGN.md")


# --- exec's exit codes, as the README gives them --------------------------------------------------


async def _exec(sim: SimCloud, tmp_path: Path, *words: str) -> int:
    config = tmp_path / "bot.yaml"
    config.write_text(f"watch:\n  folders: [{sim.fleet.folder_ids()[0]}]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YC_", "DATABASE"))}
    env.update(
        YC_MDB_ENDPOINT=sim.url,
        YC_RESOURCE_MANAGER_ENDPOINT=sim.url,
        YC_OPERATION_ENDPOINT=sim.url,
        YC_IAM_ENDPOINT=sim.url,
        YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
        BACKUPS_BOT_CONFIG=str(config),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "exec",
        "--",
        *words,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), 60)


async def test_exec_exits_0_on_an_answer_1_on_not_found_and_2_on_a_usage_error(
    tmp_path: Path,
) -> None:
    assert "exit 0 on an answer, 2 on a usage error, 1 when there is no answer" in _text(README)
    async with SimCloud(SimConfig(folders=1, clusters_per_folder=1)) as sim:
        cluster = next(iter(sim.fleet.clusters))
        assert await _exec(sim, tmp_path, "list", cluster) == 0
        assert await _exec(sim, tmp_path, "get", "c9qnosuchbackup00000") == 1
        assert await _exec(sim, tmp_path, "lsit", cluster) == 2
