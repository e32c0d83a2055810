"""Which tests cover a changed file, and running them with the plan's test command.

Selection, for each touched file:
1. the plan entry's ``tests:`` list, when it has one (people know best);
2. a file that is itself a test module (under the plan's ``tests`` roots, named ``test_*.py`` or
   ``*_test.py``) selects itself, and a ``conftest.py`` there selects every test module beside and below it;
3. otherwise the test modules named after it where the tests mirror the source tree
   (``server/api/players.py`` -> ``server/tests/api/test_players*.py`` or ``players_test.py``; tests that
   reach code through an app or a fixture import nothing from it directly), and every test module that
   imports it: ``import a.b``, ``from a import b``, ``from a.b import c``
   and relative imports, read with ``ast``; a ``conftest.py`` that imports it stands for all the test
   modules it serves (its fixtures reach them all); and a dotted string naming it in a call to
   ``patch``/``setattr``/``delattr``/``import_module`` counts too, since ``patch("a.b.f")`` imports ``a.b``.
Only direct imports are followed: the apply that touched a file also touched each of its callers that
changed, and each of those brings its own tests.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.modules import DEFAULT_LAYOUT, ModuleLayout, plan_layout, resolve_relative
from asyncmigrate.plan import Plan

TAIL_LINES = 40
_SKIP_DIRS = {"__pycache__", "node_modules", ".asyncmigrate"}
_STRING_IMPORTERS = {"patch", "setattr", "delattr", "import_module"}


@dataclass(frozen=True)
class TestRun:
    __test__ = False  # not a pytest test class, though its name starts with "Test"

    command: tuple[str, ...]
    test_paths: tuple[str, ...]
    passed: bool
    returncode: int | None  # None: not run (no tests selected)
    duration: float
    output_tail: str  # last ~40 lines of combined stdout/stderr

    @property
    def ran(self) -> bool:
        return self.returncode is not None


# --- selection ----------------------------------------------------------------------------------------


def is_test_module(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _under(path: str, root: str) -> bool:
    root = root.rstrip("/")
    return root in ("", ".") or path == root or path.startswith(root + "/")


def _test_files(plan: Plan) -> Iterator[str]:
    """Root-relative paths of the Python files under the plan's test roots (sorted walk, no duplicates)."""
    seen: set[str] = set()
    for test_root in plan.tests:
        start = plan.root / test_root
        if start.is_file():
            candidates: Iterable[Path] = [start]
        elif start.is_dir():
            candidates = _walk(start)
        else:
            continue
        for file in candidates:
            relative = file.relative_to(plan.root).as_posix()
            if relative not in seen:
                seen.add(relative)
                yield relative


def _walk(directory: Path) -> Iterator[Path]:
    for current, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(current) / name


def _dotted_string(node: ast.Call) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in _STRING_IMPORTERS or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and "." in first.value:
        return first.value
    return None


def imported_modules(path: str, source: bytes, layout: ModuleLayout = DEFAULT_LAYOUT) -> set[str]:
    """Every module name ``source`` (the file at root-relative ``path``) may import directly.

    ``from a import b`` yields both ``a`` and ``a.b`` because ``b`` may be a submodule; a dotted string
    given to ``patch`` & co. yields each of its prefixes. Unparsable source yields nothing.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(layout.package_of(path), node.level, node.module)
            if base is None:
                continue
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call):
            dotted = _dotted_string(node)
            if dotted is not None:
                parts = dotted.split(".")
                names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return names


def _imports(imported: set[str], module: str, is_package: bool) -> bool:
    if module in imported:
        return True
    # Importing a.b.c runs a/__init__.py and a/b/__init__.py on the way.
    return is_package and any(name.startswith(module + ".") for name in imported)


def _might_import(source: bytes, module: str) -> bool:
    """Cheap pre-filter: any import of ``module`` names its last part, or is relative."""
    return module.rsplit(".", 1)[-1].encode() in source or b"from ." in source


def _served_by(conftest: str, test_modules: Sequence[str]) -> list[str]:
    directory = PurePosixPath(conftest).parent.as_posix()
    return [t for t in test_modules if _under(t, directory)]


def _relative_dirs(path: str, roots: Iterable[str]) -> set[str]:
    """``path``'s directory relative to each of ``roots`` that contains it ("" for the root itself)."""
    parent = PurePosixPath(path).parent
    found = set()
    for root in roots:
        base = PurePosixPath(root.rstrip("/") or ".")
        if base == PurePosixPath("."):
            found.add(parent.as_posix().lstrip("."))
        elif parent == base or base in parent.parents:
            found.add(parent.relative_to(base).as_posix().lstrip("."))
    return found


