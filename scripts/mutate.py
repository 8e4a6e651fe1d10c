"""``make mutate``: mutation testing of the modules whose correctness matters most.

Each target module is mutated and run against its own tests only, so the run takes minutes:

- **mutmut** mutates every function and method body. It forks one process per mutant from a
  process that has already imported the tests, and runs only the tests that reach the mutated
  function, so a mutant costs tens of milliseconds.
- mutmut 3 does not mutate code that runs when a module is imported: module and class level
  values (a dataclass's defaults, a limit, a regex, a table), the bodies of decorated functions
  (``@property``), and the bodies of functions the module calls while it is imported (a
  factory whose result is kept: mutmut's mutants of it never take effect, so they are dropped
  from its results). :func:`definition_mutants` applies mutmut's own operators to exactly that code,
  and runs the tests once per mutant in a forked child that imports our code afresh with the
  mutant in place. Enum member values (of subclasses of an enum of the same module too) are
  left alone: inside the core, members are compared by identity; their spelling is the store's,
  the renderers' and the cloud's contract, checked by their tests (the models' against the
  SDK's protos).

A mutant is *killed* when a test fails (or times out) with it in place. The score of a module
is killed / (all mutants - the equivalent ones); an equivalent mutant (one no test could tell
from the original) is listed, with why, in ``scripts/mutation-equivalents.toml``. Every other
survivor is printed with its diff. The exit status is 1 when a module scores under the minimum.

Not in CI: the whole run takes minutes on two cores, not seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import types
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

# mutmut's operators, applied to the import-time code mutmut itself skips (mutmut is pinned in
# the dev extra because this is not its public API).
from mutmut.mutation.mutators import mutation_operators

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS_FILE = ROOT / "scripts" / "mutation-equivalents.toml"


@dataclasses.dataclass(frozen=True)
class Target:
    """Modules (globs) mutated together, and the tests they are run against."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]


TARGETS: tuple[Target, ...] = (
    # The pure rules, values and words of every feature, against all of their pure tests (each
    # module's tests also kill mutants of the modules it builds on).
    Target(
        (
            "bot/alerts/policy.py",
            "bot/alerts/self_policy.py",
            "bot/alerts/model.py",
            "bot/backup/model.py",
            "bot/chat/mrkdwn.py",
            "bot/commands/access.py",
            "bot/commands/grammar.py",
            "bot/commands/ratelimit.py",
            "bot/digest/model.py",
            "bot/durations.py",
            "bot/fleet/grouping.py",
            "bot/fleet/match.py",
            "bot/freshness/attempts.py",
            "bot/freshness/explain.py",
            "bot/freshness/model.py",
            "bot/freshness/policy.py",
            "bot/freshness/restore.py",
            "bot/freshness/schedules.py",
            "bot/outbox/posts.py",
            "bot/slack/answers.py",
        ),
        (
            "tests/alerts/test_policy.py",
            "tests/alerts/test_self_policy.py",
            "tests/chat/test_mrkdwn.py",
            "tests/commands/test_access.py",
            "tests/commands/test_grammar.py",
            "tests/commands/test_ratelimit.py",
            "tests/digest/test_model.py",
            "tests/fleet/test_grouping.py",
            "tests/fleet/test_match.py",
            "tests/freshness/test_attempts.py",
            "tests/freshness/test_explain.py",
            "tests/freshness/test_model.py",
            "tests/freshness/test_policy.py",
            "tests/freshness/test_restore.py",
            "tests/freshness/test_schedules.py",
            "tests/outbox/test_posts.py",
            "tests/silences/test_policy.py",
            "tests/slack/test_answers.py",
            "tests/test_durations.py",
        ),
    ),
    Target(("bot/cloud/retry.py",), ("tests/cloud/test_retry.py",)),
    Target(("bot/cloud/failures.py",), ("tests/cloud/test_failures.py",)),
    Target(("bot/cloud/validation.py",), ("tests/cloud/test_validation.py",)),
    Target(
        ("bot/cloud/models.py",), ("tests/cloud/test_models.py", "tests/conformance/test_bodies.py")
    ),
    Target(("bot/alerts/plan.py",), ("tests/alerts/test_plan.py",)),
)

