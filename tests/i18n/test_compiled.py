"""Compiled catalogs: the build (setup.py) puts a ``messages.mo`` beside every ``messages.po`` in
the wheel, made from that very ``.po``; the bot reads a ``.mo`` only when it was made from the
``.po`` beside it, and parses the ``.po`` otherwise (an editable install, a stale ``.mo``)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import logging
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n.catalog import compile_catalog, compiled_from, load_translations

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("en", "ru")

RUSSIAN = b"""
msgid "Backups status"
msgstr "\xd0\xa1\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe\xd1\x8f\xd0\xbd\xd0\xb8\xd0\xb5"
"""
OTHER = b"""
msgid "Backups status"
msgstr "Other"
"""


def _po(locale: str) -> Path:
    return ROOT / "bot" / "locale" / locale / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The project's wheel, built as the image builds it, from a copy of the sources (so that
    the build's own files stay out of the worktree)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("bot", "handlers"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("*.whl")
    return zipfile.ZipFile(built)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_wheel_carries_each_catalog_compiled_from_its_po(
    wheel: zipfile.ZipFile, locale: str
) -> None:
    path = f"bot/locale/{locale}/LC_MESSAGES/messages"
    po = wheel.read(f"{path}.po")
    assert po == _po(locale).read_bytes()
    mo = wheel.read(f"{path}.mo")
    # Made from this .po (a stale .mo would say another sha256), exactly as the bot compiles.
    assert mo == compile_catalog(po, locale), "rebuild: the shipped .mo is stale"


def test_the_build_and_the_bot_compile_alike() -> None:
    spec = importlib.util.spec_from_file_location("project_setup", ROOT / "setup.py")
    assert spec is not None
    assert spec.loader is not None
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)  # not __main__: setup() does not run
    for locale in LOCALES:
        po = _po(locale).read_bytes()
        assert setup.compile_po(po, locale) == compile_catalog(po, locale)


def test_the_compiled_russian_catalog_says_what_the_po_says(tmp_path: Path) -> None:
    po = _po("ru").read_bytes()
    (tmp_path / "messages.mo").write_bytes(compile_catalog(po, "ru"))
    shutil.copy(_po("ru"), tmp_path / "messages.po")
    compiled = load_translations(tmp_path, "ru")
    assert compiled_from(compiled) == hashlib.sha256(po).hexdigest()  # the .mo was read
    parsed = load_translations(tmp_path / "missing", "ru")
    assert type(parsed).__name__ == "NullTranslations"
    (tmp_path / "po").mkdir()
    shutil.copy(_po("ru"), tmp_path / "po" / "messages.po")
    parsed = load_translations(tmp_path / "po", "ru")
    for message in read_po(io.BytesIO(po), locale="ru"):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for n in (1, 2, 5, 11, 21):
                assert compiled.ngettext(*message.id, n) == parsed.ngettext(*message.id, n)
        else:
            assert compiled.gettext(message.id) == parsed.gettext(message.id)


def test_a_current_mo_is_read_and_a_stale_one_is_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "messages.po").write_bytes(RUSSIAN)
    # A .mo that says something else, but made from this .po: read (the .po is not parsed).
    made = compile_catalog(OTHER, "ru").replace(
        hashlib.sha256(OTHER).hexdigest().encode(), hashlib.sha256(RUSSIAN).hexdigest().encode()
    )
    (tmp_path / "messages.mo").write_bytes(made)
    assert load_translations(tmp_path, "ru").gettext("Backups status") == "Other"
    # Made from another .po: stale, said in the log, and the .po is what counts.
    (tmp_path / "messages.mo").write_bytes(compile_catalog(OTHER, "ru"))
    with caplog.at_level(logging.WARNING, logger="bot.i18n.catalog"):
        assert load_translations(tmp_path, "ru").gettext("Backups status") == "Состояние"
    assert "is stale" in caplog.text


def test_the_image_builds_with_the_catalog_step() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY pyproject.toml setup.py ./" in dockerfile
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"babel==2.19.0"' in pyproject  # the build's requirement, pinned as in the lock
    assert "babel==2.19.0 \\" in (ROOT / "requirements.lock").read_text(encoding="utf-8")