def _named_after(plan: Plan, path: str, test_modules: Sequence[str]) -> list[str]:
    """Test modules named after ``path`` in the directory that mirrors it under a tests root."""
    stem = PurePosixPath(path).stem
    if stem == "__init__":
        return []
    source_dirs = _relative_dirs(path, plan.source)
    matches = []
    for test in test_modules:
        name = PurePosixPath(test).name
        if name not in (f"test_{stem}.py", f"{stem}_test.py") and not name.startswith(f"test_{stem}_"):
            continue
        if source_dirs & _relative_dirs(test, plan.tests):
            matches.append(test)
    return matches


def select_tests(plan: Plan, touched: Iterable[str]) -> list[str]:
    """The test paths (root-relative, sorted, unique) that cover the ``touched`` files; see the module doc."""
    touched = list(dict.fromkeys(touched))
    all_files = list(_test_files(plan))
    test_modules = [f for f in all_files if is_test_module(f)]
    selected: set[str] = set()
    by_import: list[str] = []
    for path in touched:
        entry = plan.entry(path)
        in_tests = any(_under(path, t) for t in plan.tests)
        if entry is not None and entry.tests:
            selected.update(entry.tests)
        elif in_tests and is_test_module(path):
            selected.add(path)
        elif in_tests and PurePosixPath(path).name == "conftest.py":
            selected.update(_served_by(path, test_modules))
        else:
            selected.update(_named_after(plan, path, test_modules))
            by_import.append(path)
    if by_import:
        layout = plan_layout(plan)
        wanted = [(layout.module_name(path), path) for path in by_import]
        for file in all_files:
            name = PurePosixPath(file).name
            if name != "conftest.py" and not is_test_module(file):
                continue
            try:
                source = (plan.root / file).read_bytes()
            except OSError:
                continue
            candidates = [(m, pkg) for (m, pkg), _ in wanted if _might_import(source, m)]
            if not candidates:
                continue
            imported = imported_modules(file, source, layout)
            if any(_imports(imported, module, pkg) for module, pkg in candidates):
                selected.update(_served_by(file, test_modules) if name == "conftest.py" else [file])
    return sorted(selected)


# --- running ------------------------------------------------------------------------------------------


def _tail(output: bytes, lines: int = TAIL_LINES) -> str:
    text = output.decode("utf-8", errors="replace")
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> bytes:
    """End the test command and everything it started (pytest-xdist workers too); return what it wrote."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            out, _ = process.communicate(timeout=grace)
            return out or b""
        except subprocess.TimeoutExpired:
            continue
    out, _ = process.communicate()
    return out or b""


def run_tests(plan: Plan, test_paths: Sequence[str], *, timeout: float = 1800) -> TestRun:
    """Run ``plan.test_command`` followed by ``test_paths`` in the plan's directory.

    The command is taken literally (``python`` is whatever ``python`` is on PATH) and inherits the
    environment, so ``DATABASE_URL`` and the like reach the tests. Passing means exit code 0. No tests
    selected: nothing runs, and the run counts as passed with ``returncode`` None. A command that does not
    finish within ``timeout`` seconds is stopped, with its process group, and fails.
    """
    command = tuple(plan.test_command)
    paths = tuple(test_paths)
    if not paths:
        return TestRun(command, paths, True, None, 0.0, "no tests selected")
    argv = [*command, *paths]
    started = time.monotonic()
    try:
        # A session of its own, so that a timeout can stop the whole process group.
        process = subprocess.Popen(
            argv,
            cwd=plan.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise AsyncMigrateError(f"test command not found: {command[0]} (test_command in {plan.path.name})") from None
    except PermissionError:
        raise AsyncMigrateError(
            f"test command not executable: {command[0]} (test_command in {plan.path.name})"
        ) from None
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        output = _stop(process)
        message = f"asyncmigrate: the test command did not finish within {timeout:g} s and was stopped"
        tail = "\n".join(filter(None, [_tail(output, TAIL_LINES - 1), message]))
        return TestRun(command, paths, False, process.returncode, time.monotonic() - started, tail)
    except BaseException:  # Ctrl-C: the tests run in their own session, so stop them ourselves
        _stop(process)
        raise
    returncode = process.returncode
    return TestRun(command, paths, returncode == 0, returncode, time.monotonic() - started, _tail(output))