#: Never mutated: message text (its own tests check wording, not logic) and empty packages.
EXCLUDED = frozenset({"bot/commands/strings.py"})

#: Decorators whose functions mutmut mutates itself.
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})
_ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"})
_NEVER_MUTATED_CALLS = frozenset({"len", "isinstance"})  # as mutmut: they only break typing

KILLED_STATUSES = frozenset({"killed", "timeout", "segfault", "caught by type check"})


@dataclasses.dataclass
class Mutant:
    module: str  # path, e.g. bot/commands/access.py
    name: str  # mutmut's name, or "<path>:<line> (import time) #n"
    status: str  # mutmut's words: killed, survived, timeout, no tests, ...
    removed: tuple[str, ...] = ()  # the original lines, stripped
    added: tuple[str, ...] = ()  # the mutated lines, stripped
    line: int | None = None
    equivalent_because: str | None = None

    @property
    def killed(self) -> bool:
        return self.status in KILLED_STATUSES


# --- the scratch tree -----------------------------------------------------------------------


def project_files(root: Path) -> list[str]:
    """Tracked and new (not ignored) files: what a commit of the work tree would hold."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [name for name in out.split("\0") if name and (root / name).is_file()]


def copy_tree(root: Path, dest: Path) -> None:
    for name in project_files(root):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)


def resolve_modules(root: Path, patterns: Iterable[str]) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            name = path.relative_to(root).as_posix()
            if name not in EXCLUDED and name not in found:
                found.append(name)
    return found


def _toml_value(value: object) -> str:
    # JSON's strings, lists, numbers and booleans are valid TOML for the values used here.
    return json.dumps(value)


def write_mutmut_config(scratch: Path, modules: Sequence[str], tests: Sequence[str]) -> None:
    """Give the scratch copy's [tool.mutmut] this run's modules and tests."""
    pyproject = scratch / "pyproject.toml"
    text = pyproject.read_text()
    base = dict(tomllib.loads(text).get("tool", {}).get("mutmut", {}))
    base["only_mutate"] = list(modules)
    base["pytest_add_cli_args_test_selection"] = list(tests)
    table = "[tool.mutmut]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in base.items())
    # Drop the original table (up to the next table header), then append ours.
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", text)
    pyproject.write_text(text.rstrip("\n") + "\n\n" + table)


# --- mutmut ---------------------------------------------------------------------------------


def _diff_lines(diff: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    removed, added = [], []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(line[1:].strip())
        elif line.startswith("+"):
            added.append(line[1:].strip())
    return tuple(removed), tuple(added)


def _find_line(source: str, text: str) -> int | None:
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == text:
            return number
    return None


def run_mutmut(
    scratch: Path, modules: Sequence[str], tests: Sequence[str], jobs: int, log: Path
) -> list[Mutant]:
    write_mutmut_config(scratch, modules, tests)
    mutmut = [sys.executable, "-m", "mutmut"]
    with log.open("w") as out:
        done = subprocess.run(
            [*mutmut, "run", "--max-children", str(jobs)],
            cwd=scratch,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"mutate: mutmut run failed for {', '.join(modules)}:\n{tail}")
    listing = subprocess.run(
        [*mutmut, "results", "--all", "true"],
        cwd=scratch,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # mutmut's mutants of the functions called at import time never take effect: those
    # functions are mutated by definition_mutants instead.
    unreachable = {
        f"{module.removesuffix('.py').replace('/', '.')}.x_{function}__mutmut_"
        for module in modules
        for function in import_time_calls(cst.parse_module((scratch / module).read_text()))
    }
    mutants: list[Mutant] = []
    for line in listing.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or name.rstrip("0123456789") in unreachable:
            continue
        module = name.rsplit(".", 1)[0].replace(".", "/") + ".py"
        mutants.append(Mutant(module=module, name=name, status=status))
    for mutant in mutants:
        if mutant.killed:
            continue
        shown = subprocess.run(
            [*mutmut, "show", mutant.name], cwd=scratch, check=True, capture_output=True, text=True
        ).stdout
        mutant.removed, mutant.added = _diff_lines(shown)
        if mutant.removed:
            mutant.line = _find_line((scratch / mutant.module).read_text(), mutant.removed[0])
    return mutants


# --- what mutmut cannot reach: code that runs at import time ---------------------------------


def _decorator_names(node: cst.FunctionDef) -> set[str]:
    names = set()
    for decorator in node.decorators:
        expr = decorator.decorator
        while isinstance(expr, cst.Call):
            expr = expr.func
        if isinstance(expr, cst.Attribute):
            names.add(expr.attr.value)
        elif isinstance(expr, cst.Name):
            names.add(expr.value)
    return names


def _is_enum(node: cst.ClassDef, enums: set[str]) -> bool:
    """Whether the class is an enum: it derives from one of enum's classes or from an enum
    class of the same module (``enums``, to which it is added)."""
    for base in node.bases:
        value = base.value
        name = value.attr.value if isinstance(value, cst.Attribute) else getattr(value, "value", "")
        if name in _ENUM_BASES or name in enums:
            enums.add(node.name.value)
            return True
    return False


class _CalledNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name):
            self.names.add(node.func.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a function's body runs when it is called, not at import


def import_time_calls(module: cst.Module) -> set[str]:
    """Module-level functions that the module calls while it is imported (a factory whose
    result is kept, such as a validator made for each integer width).

    mutmut switches a mutant on when the function is called; these were called before, so its
    mutants of them can never take effect. They are run as import-time mutants instead.
    """
    plain = {
        s.name.value for s in module.body if isinstance(s, cst.FunctionDef) and not s.decorators
    }
    called = _CalledNames()
    for statement in module.body:
        if not isinstance(statement, cst.FunctionDef):
            statement.visit(called)
    return plain & called.names


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _import_time_roots(
    body: Sequence[cst.BaseStatement],
    *,
    in_enum: bool,
    enums: set[str],
    factories: AbstractSet[str] = frozenset(),
) -> Iterator[cst.CSTNode]:
    """The statements (or function bodies) that run at import time and that mutmut skips."""
    for statement in body:
        if isinstance(statement, cst.FunctionDef):
            decorators = _decorator_names(statement)
            if (decorators and not decorators <= _PLAIN_DECORATORS) or (
                statement.name.value in factories
            ):
                yield statement.body
        elif isinstance(statement, cst.ClassDef):
            if isinstance(statement.body, cst.IndentedBlock):
                yield from _import_time_roots(
                    statement.body.body, in_enum=_is_enum(statement, enums), enums=enums
                )
        elif _is_docstring(statement) or in_enum:
            continue
        elif isinstance(statement, cst.SimpleStatementLine):
            if not any(isinstance(small, cst.Import | cst.ImportFrom) for small in statement.body):
                yield statement
        elif isinstance(statement, cst.If) and "TYPE_CHECKING" in cst.Module([]).code_for_node(
            statement.test
        ):
            continue
        else:
            yield statement


class _Collector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Annotation | cst.Decorator):
            return False
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value in _NEVER_MUTATED_CALLS
        ):
            return False
        self.nodes.append(node)
        return True


@dataclasses.dataclass(frozen=True)
class SourceMutant:
    line: int
    code: str  # the whole mutated module
    removed: tuple[str, ...]
    added: tuple[str, ...]


def definition_mutants(source: str) -> list[SourceMutant]:
    """Mutants of a module's import-time code, made with mutmut's operators."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    no_mutate = {
        number
        for number, line in enumerate(source.splitlines(), start=1)
        if "pragma: no mutate" in line
    }
    out: list[SourceMutant] = []
    roots = _import_time_roots(
        module.body, in_enum=False, enums=set(), factories=import_time_calls(module)
    )
    for root in roots:
        collector = _Collector()
        root.visit(collector)
        for node in collector.nodes:
            position = positions.get(node)
            if position is None or position.start.line in no_mutate:
                continue
            for node_type, operator in mutation_operators:
                if not isinstance(node, node_type):
                    continue
                for mutated in operator(node):
                    code = module.deep_replace(node, mutated).code
                    if code == source:
                        continue
                    removed, added = _line_changes(source, code)
                    out.append(SourceMutant(position.start.line, code, removed, added))
    return out


