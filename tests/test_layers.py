"""The layers of DESIGN.md hold: handlers/ sits on top of bot/, never the other way round.

The import graph of bot/ and handlers/ is read from the source with ``ast`` (every import,
including those only made for type checking), so a cycle is found before it bites at import
time in some order nobody tried. Slack is an adapter: only bot/slack and handlers/ import its
SDKs or build Block Kit blocks; everything else says what a person reads as chat-neutral cards.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers")
#: The composition roots: the only modules of bot/ that may build the Slack app with handlers.
COMPOSITION_ROOTS = frozenset({"bot.app.serve"})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                out[_module_name(path)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module
            for alias in node.names:  # `from handlers import actions` imports a submodule
                if f"{module}.{alias.name}" in known:
                    yield f"{module}.{alias.name}"


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(name, path, known):
            # `import bot.slack.app` also imports bot and bot.slack: keep the deepest known one.
            while imported and imported not in known:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_is_read_from_the_real_tree() -> None:
    graph = import_graph()
    assert "handlers.app" in graph
    assert "bot.slack.app" in graph["handlers.app"]
    assert "handlers.app" in graph["bot.app.serve"]


def test_bot_slack_imports_nothing_from_handlers() -> None:
    graph = import_graph()
    offending = {
        module: sorted(t for t in targets if _is(t, "handlers"))
        for module, targets in graph.items()
        if _is(module, "bot.slack") and any(_is(t, "handlers") for t in targets)
    }
    assert offending == {}


def test_only_the_composition_root_of_bot_imports_handlers() -> None:
    graph = import_graph()
    importers = {
        module
        for module, targets in graph.items()
        if _is(module, "bot") and any(_is(t, "handlers") for t in targets)
    }
    assert importers <= COMPOSITION_ROOTS


def test_no_import_cycle_runs_through_handlers_or_bot_slack() -> None:
    cycles = [
        sorted(component)
        for component in _cycles(import_graph())
        if any(_is(m, "handlers") or _is(m, "bot.slack") for m in component)
    ]
    assert cycles == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [{"a", "b", "c"}]


# --- Slack is an adapter: only bot/slack and handlers/ know it ----------------------------------

#: Where Slack's SDKs may be imported and Block Kit blocks built.
SLACK_SIDE = ("bot.slack", "handlers")
#: The fake Slack Web API the demo and the tests run against plays Slack's own part: the
#: ``block_actions`` payloads it sends (a button element with a plain_text label) are Slack's.
#: The demo's console (bot.demo.console) reads payloads to print them as Slack shows them; it
#: builds none, so it needs no exception.
PLAYS_SLACK = frozenset({"bot.demo.fake_slack"})
#: Block Kit's block and element types (and its text objects).
BLOCK_KIT_TYPES = frozenset(
    {
        "section",
        "context",
        "actions",
        "header",
        "divider",
        "image",
        "input",
        "rich_text",
        "button",
        "overflow",
        "static_select",
        "datepicker",
        "checkboxes",
        "radio_buttons",
        "mrkdwn",
        "plain_text",
    }
)


def _block_literals(path: Path) -> list[str]:
    """``type`` values of the Block Kit dicts a module builds: ``{"type": "section", ...}`` and
    ``dict(type="section", ...)``, with the line each is on."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        pairs: list[tuple[ast.expr | None, ast.expr]] = []
        if isinstance(node, ast.Dict):
            pairs = list(zip(node.keys, node.values, strict=True))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "dict"
        ):
            pairs = [(ast.Constant(k.arg), k.value) for k in node.keywords if k.arg]
        for key, value in pairs:
            if (
                isinstance(key, ast.Constant)
                and key.value == "type"
                and isinstance(value, ast.Constant)
                and value.value in BLOCK_KIT_TYPES
            ):
                found.append(f"{value.value} (line {node.lineno})")
    return found


def _slack_side(module: str) -> bool:
    return any(_is(module, side) for side in SLACK_SIDE)


def test_only_bot_slack_and_handlers_import_slack_sdk_or_slack_bolt() -> None:
    offending = {}
    for name, path in _modules().items():
        if _slack_side(name):
            continue
        sdks = sorted(
            {i for i in _imports(name, path, set()) if _is(i, "slack_sdk") or _is(i, "slack_bolt")}
        )
        if sdks:
            offending[name] = sdks
    assert offending == {}


def test_only_bot_slack_and_handlers_build_block_kit_blocks() -> None:
    modules = _modules()
    offending = {
        name: found
        for name, path in modules.items()
        if not _slack_side(name) and name not in PLAYS_SLACK and (found := _block_literals(path))
    }
    assert offending == {}
    # The scan sees real blocks where they are built (it is not vacuous).
    assert any(t.startswith("section") for t in _block_literals(modules["bot.slack.blocks"]))
    assert _block_literals(modules["bot.demo.fake_slack"])


def test_the_block_scan_finds_a_block_in_either_spelling(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        'A = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}\n'
        'B = dict(type="divider")\n'
        'C = {"type": "message"}\n',
        encoding="utf-8",
    )
    assert sorted(_block_literals(module)) == [
        "divider (line 2)",
        "mrkdwn (line 1)",
        "section (line 1)",
    ]
