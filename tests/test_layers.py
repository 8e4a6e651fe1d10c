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

from tests.source import parse

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
    tree = parse(path)
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
    tree = parse(path)
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


# --- roles: every module stands on those below it -----------------------------------------------

#: Plain data and the vocabulary everything may use.
GROUND = frozenset(
    {
        "bot",
        "bot.errors",
        "bot.clock",
        "bot.settings",
        "bot.durations",
        "bot.cron",
        "bot.config",
        "bot.cloud.models",
        "bot.cloud.validation",
    }
)
GROUND_PACKAGES = ("bot.chat", "bot.i18n")
#: Pure roles, by file name, wherever they are: rules, plans, values, words and declarations.
PURE_ROLES = frozenset(
    {
        "model",
        "policy",
        "self_policy",
        "plan",
        "messages",
        "group_messages",
        "grammar",
        "access",
        "ratelimit",
        "strings",
        "schedules",
        "attempts",
        "restore",
        "explain",
        "sparkline",
        "match",
        "grouping",
        "posts",
        "change",
        "actions",
        "answers",
        "sender",
    }
)
#: What talks to the world: the cloud, the database, Slack, the process's own plumbing, and the
#: fakes the demo ships with.
ADAPTERS = ("bot.cloud", "bot.store", "bot.slack", "bot.ops", "bot.demo")
LEVELS = ("ground", "pure", "adapter", "service", "app", "handlers")


def role(module: str) -> str:
    """A module's role, from where it is and what it is called. A folder's face (its
    ``__init__``, a docstring) is ground: ``from bot.commands import strings`` names it."""
    if module in GROUND or any(_is(module, p) for p in GROUND_PACKAGES) or module in _faces():
        return "ground"
    if _is(module, "handlers"):
        return "handlers"
    if _is(module, "bot.app") or module == "bot.__main__":
        return "app"
    if any(_is(module, p) for p in ADAPTERS):
        return "adapter"
    if module.rpartition(".")[2] in PURE_ROLES:
        return "pure"
    return "service"


def _faces() -> frozenset[str]:
    """The folders of bot/ whose ``__init__`` holds nothing but a docstring."""
    faces = set()
    for path in (ROOT / "bot").rglob("__init__.py"):
        tree = parse(path)
        if all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in tree.body):
            faces.add(_module_name(path))
    return frozenset(faces)


def test_no_module_imports_one_above_it() -> None:
    graph = import_graph()
    upward = sorted(
        f"{module} ({role(module)}) imports {target} ({role(target)})"
        for module, targets in graph.items()
        for target in targets
        if LEVELS.index(role(target)) > LEVELS.index(role(module))
        # The composition root builds the Slack app with the listeners (see above).
        and not (module in COMPOSITION_ROOTS and role(target) == "handlers")
    )
    assert upward == []


def test_every_role_is_met_in_the_tree() -> None:
    # The rule above must judge real modules of every role (a typo would empty one).
    roles = {role(module) for module in import_graph()}
    assert roles == set(LEVELS)


def test_outbound_posts_are_made_in_one_module() -> None:
    makers = set()
    for path in (ROOT / "bot").rglob("*.py"):
        tree = parse(path)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "OutboundPost"
            ):
                makers.add(_module_name(path))
    assert makers == {"bot.outbox.posts"}