def _line_changes(before: str, after: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    removed, added = [], []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:].strip())
    return tuple(removed), tuple(added)


class _Override(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module's mutated source in place of the file (in a forked child only)."""

    def __init__(self, name: str, path: Path, code: str) -> None:
        self.name, self.path, self.code = name, path, code

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path, loader=self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        exec(compile(self.code, str(self.path), "exec"), module.__dict__)  # noqa: S102


def _start(tree: Path, tests: Sequence[str], override: _Override | None) -> int:
    """Fork a child that runs the tests (with ``override`` in place); return its pid."""
    pid = os.fork()
    if pid:
        return pid
    status = 3
    try:
        os.chdir(tree)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        if override is not None:
            sys.meta_path.insert(0, override)
        import pytest

        status = int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests]))
    finally:
        os._exit(status)


def _own_tests_first(module: str, tests: Sequence[str]) -> list[str]:
    """The same tests, the module's own test file first, so that a killed mutant fails early
    (``-x`` stops there). Folders are spelled out as their files: pytest orders a folder's
    files by name, whatever the order they were given in."""
    files: list[str] = []
    for test in tests:
        path = ROOT / test
        found = sorted(path.rglob("test_*.py")) if path.is_dir() else [path]
        files += [
            f.relative_to(ROOT).as_posix()
            for f in found
            if f.relative_to(ROOT).as_posix() not in files
        ]
    own = [f for f in files if Path(f).name == f"test_{Path(module).stem}.py"]
    return own + [f for f in files if f not in own]


