"""The migration gate: one test per finding kind that fails when the finding is not reported."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from asyncmigrate.check import (
    CHECKS,
    MIGRATED_FILE_CALLS_FACADE,
    PLANNED_FILE_MISSING,
    UNAWAITED_ASYNC_CALL,
    UNPLANNED_FACADE_CALL,
    CheckContext,
    Finding,
    check,
)
from asyncmigrate.plan import load_plan

REPO = Path(__file__).parents[1]

# handlers.py as `apply` would leave it: the repository instead of the facade, the unmapped call gone.
MIGRATED_HANDLERS = """\
from shop.repos import get_user_repo
from shop.service import AccountService


async def show_user(user_id: int) -> dict[str, object]:
    user = await get_user_repo().find(user_id)
    return {"id": user_id, "name": user.name if user else None}


def rename_user(user_id: int, name: str) -> bool:
    return AccountService().rename(user_id, name) is not None
"""


def _check(plan_path: Path) -> list[Finding]:
    return list(check(load_plan(plan_path, check_files=False), use_cache=False).findings)


def test_the_fresh_shop_passes(shop: Path) -> None:
    result = check(load_plan(shop / "migration_plan.yaml"), use_cache=False)
    assert result.ok and result.findings == () and result.counts() == {}


def test_a_migrated_file_calling_the_facade_again_is_a_finding(edit_plan: Callable[[str, str], Path]) -> None:
    plan = edit_plan("repositories: [user], status: pending", "repositories: [user], status: migrated")
    findings = _check(plan)
    assert [(f.path, f.line, f.column, f.kind) for f in findings] == [
        ("shop/handlers.py", 8, 11, MIGRATED_FILE_CALLS_FACADE),
    ]  # line 17 calls vacuum, which the plan maps to nothing: it stays on the facade by design
    first = findings[0]
    assert str(first) == (
        "shop/handlers.py:8: migrated-file-calls-facade: "
        "database.fetch_user() calls the sync facade in a file marked migrated"
    )
    assert (
        first.fix is not None and "await user_repo.find(...)" in first.fix and "shop.repos.get_user_repo" in first.fix
    )


def test_a_verified_file_is_held_to_the_same_gate(edit_plan: Callable[[str, str], Path]) -> None:
    plan = edit_plan("repositories: [user], status: pending", "repositories: [user], status: verified")
    assert {f.kind for f in _check(plan)} == {MIGRATED_FILE_CALLS_FACADE}


def test_a_migrated_file_without_facade_calls_passes(shop: Path, edit_plan: Callable[[str, str], Path]) -> None:
    (shop / "shop" / "handlers.py").write_text(MIGRATED_HANDLERS)
    plan = edit_plan("repositories: [user], status: pending", "repositories: [user], status: migrated")
    assert _check(plan) == []


def test_a_new_file_calling_the_facade_trips_the_ratchet(shop: Path) -> None:
    (shop / "shop" / "reports.py").write_text(
        "from shop.db import get_db\n\n\nasync def report() -> int:\n    return len(get_db().all_users())\n"
    )
    findings = _check(shop / "migration_plan.yaml")
    assert [(f.path, f.line, f.kind) for f in findings] == [("shop/reports.py", 5, UNPLANNED_FACADE_CALL)]
    assert "the plan does not list" in findings[0].message
    assert findings[0].fix is not None and "await user_repo.everyone(...)" in findings[0].fix


def test_the_ratchet_leaves_excluded_files_alone(shop: Path, edit_plan: Callable[[str, str], Path]) -> None:
    (shop / "shop" / "legacy.py").write_text("from shop.db import get_db\n\nget_db().vacuum()\n")
    assert [f.kind for f in _check(shop / "migration_plan.yaml")] == [UNPLANNED_FACADE_CALL]
    plan = edit_plan("exclude: [shop/db.py, shop/repos.py]", "exclude: [shop/db.py, shop/repos.py, shop/legacy.py]")
    assert _check(plan) == []


def test_a_planned_file_that_no_longer_exists_is_a_finding(shop: Path) -> None:
    (shop / "shop" / "service.py").unlink()
    plan_path = shop / "migration_plan.yaml"
    entry_line = next(
        number for number, text in enumerate(plan_path.read_text().splitlines(), 1) if "path: shop/service.py" in text
    )
    findings = _check(plan_path)
    assert [(f.path, f.line, f.kind) for f in findings] == [("migration_plan.yaml", entry_line, PLANNED_FILE_MISSING)]
    assert "phase 2 lists shop/service.py, which does not exist" in findings[0].message


def test_a_missing_tests_directory_is_reported_not_fatal(shop: Path) -> None:
    shutil.rmtree(shop / "tests")
    findings = _check(shop / "migration_plan.yaml")
    messages = [f.message for f in findings if f.kind == PLANNED_FILE_MISSING]
    assert any("tests/test_service.py, which does not exist" in m for m in messages)
    assert any("directory tests does not exist" in m for m in messages)
    assert all(f.path == "migration_plan.yaml" and f.line > 1 for f in findings)


JOBS = """\
import asyncio


