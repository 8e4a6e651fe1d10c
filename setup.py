"""The build step pyproject.toml's setuptools backend runs: compile each language's catalog.

``build_py`` copies bot/ into the build, then every ``bot/locale/<lang>/LC_MESSAGES/messages.po``
there is compiled to ``messages.mo`` beside it, with Babel (a build requirement, pinned in
pyproject.toml and in requirements.lock). The wheel, and the image that installs it, carry the
``.mo`` files; the bot reads them (bot.i18n.catalog) instead of parsing the ``.po`` at first use.
Each ``.mo`` records the sha256 of the ``.po`` it was made from, so a stale one is never read.
An editable install has no ``.mo``: the bot parses the ``.po`` as before.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

#: Project-Id-Version of a compiled catalog: this word, then the sha256 of its .po.
SOURCE_MARK = "messages.po"


def compile_po(po: bytes, locale: str) -> bytes:
    """The .mo of a .po's bytes, with the plural rules of ``locale`` (Babel's, from CLDR) and
    the .po's sha256 in its Project-Id-Version. bot.i18n.catalog.compile_catalog does the same
    (a test checks the two agree); this copy keeps the build from importing the bot."""
    catalog = read_po(io.BytesIO(po), locale=locale, domain="messages")
    catalog.project = SOURCE_MARK
    catalog.version = hashlib.sha256(po).hexdigest()
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    return compiled.getvalue()


class BuildPyWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        for po in sorted(Path(self.build_lib, "bot", "locale").glob("*/LC_MESSAGES/messages.po")):
            locale = po.parent.parent.name
            po.with_suffix(".mo").write_bytes(compile_po(po.read_bytes(), locale))


if __name__ == "__main__":  # as setuptools' backend runs it; a test imports compile_po alone
    setup(cmdclass={"build_py": BuildPyWithCatalogs})
