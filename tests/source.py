"""Reading the project's own source for the structural tests (layers, buttons, scopes, strings)."""

from __future__ import annotations

import ast
from pathlib import Path


def parse(path: Path) -> ast.Module:
    """``path`` parsed. CPython 3.11 before 3.11.8 may raise ``SystemError: AST constructor
    recursion depth mismatch`` from a correct file when another thread of the process builds AST
    objects at the same moment (gh-106905, fixed in 3.11.8; it failed tests/test_layers.py once
    on a machine at load 19): the parse is tried again, since the file did not change."""
    source = path.read_text(encoding="utf-8")
    for _attempt in range(4):
        try:
            return ast.parse(source, filename=str(path))
        except SystemError:
            continue
    return ast.parse(source, filename=str(path))
