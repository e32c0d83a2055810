"""The package's shape: layers that only import downwards, no import cycle, a light CLI, no POSIX-only
import on the read-only commands' path, and one implementation of atomic write.

The import graph is read with ``ast`` (every ``import`` anywhere in a module, lazy ones in functions
included, ``if TYPE_CHECKING:`` blocks excluded since they never run); the imports themselves are
checked in fresh interpreters, where ``sys.modules`` shows what really got loaded.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "asyncmigrate"
CODEMODS = REPO / "codemods"  # installed as asyncmigrate.codemods (the package's codemods symlink)

# Lowest first; a module may import its own layer and any layer before it.
LAYERS = (
    "workspace",
    "config",
    "frameworks",
    "analysis",
    "migration",
    "codemods",
    "workflow",
    "checks",
    "reporting",
    "render",
    "cli",
)
# Import nothing of the package, so any layer may import them.
FOUNDATION = {
    "asyncmigrate",
    "asyncmigrate.errors",
    "asyncmigrate.types",
    "asyncmigrate.formats",
    "asyncmigrate.__main__",
}
# Being removed: the codemod reaches back into the orchestration for a shared memo.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()  # none left: an edge added here needs its reason


def _module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    sources = [(PACKAGE, "asyncmigrate"), (CODEMODS, "asyncmigrate.codemods")]
    for directory, prefix in sources:
        for file in sorted(directory.rglob("*.py")):
            relative = file.relative_to(directory).with_suffix("")
            if relative.parts[0] == "codemods" and directory == PACKAGE:
                continue  # the symlink: read through CODEMODS
            parts = [part for part in relative.parts if part != "__init__"]
            modules[".".join([prefix, *parts])] = file
    return modules


MODULES = _module_files()


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def _imports(name: str, file: Path) -> set[str]:
    """The package's modules ``name`` imports at run time (at module level or lazily)."""
    is_package = file.name == "__init__.py"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(file.read_text(encoding="utf-8")))
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, file) for name, file in MODULES.items()}


def _layer(module: str) -> int | None:
    if module in FOUNDATION:
        return None
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def _violations() -> set[tuple[str, str]]:
    edges = set()
    for module, imported in GRAPH.items():
        for target in imported:
            if module in FOUNDATION - {"asyncmigrate.__main__"}:
                edges.add((module, target))  # the foundation imports nothing of the package
                continue
            low, high = _layer(target), _layer(module)
            if low is not None and high is not None and low > high:
                edges.add((module, target))
    return edges


def test_every_module_belongs_to_a_layer() -> None:
    assert [m for m in MODULES if m not in FOUNDATION and _layer(m) is None] == []


def test_lower_layers_never_import_higher_ones() -> None:
    unexpected = sorted(_violations() - KNOWN_VIOLATIONS)
    assert unexpected == [], "\n".join(f"{a} imports {b} (a higher layer)" for a, b in unexpected)


def test_the_codemods_do_not_import_the_orchestration() -> None:
    codemods = sorted((a, b) for a, b in _violations() if a.startswith("asyncmigrate.codemods."))
    assert codemods == [], codemods


