"""``apply --all`` on ``tests/assets/warehouse``: every construct of issue 10 item 2 in one service.

The warehouse has a ``super()`` chain across modules, a ``typing.Protocol`` implemented structurally and
an ``abc.ABC`` implemented nominally, a ``functools.wraps`` decorator, a ``unittest.TestCase`` suite,
``asyncio.run`` inside a function turning async and generator expressions consumed by ``sum``, ``any``,
``min``, ``sorted``, ``dict`` and ``str.join``; and one unsafe case per blocker kind: a project decorator
on both kinds of function, a decorator from outside the project, a lazy generator expression, a
``setUpClass`` that would await, and an ``asyncio.run`` with loop options (a planned edit that cannot be
applied). One apply of the whole plan, shared by the tests; none of them writes.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from asyncmigrate.config.plan import Plan, load_plan
from asyncmigrate.types import FileStatus
from asyncmigrate.workflow.apply import ApplyResult, apply_files, planned_targets

ASSET = Path(__file__).parent / "assets" / "warehouse"

VERIFIED = ["warehouse/base.py", "warehouse/sources.py", "warehouse/pricing.py", "warehouse/restock.py"]
BLOCKED = {
    "warehouse/labels.py": [("warehouse/timing.py", 25, "decorator")],  # @logged: on shelf_label and banner
    "warehouse/shutdown.py": [("warehouse/shutdown.py", 10, "decorator")],  # @atexit.register
    "warehouse/feed.py": [("warehouse/feed.py", 15, "generator_expression")],  # returned, not consumed
    "warehouse/nightly.py": [("tests/test_nightly.py", 11, "unittest_class_hook")],  # setUpClass
    "warehouse/remote.py": [("warehouse/remote.py", 13, "edit_not_applied")],  # asyncio.run(..., debug=False)
}
# every file the verified applies wrote (the targets, their callers, interfaces, decorators and tests)
MIGRATED = {
    "tests/test_counters.py",
    "tests/test_planning.py",
    "tests/test_pricing.py",
    "tests/test_restock.py",
    "warehouse/base.py",
    "warehouse/counters.py",
    "warehouse/demo.py",
    "warehouse/planning.py",
    "warehouse/ports.py",
    "warehouse/pricing.py",
    "warehouse/restock.py",
    "warehouse/sources.py",
    "warehouse/timing.py",
}


def fingerprints(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.py"))
        if ".asyncmigrate" not in p.parts and "__pycache__" not in p.parts
    }


@dataclass(frozen=True)
class Applied:
    root: Path
    before: dict[str, str]
    plan: Plan
    results: list[ApplyResult]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Applied:
    root = tmp_path_factory.mktemp("warehouse") / "warehouse"
    shutil.copytree(ASSET, root, ignore=shutil.ignore_patterns("__pycache__", ".asyncmigrate"))
    plan_file = root / "migration_plan.yaml"
    plan_file.write_text(
        plan_file.read_text().replace(
            "test_command: [python, -m, pytest, -q, -p, no:cacheprovider]",
            f"test_command: [{sys.executable}, -W, 'error::RuntimeWarning', -m, pytest, -q, -p, no:cacheprovider]",
        )
    )
    before = fingerprints(root)
    plan = load_plan(plan_file)
    plan, results = apply_files(plan, planned_targets(plan, [], None, True))
    return Applied(root, before, plan, results)


def test_the_exact_files_verified_and_blocked(applied: Applied) -> None:
    statuses = {r.change.targets[0]: r.status for r in applied.results}
    assert statuses == {
        **{path: FileStatus.VERIFIED for path in VERIFIED},
        **{path: FileStatus.BLOCKED for path in BLOCKED},
    }, [r.test_output for r in applied.results if r.test_passed is False]
    assert {p: applied.plan.entry(p).status for p in statuses} == statuses  # type: ignore[union-attr]


def test_each_unsafe_case_is_its_blocker_with_file_line_and_chain(applied: Applied) -> None:
    found = {
        r.change.targets[0]: [(b.path, b.line, b.kind) for b in r.change.blockers]
        for r in applied.results
        if r.change.blockers
    }
    assert found == BLOCKED
    for result in applied.results:
        for blocker in result.change.blockers:
            assert blocker.chain and blocker.fix and blocker.message


def test_only_the_migrated_files_changed(applied: Applied) -> None:
    after = fingerprints(applied.root)
    changed = {path for path in after if after[path] != applied.before.get(path)}
    assert changed == MIGRATED
    written = {e.path for r in applied.results if r.written for e in r.change.changed}
    assert written == MIGRATED


def test_the_warehouse_suite_passes_with_unawaited_coroutines_as_errors(applied: Applied) -> None:
    run = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"],
        cwd=applied.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "15 passed" in run.stdout and "warning" not in run.stdout.lower()


def test_no_call_to_a_function_made_async_is_left_unawaited(applied: Applied) -> None:
    """An AST pass over every migrated file: a call spelled like a function made async is awaited."""
    made_async = {
        function.rsplit(".", 1)[-1] for r in applied.results if r.written for function in r.change.functions_made_async
    }
    assert {"count", "describe", "level", "reserve", "price_of", "quote", "restock_plan"} <= made_async
    for path in sorted(MIGRATED):
        tree = ast.parse((applied.root / path).read_text())
        awaited = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Await)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in made_async:
                assert id(node) in awaited, f"{path}:{node.lineno}: {name}() is not awaited"


def test_the_constructs_were_rewritten_not_merely_compiled(applied: Applied) -> None:
    read = lambda path: (applied.root / path).read_text()  # noqa: E731
    assert "return max(await super().count(sku) - self.held, 0)" in read("warehouse/counters.py")
    assert "class CounterTests(unittest.IsolatedAsyncioTestCase):" in read("tests/test_counters.py")
    assert "async def asyncSetUp(self)" in read("tests/test_counters.py")
    assert "    def tearDown(self)" in read("tests/test_counters.py")  # it does not await: left as it was
    assert "async def level(self, sku: str) -> int: ..." in read("warehouse/ports.py")
    assert "async def level(self, sku: str)" in read("warehouse/demo.py")  # structural implementation
    assert "async def reserve(self, sku: str, count: int)" in read("warehouse/ports.py")
    assert "result = await fn(*args, **kwargs)" in read("warehouse/timing.py")
    assert "return fn(*args, **kwargs)" in read("warehouse/timing.py")  # @logged is blocked: untouched
    assert "incoming = await supplier_quote(sku)" in read("warehouse/restock.py")
    assert "return sum([await source.level(sku) for sku in skus])" in read("warehouse/planning.py")
