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
   Imports are followed transitively through the project's modules (sources and tests): a test module
   that imports ``a`` which imports the touched ``b`` runs too, and so do the tests named after ``a``,
   since a change reaches every module that can import it, changed or not;
4. whatever the caller adds (``related``: ``apply`` adds the test modules that mention a function that
   turned async).

The verification run (``run_tests``) treats a coroutine that was never awaited as a failure: with
pytest it turns ``RuntimeWarning`` and unraisable exceptions into errors, and with any command a
"was never awaited" in the output fails the run.
"""

from __future__ import annotations

import ast
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from asyncmigrate.analysis.discovery import discover
from asyncmigrate.config.modules import DEFAULT_LAYOUT, ModuleLayout, is_test_file, plan_layout, resolve_relative
from asyncmigrate.config.plan import Plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.frameworks import mock, pytest
from asyncmigrate.workspace.faults import crash_point

TAIL_LINES = 40
_STRING_IMPORTERS = {*mock.STRING_IMPORTERS, "setattr", "delattr", "import_module"}
PYTEST_STRICT_WARNINGS = pytest.STRICT_WARNINGS
NEVER_AWAITED = b"was never awaited"
NEVER_AWAITED_FAILURE = "asyncmigrate: a coroutine was never awaited (see the output): the change is not verified"


@dataclass(frozen=True)
class TestRun:
    __test__ = False  # not a pytest test class, though its name starts with "Test"

    command: tuple[str, ...]
    test_paths: tuple[str, ...]
    passed: bool
    returncode: int | None  # None: not run (no tests selected)
    duration: float
    output_tail: str  # last ~40 lines of combined stdout/stderr
    timed_out: bool = False  # stopped at the timeout

    @property
    def ran(self) -> bool:
        return self.returncode is not None


# --- selection ----------------------------------------------------------------------------------------


def is_test_module(path: str) -> bool:
    """A module pytest collects tests from (not a ``conftest.py``)."""
    return is_test_file(path, conftest=False)


def _under(path: str, root: str) -> bool:
    root = root.rstrip("/")
    return root in ("", ".") or path == root or path.startswith(root + "/")


def _test_files(plan: Plan) -> list[str]:
    """Root-relative paths of the Python files under the plan's test roots (sorted, no duplicates),
    found by the same walk as the scan's, so a FIFO or a symlink loop there is never opened."""
    roots = [t for t in plan.tests if os.path.lexists(plan.root / t)]
    return discover(plan.root, roots) if roots else []


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


def _might_import(source: bytes, module: str, is_package: bool) -> bool:
    """Cheap pre-filter: any import of ``module`` names its last part (``from .x import y`` too), except a
    relative import of a package (``from . import y`` runs its ``__init__.py``)."""
    return module.rsplit(".", 1)[-1].encode() in source or (is_package and b"from ." in source)


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


def _project_files(plan: Plan) -> list[str]:
    """Root-relative paths of the Python files under the plan's source and tests roots."""
    return discover(plan.root, [*plan.source, *plan.tests])


class _ImportReader:
    """Each file's direct imports, read once however many rounds of the closure ask."""

    def __init__(self, root: Path, layout: ModuleLayout) -> None:
        self.root = root
        self.layout = layout
        self._sources: dict[str, bytes] = {}
        self._imports: dict[str, set[str]] = {}

    def source(self, path: str) -> bytes:
        if path not in self._sources:
            try:
                self._sources[path] = (self.root / path).read_bytes()
            except OSError:
                self._sources[path] = b""
        return self._sources[path]

    def imports_any(self, path: str, modules: Sequence[tuple[str, bool]]) -> bool:
        source = self.source(path)
        candidates = [(m, pkg) for m, pkg in modules if _might_import(source, m, pkg)]
        if not candidates:
            return False
        if path not in self._imports:
            self._imports[path] = imported_modules(path, source, self.layout)
        return any(_imports(self._imports[path], module, pkg) for module, pkg in candidates)


def _importers(plan: Plan, touched: Sequence[str]) -> list[str]:
    """Every project file that imports one of ``touched``, directly or through other project modules."""
    files = _project_files(plan)
    layout = plan_layout(plan)
    reader = _ImportReader(plan.root, layout)
    reached: set[str] = set(touched)
    frontier = [layout.module_name(path) for path in touched]
    found: list[str] = []
    while frontier:
        new = [f for f in files if f not in reached and reader.imports_any(f, frontier)]
        reached.update(new)
        found.extend(new)
        frontier = [layout.module_name(path) for path in new]
    return found


