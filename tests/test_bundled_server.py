"""The committed plan and the bundled server agree: 41 files, every call site found."""

from __future__ import annotations

import ast
from pathlib import Path

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.scan import scan
from asyncmigrate.config.plan import load_plan
from asyncmigrate.reporting.status import progress

REPO = Path(__file__).resolve().parents[1]


def test_plan_lists_41_files_in_phases_2_to_6() -> None:
    plan = load_plan(REPO / "migration_plan.yaml")
    result = progress(plan)
    assert result.total == 41 and result.migrated == 0
    assert [(p.id, p.total) for p in result.phases] == [(2, 6), (3, 2), (4, 11), (5, 11), (6, 11)]


def test_scan_finds_exactly_the_planned_files() -> None:
    plan = load_plan(REPO / "migration_plan.yaml")
    result = scan(REPO, FacadeSpec.from_plan(plan), plan=plan, use_cache=False)
    assert not result.errors
    with_calls = {f.path for f in result.files if f.calls}
    assert with_calls == {e.path for e in plan.entries()}
    assert {c.method for c in result.calls if not c.mapped} == {"save_room"}


def test_every_call_inside_async_def_is_blocking() -> None:
    """Cross-check the scanner against CPython's ast: each call site's enclosing function kind."""
    plan = load_plan(REPO / "migration_plan.yaml")
    result = scan(REPO, FacadeSpec.from_plan(plan), plan=plan, use_cache=False)
    checked = 0
    for report in result.files:
        tree = ast.parse((REPO / report.path).read_bytes())
        async_lines: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.AsyncFunctionDef):
                inner_sync = {
                    line
                    for child in ast.walk(node)
                    if isinstance(child, ast.FunctionDef | ast.Lambda) and child is not node
                    for line in range(child.lineno, (child.end_lineno or child.lineno) + 1)
                }
                async_lines |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1)) - inner_sync
        for call in report.calls:
            expected = call.line in async_lines and not call.is_reference
            assert call.blocks_event_loop == expected, f"{call.path}:{call.line}"
            checked += 1
    assert checked == len(result.calls) > 200
    assert sum(c.blocks_event_loop for c in result.calls) > 0