def test_the_import_graph_is_acyclic() -> None:
    graph = {m: {t for t in targets if (m, t) not in KNOWN_VIOLATIONS} for m, targets in GRAPH.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                walk(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)


def _fresh(code: str, *, blocked: tuple[str, ...] = (), cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter where importing any of ``blocked`` fails (as on Windows)."""
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


IMPORT_ONE_BY_ONE = """
import importlib, json, sys
results = {}
for name in json.loads(sys.argv[1]):
    before = set(sys.modules)
    try:
        importlib.import_module(name)
    except BaseException as exc:
        results[name] = f"{type(exc).__name__}: {exc}"
        continue
    # A module caught half-initialised by a cycle is in sys.modules without its spec having finished.
    partial = [m for m in set(sys.modules) - before
               if m.startswith("asyncmigrate") and getattr(getattr(sys.modules[m], "__spec__", None),
                                                          "_initializing", False)]
    if partial:
        results[name] = f"left partially initialised: {partial}"
    for loaded in set(sys.modules) - before:  # the next one starts from nothing again
        if loaded.startswith("asyncmigrate"):
            del sys.modules[loaded]
print(json.dumps(results))
"""


def test_every_module_imports_on_its_own_in_a_fresh_interpreter() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ONE_BY_ONE, json.dumps(sorted(MODULES))],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {}


def test_importing_the_cli_loads_neither_the_call_graph_nor_libcst_nor_the_transactions() -> None:
    heavy = ["asyncmigrate.analysis.callgraph", "libcst", "asyncmigrate.workspace.transaction", "filelock"]
    result = _fresh(f"import asyncmigrate.cli\nprint([m for m in {heavy!r} if m in sys.modules])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# What a warm ``scan --format json`` (a pre-commit hook) has no need of: the output is JSON, the plan comes
# from the cache, every file's call sites too.
NOT_FOR_A_WARM_SCAN = (
    "rich",
    "ruamel",
    "jsonschema",
    "libcst",
    "pydantic",
    "asyncmigrate.analysis.callgraph",
    "asyncmigrate.analysis.ast_collector",
    # loaded where used: a process pool (a cold scan), a trace (when there is one), pytest's configuration
    "multiprocessing",
    "concurrent.futures",
    "asyncmigrate.analysis.trace",
    "configparser",
    "tomllib",
)


def test_a_warm_json_scan_loads_neither_rich_nor_schema_validation_nor_libcst(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(REPO / "tests/assets/shop", shop)
    code = (
        "import sys\nfrom asyncmigrate.cli import app\nsys.argv = ['asyncmigrate', 'scan', '--format', 'json']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {NOT_FOR_A_WARM_SCAN!r} if m in sys.modules], file=sys.stderr)"
    )
    cold = _fresh(code, cwd=shop)  # makes the cache directory, where the next run keeps the plan
    assert cold.returncode == 0, cold.stderr
    assert _fresh(code, cwd=shop).returncode == 0
    warm = _fresh(code, cwd=shop)
    assert warm.returncode == 0, warm.stderr
    assert json.loads(warm.stdout)["summary"]["files_parsed"] == 0
    assert json.loads(warm.stdout)["files"] == json.loads(cold.stdout)["files"]
    assert warm.stderr.strip().splitlines()[-1] == "[]"


POSIX_ONLY = ("fcntl", "resource", "pwd", "termios")


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--format", "json"),
        ("status",),
        ("report", "--format", "json"),
        ("check", "--format", "json"),
    ],
    ids=["scan", "status", "report", "check"],
)
def test_read_only_commands_run_without_posix_only_modules(tmp_path: Path, args: tuple[str, ...]) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(REPO / "tests/assets/shop", shop)
    code = "from asyncmigrate.cli import app\nsys.argv = ['asyncmigrate', *sys.argv[1:]]\napp()"
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in POSIX_ONLY)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", prelude + code, *args], cwd=shop, env=env, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr  # 1: findings, not a failure to run
    assert result.stdout.strip(), result.stderr


# --- one implementation of atomic write ------------------------------------------------------------------

ATOMIC_PRIMITIVES = {("os", "replace"), ("os", "rename"), ("tempfile", "mkstemp")}


def test_only_the_workspace_files_module_replaces_files() -> None:
    home = PACKAGE / "workspace" / "files.py"
    # The tracer is copied out of the package and runs inside the traced test process, where it may not
    # import asyncmigrate; it writes its own result file (a temp name, then a rename) with the standard library.
    standalone = {PACKAGE / "analysis" / "trace_runtime.py"}
    found = []
    for file in MODULES.values():
        if file == home or file in standalone:
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in ATOMIC_PRIMITIVES
            ):
                found.append(f"{file.relative_to(REPO)}:{node.lineno}: {node.value.id}.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module in ("os", "tempfile"):
                found += [
                    f"{file.relative_to(REPO)}:{node.lineno}: from {node.module} import {alias.name}"
                    for alias in node.names
                    if (node.module, alias.name) in ATOMIC_PRIMITIVES
                ]
    assert found == [], "\n".join(found)