async def refresh(user_id: int) -> int:
    return user_id


def nightly() -> None:
    refresh(1)
    asyncio.run(refresh(2))


async def hourly() -> None:
    await refresh(3)
    task = asyncio.create_task(refresh(4))
    await task
    await asyncio.gather(refresh(5), refresh(6))
"""
JOB_TESTS = """\
from shop.jobs import refresh


def test_refresh() -> None:
    assert refresh(7)
"""


def test_a_coroutine_nobody_awaits_is_a_finding_in_sources_and_tests(shop: Path) -> None:
    (shop / "shop" / "jobs.py").write_text(JOBS)
    (shop / "tests" / "test_jobs.py").write_text(JOB_TESTS)
    findings = [f for f in _check(shop / "migration_plan.yaml") if f.kind == UNAWAITED_ASYNC_CALL]
    # awaited, handed to asyncio.run, create_task or gather: fine; the bare call and the test's are not
    assert [(f.path, f.line, f.column) for f in findings] == [("shop/jobs.py", 9, 4), ("tests/test_jobs.py", 5, 11)]
    assert "refresh() in nightly creates a coroutine of async refresh that is never awaited" in findings[0].message
    assert findings[0].fix is not None and "await it" in findings[0].fix


def test_an_awaited_call_is_no_finding(shop: Path) -> None:
    (shop / "shop" / "jobs.py").write_text(JOBS.replace("    refresh(1)\n", ""))
    assert [f for f in _check(shop / "migration_plan.yaml") if f.kind == UNAWAITED_ASYNC_CALL] == []


def test_findings_from_every_kind_come_sorted_together(shop: Path, edit_plan: Callable[[str, str], Path]) -> None:
    (shop / "shop" / "reports.py").write_text("from shop.db import get_db\nget_db().vacuum()\n")
    (shop / "tests" / "test_service.py").unlink()
    plan = edit_plan("repositories: [user], status: pending", "repositories: [user], status: migrated")
    findings = _check(plan)
    assert [f.kind for f in findings] == [
        PLANNED_FILE_MISSING,
        MIGRATED_FILE_CALLS_FACADE,
        UNPLANNED_FACADE_CALL,
    ]
    assert findings == sorted(findings)


def test_one_more_kind_slots_in_as_a_function(shop: Path) -> None:
    def every_blocking_call(context: CheckContext) -> Iterator[Finding]:
        for call in context.scan.calls:
            if call.blocks_event_loop:
                yield Finding(call.path, call.line, call.column, "blocking-call", "blocks", None)

    result = check(load_plan(shop / "migration_plan.yaml"), checks=(*CHECKS, every_blocking_call), use_cache=False)
    assert [str(f) for f in result.findings] == ["shop/handlers.py:8: blocking-call: blocks"]
    assert result.counts() == {"blocking-call": 1}


def test_the_repository_passes_its_own_gate() -> None:
    result = check(load_plan(REPO / "migration_plan.yaml", check_files=False), use_cache=False)
    assert result.findings == (), "\n".join(str(f) for f in result.findings)