def _status(exit_code: int) -> str:
    return {0: "survived", 5: "no tests"}.get(exit_code, "killed")


def run_definition_mutants(
    root: Path, modules: Sequence[str], tests: Sequence[str], jobs: int
) -> list[Mutant]:
    """Run each import-time mutant: a forked child imports the mutated module and runs the tests.

    The parent has imported pytest and the libraries but none of our code, so each child imports
    ``bot`` afresh, with the mutant served in place of its file; the files are never changed.
    """
    planned = [
        (module, index, found)
        for module in modules
        for index, found in enumerate(definition_mutants((root / module).read_text()), start=1)
    ]
    if not planned:
        return []
    # Not pytest plugins: pytest warns (an error here) about a plugin imported before it starts.
    for preload in ("pytest", "freezegun", "pydantic", "yaml"):
        with contextlib.suppress(ImportError):
            importlib.import_module(preload)
    if any(name == "bot" or name.startswith("bot.") for name in sys.modules):
        raise SystemExit("mutate: our code was imported before forking; mutants would not load")
    tree = Path(tempfile.mkdtemp(prefix="mutate-import-"))
    try:
        copy_tree(root, tree)
        started = time.monotonic()
        _, status = os.waitpid(_start(tree, tests, None), 0)
        if _status(os.waitstatus_to_exitcode(status)) != "survived":
            raise SystemExit(f"mutate: the tests fail without any mutant: {' '.join(tests)}")
        # A generous timeout: ten times the clean run, and never under a minute.
        timeout = max(60.0, 10 * (time.monotonic() - started))
        results: list[Mutant] = []
        running: dict[int, tuple[float, Mutant]] = {}
        queue = list(planned)
        while queue or running:
            while queue and len(running) < max(1, jobs):
                module, index, found = queue.pop(0)
                name = module.removesuffix(".py").replace("/", ".")
                override = _Override(name, tree / module, found.code)
                mutant = Mutant(
                    module=module,
                    name=f"{module}:{found.line} (import time) #{index}",
                    status="",
                    removed=found.removed,
                    added=found.added,
                    line=found.line,
                )
                running[_start(tree, _own_tests_first(module, tests), override)] = (
                    time.monotonic(),
                    mutant,
                )
            for pid, (since, mutant) in list(running.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    mutant.status = _status(os.waitstatus_to_exitcode(status))
                elif time.monotonic() - since > timeout:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    mutant.status = "timeout"
                else:
                    continue
                del running[pid]
                results.append(mutant)
                if len(results) % 50 == 0:
                    print(f"   {len(results)}/{len(planned)} import-time mutants run", flush=True)
            time.sleep(0.01)
        return results
    finally:
        shutil.rmtree(tree, ignore_errors=True)


# --- equivalents and the report -------------------------------------------------------------


def _normal(lines: Iterable[str]) -> str:
    return "\n".join(" ".join(line.split()) for line in lines)


def load_equivalents(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text()).get("equivalent", [])
    for entry in entries:
        missing = {"module", "original", "mutated", "why"} - set(entry)
        if missing:
            raise SystemExit(f"mutate: {path.name}: an entry lacks {', '.join(sorted(missing))}")
    return list(entries)


def mark_equivalents(mutants: Iterable[Mutant], equivalents: list[dict[str, str]]) -> set[int]:
    """Mark the survivors the list explains; return the indexes of entries that matched."""
    used: set[int] = set()
    for mutant in mutants:
        if mutant.killed:
            continue
        for index, entry in enumerate(equivalents):
            if (
                entry["module"] == mutant.module
                and _normal(entry["original"].splitlines()) == _normal(mutant.removed)
                and _normal(entry["mutated"].splitlines()) == _normal(mutant.added)
            ):
                mutant.equivalent_because = entry["why"]
                used.add(index)
                break
    return used


def report(mutants: list[Mutant], modules: Sequence[str], minimum: float) -> bool:
    """Print the scores and the survivors; return whether every module reached ``minimum``."""
    ok = True
    print()
    print(f"{'module':<28} {'mutants':>7} {'killed':>6} {'equiv.':>6} {'survived':>8}  score")
    for module in modules:
        mine = [m for m in mutants if m.module == module]
        equivalent = sum(1 for m in mine if m.equivalent_because)
        killed = sum(1 for m in mine if m.killed)
        counted = len(mine) - equivalent
        survived = counted - killed
        if counted == 0:
            print(f"{module:<28} {len(mine):>7} {killed:>6} {equivalent:>6} {survived:>8}  -")
            continue
        score = 100.0 * killed / counted
        flag = "" if score >= minimum else f"  < {minimum:g} %"
        ok = ok and not flag
        print(
            f"{module:<28} {len(mine):>7} {killed:>6} {equivalent:>6} {survived:>8}"
            f"  {score:5.1f} %{flag}"
        )
    survivors = [m for m in mutants if not m.killed and not m.equivalent_because]
    if survivors:
        print("\nSurviving mutants (no test noticed them):")
        for m in survivors:
            where = f"{m.module}:{m.line}" if m.line else m.module
            print(f"\n  {where}  [{m.status}]  {m.name}")
            for line in m.removed:
                print(f"    - {line}")
            for line in m.added:
                print(f"    + {line}")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="only these modules (paths or globs)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATE_JOBS", "2")))
    parser.add_argument("--min-score", type=float, default=90.0)
    parser.add_argument("--keep", action="store_true", help="keep the scratch tree (mutmut browse)")
    args = parser.parse_args(argv)

    equivalents = load_equivalents(EQUIVALENTS_FILE)
    mutants: list[Mutant] = []
    all_modules: list[str] = []
    started = time.monotonic()
    for target in TARGETS:
        modules = resolve_modules(ROOT, target.modules)
        if args.modules:
            wanted = set(resolve_modules(ROOT, args.modules))
            modules = [m for m in modules if m in wanted]
        if not modules:
            continue
        tests = [t for t in target.tests if (ROOT / t).exists()]
        print(f"== {', '.join(modules)}\n   against {' '.join(tests)}", flush=True)
        all_modules += modules
        scratch = Path(tempfile.mkdtemp(prefix="mutate-"))
        try:
            copy_tree(ROOT, scratch)
            found = run_mutmut(scratch, modules, tests, args.jobs, scratch / "mutmut.log")
            found += run_definition_mutants(ROOT, modules, tests, args.jobs)
        finally:
            if args.keep:
                print(f"   scratch tree kept: {scratch}")
            else:
                shutil.rmtree(scratch, ignore_errors=True)
        print(f"   {len(found)} mutants, {time.monotonic() - started:.0f} s so far", flush=True)
        mutants += found

    used = mark_equivalents(mutants, equivalents)
    ok = report(mutants, all_modules, args.min_score)
    stale = [e for i, e in enumerate(equivalents) if i not in used and e["module"] in all_modules]
    if stale and not args.modules:
        print("\nEquivalents listed that no mutant matched any more (remove them):")
        for entry in stale:
            print(f"  {entry['module']}: {entry['original']!r} -> {entry['mutated']!r}")
    print(f"\n{len(mutants)} mutants in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