def select_tests(plan: Plan, touched: Iterable[str], *, related: Iterable[str] = ()) -> list[str]:
    """The test paths (root-relative, sorted, unique) that cover the ``touched`` files; see the module doc."""
    touched = list(dict.fromkeys(touched))
    test_modules = [f for f in _test_files(plan) if is_test_module(f)]
    selected: set[str] = set()
    by_import: list[str] = []
    for path in dict.fromkeys(related):
        if is_test_module(path):
            selected.add(path)
        elif PurePosixPath(path).name == "conftest.py":
            selected.update(_served_by(path, test_modules))
        else:  # a test helper: the test modules that import it
            by_import.append(path)
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
        for file in _importers(plan, by_import):
            in_tests = any(_under(file, t) for t in plan.tests)
            name = PurePosixPath(file).name
            if in_tests and name == "conftest.py":
                selected.update(_served_by(file, test_modules))
            elif in_tests and is_test_module(file):
                selected.add(file)
            elif not in_tests:
                selected.update(_named_after(plan, file, test_modules))
    return sorted(selected)


# --- running ------------------------------------------------------------------------------------------


def output_tail(output: bytes, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of what a command wrote, as text (undecodable bytes replaced)."""
    text = output.decode("utf-8", errors="replace")
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def stop_process(process: subprocess.Popen[bytes]) -> bytes:
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


def is_pytest(command: Sequence[str]) -> bool:
    """``pytest``, ``py.test``, ``/venv/bin/pytest``, ``python -m pytest``: options pytest reads apply."""
    names = [PurePosixPath(part).name for part in command]
    return any(name in pytest.RUNNER_NAMES for name in names)


def verification_command(command: Sequence[str]) -> tuple[str, ...]:
    """The test command as a verification runs it: with pytest, a coroutine never awaited (a
    ``RuntimeWarning``) and an exception raised where nobody can catch it (in ``__del__``, a finalizer:
    pytest's unraisable-exception warning) are errors, not lines in a summary nobody reads."""
    if not is_pytest(command):
        return tuple(command)
    return (*command, *PYTEST_STRICT_WARNINGS)


def whole_suite(plan: Plan) -> tuple[str, ...]:
    """What ``--tests all`` runs: the test command over every tests root of the plan."""
    return tuple(plan.tests)


def require_process_groups() -> None:
    """Running tests stops them, on a timeout or Ctrl-C, with their whole process group: POSIX only."""
    if not hasattr(os, "killpg"):
        raise AsyncMigrateError(
            "running the tests needs POSIX process groups (Linux, macOS); on this system use --no-test"
        )


def check_test_command(plan: Plan) -> None:
    """Refuse a test command that cannot start, before `apply` writes anything or `test` selects.

    Found as ``subprocess`` will look for it: a name with a slash from the plan's directory (the
    command's working directory), a bare name on PATH.
    """
    require_process_groups()
    program = plan.test_command[0]
    where = f"(test_command in {plan.path.name})"
    if "/" in program or (os.altsep is not None and os.altsep in program):
        candidate = plan.root / program
        if not candidate.exists():
            raise AsyncMigrateError(f"test command not found: {program} {where}")
        if not candidate.is_file() or not os.access(candidate, os.X_OK):
            raise AsyncMigrateError(f"test command not executable: {program} {where}")
        return
    if shutil.which(program) is not None:
        return
    on_path = [Path(d) / program for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    if any(p.exists() for p in on_path):
        raise AsyncMigrateError(f"test command not executable: {program} {where}")
    raise AsyncMigrateError(f"test command not found: {program} {where}")


def run_tests(plan: Plan, test_paths: Sequence[str], *, timeout: float = 1800) -> TestRun:
    """Run ``plan.test_command`` followed by ``test_paths`` in the plan's directory.

    The command is taken literally (``python`` is whatever ``python`` is on PATH) and inherits the
    environment, so ``DATABASE_URL`` and the like reach the tests. Passing means exit code 0 and no
    coroutine reported as never awaited in the output (with pytest, ``verification_command``'s options
    also make such warnings errors). No tests selected: nothing runs, and the run counts as passed with
    ``returncode`` None. A command that does not finish within ``timeout`` seconds is stopped, with its
    process group, and fails.
    """
    command = tuple(plan.test_command)
    paths = tuple(test_paths)
    if not paths:
        return TestRun(command, paths, True, None, 0.0, "no tests selected")
    require_process_groups()
    argv = [*verification_command(command), *paths]
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
        crash_point("tests-started")
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        output = stop_process(process)
        message = f"asyncmigrate: the test command did not finish within {timeout:g} s and was stopped"
        tail = "\n".join(filter(None, [output_tail(output, TAIL_LINES - 1), message]))
        return TestRun(command, paths, False, process.returncode, time.monotonic() - started, tail, timed_out=True)
    except BaseException:  # Ctrl-C, SIGTERM: the tests run in their own session, so stop them ourselves
        stop_process(process)
        raise
    returncode = process.returncode
    tail = output_tail(output)
    passed = returncode == 0
    if NEVER_AWAITED in output:
        # a warning pytest only summarised, or a command that is not pytest: the tests did not verify
        passed = False
        tail = "\n".join([output_tail(output, TAIL_LINES - 1), NEVER_AWAITED_FAILURE])
    return TestRun(command, paths, passed, returncode, time.monotonic() - started, tail)
