"""The propagation codemod: inline cases on hand-made plans, and whole-project golden pairs.

Golden pairs live in ``tests/data/apply/<case>/``: ``before/`` is a small project with its own
``migration_plan.yaml`` (the ``library`` case starts from ``tests/assets/library`` instead), ``after/`` is
every Python file of the project once each planned file has been applied in plan order with
``compute_change``, and ``report.txt`` lists, per planned file, what the change reported besides the
edits (unmapped calls, automatic resolutions, ambiguous calls, blockers).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext, CodemodTest

from asyncmigrate.codemods.propagate_async import PropagateAsyncCommand
from asyncmigrate.config.plan import load_plan
from asyncmigrate.migration.propagate import (
    ASYNC_COMP,
    ASYNC_FOR,
    ASYNC_WITH,
    ASYNCIO_RUN,
    AWAIT,
    GENEXP_LIST,
    UNWRAP_RUN,
    CallEdit,
    ClassEdit,
    FunctionEdit,
    LockEdit,
    PropagationPlan,
)
from asyncmigrate.workflow.apply import ComputedChange, compute_change

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "apply"
ASSETS = ROOT / "tests" / "assets"
CASES = sorted(case.name for case in DATA.iterdir() if case.is_dir())
PATH = "app/mod.py"


def at(code: str, needle: str, nth: int = 0, token: str = "") -> tuple[int, int]:
    """LibCST's position (1-based line, 0-based column) of the ``nth`` ``needle`` in a fixture, or of
    ``token`` inside that needle."""
    text = CodemodTest.make_fixture_data(code)
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    offset += needle.index(token) if token else 0
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def function(code: str, name: str, **flags: bool) -> FunctionEdit:
    line, col = at(code, f"def {name}(")
    return FunctionEdit(PATH, f"app.mod.{name}", line, col + len("def "), **flags)


def call(code: str, needle: str, kind: str = AWAIT, nth: int = 0, token: str = "", path: str = PATH) -> CallEdit:
    line, col = at(code, needle, nth, token)
    return CallEdit(path, line, col, kind, "app.mod.callee")


class TestPropagateAsync(CodemodTest):
    TRANSFORM = PropagateAsyncCommand

    def check(self, before: str, after: str, plan: PropagationPlan) -> None:
        context = CodemodContext(filename=PATH, full_module_name="app.mod", full_package_name="app")
        # The codemod never warns: what it cannot do is a blocker, decided before it runs.
        self.assertCodemod(before, after, context_override=context, expected_warnings=[], propagation=plan, path=PATH)

    def test_edits_for_another_file_change_nothing(self) -> None:
        code = """
            def load(key):
                return fetch(key)
        """
        plan = PropagationPlan(
            function_edits=[FunctionEdit("app/other.py", "app.other.load", 1, 4)],
            call_edits=[call(code, "fetch", path="app/other.py")],
        )
        self.check(code, code, plan)

    def test_async_def_and_awaits_with_parentheses_where_needed(self) -> None:
        before = """
            class Service:
                def total(self, key):
                    # comments stay
                    value = self.load(key).amount + helper(key)
                    return [helper(k)[0] for k in key], helper(key)()
        """
        after = """
            class Service:
                async def total(self, key):
                    # comments stay
                    value = (await self.load(key)).amount + await helper(key)
                    return [(await helper(k))[0] for k in key], (await helper(key))()
        """
        plan = PropagationPlan(
            function_edits=[function(before, "total")],
            call_edits=[
                call(before, "load("),
                call(before, "helper(", nth=0),
                call(before, "helper(", nth=1),
                call(before, "helper(", nth=2),
            ],
        )
        self.check(before, after, plan)

    def test_already_async_function_is_left_alone(self) -> None:
        code = """
            async def load(key):
                return key
        """
        line, col = at(code, "load")
        self.check(code, code, PropagationPlan(function_edits=[FunctionEdit(PATH, "app.mod.load", line, col)]))

    def test_context_manager_becomes_async_with_its_annotation_and_import(self) -> None:
        before = """
            from collections.abc import Iterator
            from contextlib import contextmanager


            @contextmanager
            def session() -> Iterator[int]:
                yield fetch()


            def use():
                with session() as value:
                    return value
        """
        after = """
            from collections.abc import AsyncIterator
            from contextlib import asynccontextmanager


            @asynccontextmanager
            async def session() -> AsyncIterator[int]:
                yield await fetch()


            async def use():
                async with session() as value:
                    return value
        """
        plan = PropagationPlan(
            function_edits=[function(before, "session", to_async_context_manager=True), function(before, "use")],
            call_edits=[call(before, "fetch()"), call(before, "with session()", ASYNC_WITH, token="session")],
        )
        self.check(before, after, plan)

    def test_aliased_contextlib_and_typing_generator(self) -> None:
        before = """
            import contextlib as cl
            import typing


            @cl.contextmanager
            def session() -> typing.Generator[int, None, None]:
                yield 1
        """
        after = """
            import contextlib as cl
            import typing


            @cl.asynccontextmanager
            async def session() -> typing.AsyncGenerator[int, None]:
                yield 1
        """
        self.check(
            before, after, PropagationPlan(function_edits=[function(before, "session", to_async_context_manager=True)])
        )

    def test_only_the_async_item_of_a_mixed_with_becomes_async_with(self) -> None:
        before = """
            def use(path):
                with open(path) as handle, session() as value:  # entered in this order
                    return handle.read(), value
        """
        after = """
            async def use(path):
                with open(path) as handle:
                    async with session() as value:  # entered in this order
                        return handle.read(), value
        """
        plan = PropagationPlan(
            function_edits=[function(before, "use")], call_edits=[call(before, "session", ASYNC_WITH)]
        )
        self.check(before, after, plan)

    def test_generator_consumers_iterate_with_async_for(self) -> None:
        before = """
            from typing import Iterator


            def rows() -> Iterator[int]:
                yield fetch()


            def use():
                seen = [row for row in rows()]
                for row in rows():
                    seen.append(row)
                return seen
        """
        after = """
            from collections.abc import AsyncIterator


            async def rows() -> AsyncIterator[int]:
                yield await fetch()


            async def use():
                seen = [row async for row in rows()]
                async for row in rows():
                    seen.append(row)
                return seen
        """
        plan = PropagationPlan(
            function_edits=[function(before, "rows", to_async_generator=True), function(before, "use")],
            call_edits=[
                call(before, "fetch()"),
                call(before, "rows()", ASYNC_COMP, nth=1),
                call(before, "rows()", ASYNC_FOR, nth=2),
            ],
        )
        self.check(before, after, plan)

    def test_threading_lock_becomes_an_asyncio_lock(self) -> None:
        before = """
            import threading


            class Counter:
                def __init__(self):
                    self.lock = threading.Lock()

                def bump(self):
                    with self.lock:
                        return fetch()
        """
        after = """
            import asyncio


            class Counter:
                def __init__(self):
                    self.lock = asyncio.Lock()

                async def bump(self):
                    async with self.lock:
                        return await fetch()
        """
        line, col = at(before, "Lock()")
        plan = PropagationPlan(
            function_edits=[function(before, "bump")],
            call_edits=[call(before, "fetch()"), call(before, "lock:", ASYNC_WITH)],
            lock_edits=[LockEdit(PATH, line, col, "app.mod.Counter.lock")],
        )
        self.check(before, after, plan)

    def test_entry_point_runs_the_coroutine_with_asyncio_run(self) -> None:
        before = """
            import sys


            def main() -> int:
                return fetch()


            if __name__ == "__main__":
                sys.exit(main())
        """
        after = """
            import sys
            import asyncio


            async def main() -> int:
                return await fetch()


            if __name__ == "__main__":
                sys.exit(asyncio.run(main()))
        """
        plan = PropagationPlan(
            function_edits=[function(before, "main")],
            call_edits=[call(before, "fetch()"), call(before, "exit(main())", ASYNCIO_RUN, token="main")],
        )
        self.check(before, after, plan)

    def test_strict_mode_test_gets_the_asyncio_marker(self) -> None:
        before = """
            from app.service import total


            def test_total():
                assert total() == 2
        """
        after = """
            from app.service import total
            import pytest


            @pytest.mark.asyncio
            async def test_total():
                assert await total() == 2
        """
        plan = PropagationPlan(
            function_edits=[function(before, "test_total", add_asyncio_mark=True)],
            call_edits=[call(before, "assert total()", token="total")],
        )
        self.check(before, after, plan)

    # -- issue 10: asyncio.run, consumed generator expressions, unittest cases ---------------------------

    def test_asyncio_run_in_a_function_turning_async_becomes_await(self) -> None:
        before = """
            import asyncio

            def refresh(key):
                return asyncio.run(remote(key)).value
        """
        after = """
            import asyncio

            async def refresh(key):
                return (await remote(key)).value
        """
        plan = PropagationPlan(
            function_edits=[function(before, "refresh")],
            call_edits=[call(before, "asyncio.run", UNWRAP_RUN, token="run")],
        )
        self.check(before, after, plan)

    def test_generator_expressions_consumed_at_once_become_awaiting_lists(self) -> None:
        before = """
            def report(xs):
                total = sum(load(x) for x in xs)
                names = ", ".join(f"{x}={load(x)}" for x in xs if x)
                return total, names
        """
        after = """
            async def report(xs):
                total = sum([await load(x) for x in xs])
                names = ", ".join([f"{x}={await load(x)}" for x in xs if x])
                return total, names
        """
        plan = PropagationPlan(
            function_edits=[function(before, "report")],
            call_edits=[
                call(before, "sum", GENEXP_LIST),
                call(before, "load(x)"),
                call(before, "join", GENEXP_LIST),
                call(before, "load(x)", nth=1),
            ],
        )
        self.check(before, after, plan)

    def test_unittest_case_becomes_isolated_asyncio_test_case(self) -> None:
        before = """
            import unittest
            from unittest import TestCase

            class LoadTests(unittest.TestCase):
                def setUp(self):
                    self.value = load()

                def test_load(self):
                    self.assertEqual(load(), 1)

            class OtherTests(TestCase, Mixin):
                def test_other(self):
                    self.assertEqual(load(), 1)
        """
        after = """
            import unittest
            from unittest import IsolatedAsyncioTestCase

            class LoadTests(unittest.IsolatedAsyncioTestCase):
                async def asyncSetUp(self):
                    self.value = await load()

                async def test_load(self):
                    self.assertEqual(await load(), 1)

            class OtherTests(IsolatedAsyncioTestCase, Mixin):
                async def test_other(self):
                    self.assertEqual(await load(), 1)
        """
        plan = PropagationPlan(
            function_edits=[
                FunctionEdit(PATH, "app.mod.LoadTests.setUp", *_shift(at(before, "def setUp"), 4), rename="asyncSetUp"),
                function(before, "test_load"),
                function(before, "test_other"),
            ],
            call_edits=[call(before, "load()"), call(before, "load()", nth=1), call(before, "load()", nth=2)],
            class_edits=[
                ClassEdit(PATH, "app.mod.LoadTests", at(before, "LoadTests")[0], "LoadTests", ("unittest", "TestCase")),
                ClassEdit(PATH, "app.mod.OtherTests", at(before, "OtherTests")[0], "OtherTests", ("TestCase",)),
            ],
        )
        self.check(before, after, plan)


def _shift(position: tuple[int, int], columns: int) -> tuple[int, int]:
    return position[0], position[1] + columns


def test_edits_the_code_does_not_fit_are_reported_missing() -> None:
    """The codemod reports what it applied; a planned edit it could not apply is named with its line."""
    code = "import asyncio\n\ndef refresh():\n    return asyncio.run(remote(), debug=True)\n"
    plan = PropagationPlan(
        function_edits=[FunctionEdit(PATH, "app.mod.refresh", 3, 4)],
        call_edits=[CallEdit(PATH, 4, 19, UNWRAP_RUN, "asyncio.run"), CallEdit(PATH, 2, 0, AWAIT, "app.mod.gone")],
    )
    command = PropagateAsyncCommand(CodemodContext(filename=PATH), propagation=plan, path=PATH)
    output = command.transform_module(cst.parse_module(code)).code
    assert "asyncio.run(remote(), debug=True)" in output and "async def refresh" in output
    assert command.missing() == [(2, "await of app.mod.gone"), (4, "asyncio_run_unwrap of asyncio.run")]


# -- golden pairs: whole projects applied file by file ----------------------------------------------------


def _report(path: str, change: ComputedChange) -> list[str]:
    lines = [f"# {path}"]
    lines += [f"unmapped: {c.path}:{c.line}: {c.receiver}.{c.method}" for c in change.unmapped]
    lines += [f"resolution: {r}" for r in change.propagation.resolutions]
    lines += [f"accepted doubt: {a.describe()}" for a in change.propagation.accepted_doubts]
    lines += [f"blocker: {b.describe()}" for b in change.blockers]
    return lines


def _python_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.py"))
        if ".asyncmigrate" not in p.parts and "__pycache__" not in p.parts
    }


def _before(case: str) -> Path:
    before = DATA / case / "before"
    return before if before.is_dir() else ASSETS / case


def _apply_in_order(project: Path) -> list[str]:
    """Apply every planned file in plan order, each change computed on the tree the previous one left."""
    plan = load_plan(project / "migration_plan.yaml")
    report: list[str] = []
    for entry in plan.entries():
        change = compute_change(plan, [entry.path], use_cache=False)
        report += _report(entry.path, change)
        for edit in change.changed:
            (project / edit.path).write_bytes(edit.after)
    return report


@pytest.mark.parametrize("case", CASES)
def test_golden_project(case: str, tmp_path: Path) -> None:
    project = tmp_path / case
    shutil.copytree(_before(case), project)
    report = _apply_in_order(project)
    assert report == (DATA / case / "report.txt").read_text().splitlines()
    expected = _python_files(DATA / case / "after")
    actual = _python_files(project)
    assert sorted(actual) == sorted(expected)
    for path, data in expected.items():
        assert actual[path].decode() == data.decode(), path
        compile(actual[path], path, "exec", dont_inherit=True)


@pytest.mark.parametrize("case", CASES)
def test_golden_project_applied_again_changes_nothing(case: str, tmp_path: Path) -> None:
    project = tmp_path / case
    shutil.copytree(_before(case), project)
    for path, data in _python_files(DATA / case / "after").items():
        (project / path).write_bytes(data)
    plan = load_plan(project / "migration_plan.yaml")
    for entry in plan.entries():
        change = compute_change(plan, [entry.path], use_cache=False)
        assert [e.path for e in change.changed] == [], entry.path
        assert change.blockers == []


def test_run_alone_it_computes_nothing_and_points_to_the_edit_plan(tmp_path: Path) -> None:
    """The propagation is project-wide: under LibCST's runner it comes from an edit plan
    (``apply_edits.ApplyEditsCommand --edits``, tested in ``tests/test_edit_plan.py``), never computed per process."""
    project = tmp_path / "chain"
    shutil.copytree(DATA / "chain_across_files" / "before", project)
    command = [sys.executable, "-m", "libcst.tool", "codemod", "propagate_async.PropagateAsyncCommand", "-j", "1"]
    command += ["--hide-progress", str(project / "app" / "api.py")]
    before = (project / "app" / "api.py").read_bytes()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "apply_edits.ApplyEditsCommand --edits FILE" in result.stdout + result.stderr
    assert (project / "app" / "api.py").read_bytes() == before


def test_removing_the_first_import_leaves_no_blank_first_line() -> None:
    code = CodemodTest.make_fixture_data(
        """
        import threading

        from app.jobs import load


        class Counter:
            def __init__(self):
                self.lock = threading.Lock()
        """
    )
    line, col = at(code, "Lock()")
    context = CodemodContext(filename=PATH, full_module_name="app.mod", full_package_name="app")
    plan = PropagationPlan(lock_edits=[LockEdit(PATH, line, col, "app.mod.Counter.lock")])
    output = PropagateAsyncCommand(context, propagation=plan, path=PATH).transform_module(cst.parse_module(code)).code
    assert "asyncio.Lock()" in output
    assert not output.startswith("\n"), output
