"""The migration gate: one test per finding kind that fails when the finding is not reported."""

from __future__ import annotations

import dataclasses
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from asyncmigrate.checks.check import (
    CHECKS,
    FINDING_ORDER,
    MIGRATED_FILE_CALLS_FACADE,
    PLANNED_FILE_MISSING,
    POSSIBLY_UNAWAITED_ASYNC_CALL,
    UNAWAITED_ASYNC_CALL,
    UNPLANNED_FACADE_CALL,
    CheckContext,
    CheckResult,
    Finding,
    check,
)
from asyncmigrate.config.plan import load_plan
from asyncmigrate.errors import AsyncMigrateError

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


def test_the_findings_sort_key_is_the_findings_order() -> None:
    compared = [f.name for f in dataclasses.fields(Finding) if f.compare]
    assert FINDING_ORDER(Finding("p", 1, 2, "k", "m", "fix")) == ("p", 1, 2, "k", "m")
    assert compared == ["path", "line", "column", "kind", "message"]  # what FINDING_ORDER lists, in order
    findings = [
        Finding(path, line, column, kind, message, fix)
        for path in ("b.py", "a.py")
        for line in (10, 9)
        for column in (4, 0)
        for kind in ("z-kind", "a-kind")
        for message, fix in (("second", None), ("first", "a fix"))
    ]
    assert sorted(findings, key=FINDING_ORDER) == sorted(findings)


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


# --- unawaited-async-call: the constructs a migration leaves behind ---------------------------------------
# Small projects of their own: app/ with a sync facade nobody calls, and the snippet under test in app/mod.py.

SNIPPET_PLAN = """\
version: 1
source: app
tests: tests
exclude: [app/db.py]
facade: {factories: [app.db.get_db]}
phases: []
"""
REPOS = """\
class Repo:
    async def load(self, key):
        return key

    def size(self):
        return 0


class CachedRepo(Repo):
    async def load(self, key):
        return super().load(key){awaited_super}
"""


def _snippet(tmp_path: Path, source: str, *, plan_extra: str = "", **files: str) -> list[tuple[str, int, str]]:
    """Findings of the unawaited kinds on a tmp project: (path, line, kind), sorted."""
    project = {"app/__init__.py": "", "app/db.py": "def get_db(): ...\n", "app/mod.py": source, **files}
    for path, text in project.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(textwrap.dedent(text))
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "migration_plan.yaml").write_text(SNIPPET_PLAN + plan_extra)
    findings = _check(tmp_path / "migration_plan.yaml")
    kinds = (UNAWAITED_ASYNC_CALL, POSSIBLY_UNAWAITED_ASYNC_CALL)
    return [(f.path, f.line, f.kind) for f in findings if f.kind in kinds]


def _repos(awaited_super: bool) -> str:
    call = "await super().load(key)" if awaited_super else "super().load(key)"
    return REPOS.replace("super().load(key){awaited_super}", call)


def test_an_unawaited_super_call_of_an_async_method_is_a_finding(tmp_path: Path) -> None:
    found = _snippet(tmp_path, "", **{"app/repos.py": _repos(awaited_super=False)})
    assert found == [("app/repos.py", 11, UNAWAITED_ASYNC_CALL)]
    message = next(f.message for f in _check(tmp_path / "migration_plan.yaml") if f.kind == UNAWAITED_ASYNC_CALL)
    assert "super().load() in CachedRepo.load creates a coroutine of async Repo.load" in message


def test_an_awaited_super_call_is_no_finding(tmp_path: Path) -> None:
    assert _snippet(tmp_path, "", **{"app/repos.py": _repos(awaited_super=True)}) == []


GETATTR = """\
from app.repos import Repo


def by_name(repo: Repo, what: str):
    return getattr(repo, "load")(what)


async def awaited(repo: Repo, what: str):
    return await getattr(repo, "load")(what)


def sync_one(repo: Repo):
    return getattr(repo, "size")()


def unknown(thing, what):
    return getattr(thing, "load")(what)
"""


def test_an_unawaited_getattr_call_with_a_constant_name_is_a_finding(tmp_path: Path) -> None:
    found = _snippet(tmp_path, GETATTR, **{"app/repos.py": _repos(awaited_super=True)})
    # typed receiver: a finding; awaited or a sync method: none; an untyped receiver: the weaker kind
    assert found == [("app/mod.py", 5, UNAWAITED_ASYNC_CALL), ("app/mod.py", 17, POSSIBLY_UNAWAITED_ASYNC_CALL)]


UNKNOWN_RECEIVER = """\
from typing import Any

from app.repos import Repo


def untyped(repo, key):
    return repo.load(key)


def any_typed(repo: Any, key):
    return repo.load(key)


def typed(repo: Repo, key):
    return repo.load(key)


async def awaited(repo, key):
    return await repo.load(key)


def builtin_name(mapping, key):
    return mapping.get(key)


def sync_method(repo, key):
    return repo.size()
"""


def test_a_receiver_of_unknown_type_calling_an_async_method_name_is_a_possible_finding(tmp_path: Path) -> None:
    found = _snippet(tmp_path, UNKNOWN_RECEIVER, **{"app/repos.py": _repos(awaited_super=True)})
    assert found == [
        ("app/mod.py", 7, POSSIBLY_UNAWAITED_ASYNC_CALL),  # a parameter without annotation
        ("app/mod.py", 11, POSSIBLY_UNAWAITED_ASYNC_CALL),  # Any
        ("app/mod.py", 15, UNAWAITED_ASYNC_CALL),  # typed: certain
    ]
    messages = [f.message for f in _check(tmp_path / "migration_plan.yaml") if f.line == 7]
    assert messages and "if it reaches async CachedRepo.load, Repo.load" in messages[0]


HANDED_ON = """\
from collections.abc import Awaitable, Coroutine
from typing import Any, Optional

from app.repos import Repo


def runs(job: Coroutine[Any, Any, int]) -> None: ...
def runs_maybe(job: "Optional[Awaitable[int]]" = None) -> None: ...
def takes_value(value) -> None: ...
def schedule(job) -> None: ...


class Scheduler:
    def submit(self, *jobs: Awaitable[int]) -> None: ...


def hand(repo: Repo, scheduler: Scheduler) -> None:
    runs(repo.load(1))
    runs_maybe(job=repo.load(2))
    scheduler.submit(repo.load(3), repo.load(4))
    schedule(repo.load(5))
    takes_value(repo.load(6))
"""


def test_a_coroutine_handed_to_a_parameter_annotated_awaitable_is_no_finding(tmp_path: Path) -> None:
    found = _snippet(tmp_path, HANDED_ON, **{"app/repos.py": _repos(awaited_super=True)})
    # schedule() is not annotated and the plan does not list it: still findings
    assert found == [("app/mod.py", 21, UNAWAITED_ASYNC_CALL), ("app/mod.py", 22, UNAWAITED_ASYNC_CALL)]


def test_a_coroutine_handed_to_a_plan_listed_consumer_is_no_finding(tmp_path: Path) -> None:
    found = _snippet(
        tmp_path, HANDED_ON, plan_extra="coroutine_consumers: [app.mod.schedule]\n",
        **{"app/repos.py": _repos(awaited_super=True)},
    )  # fmt: skip
    assert found == [("app/mod.py", 22, UNAWAITED_ASYNC_CALL)]


def test_coroutine_consumers_must_be_dotted_names(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "migration_plan.yaml").write_text(SNIPPET_PLAN + "coroutine_consumers: [app.mod.ok, schedule]\n")
    with pytest.raises(AsyncMigrateError, match=r"migration_plan.yaml:7: coroutine_consumers\[1\]: must be a dotted"):
        load_plan(tmp_path / "migration_plan.yaml", check_files=False)


GATHERED = """\
import asyncio

from app.repos import Repo


async def appended(repo: Repo, keys):
    jobs = []
    for key in keys:
        jobs.append(repo.load(key))
    return await asyncio.gather(*jobs)


async def comprehended(repo: Repo, keys):
    jobs = [repo.load(key) for key in keys]
    done, _ = await asyncio.wait(jobs)
    return done


async def never_run(repo: Repo, keys):
    jobs = [repo.load(key) for key in keys]
    pending = []
    pending.append(repo.load(0))
    return len(jobs) + len(pending)
"""


def test_coroutines_collected_for_gather_or_wait_are_no_finding(tmp_path: Path) -> None:
    found = _snippet(tmp_path, GATHERED, **{"app/repos.py": _repos(awaited_super=True)})
    # collected but never handed to gather/wait: still findings
    assert found == [("app/mod.py", 20, UNAWAITED_ASYNC_CALL), ("app/mod.py", 22, UNAWAITED_ASYNC_CALL)]


@pytest.mark.parametrize("terminal", [False, True])
def test_the_findings_print_verbatim_to_a_pipe_and_to_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    """A pipe gets the findings in one write, as Rich would print them (control codes stripped); a
    terminal gets them through Rich, the fix dimmed: the same text either way, markup left as written."""
    import io

    from rich.console import Console
    from rich.text import Text

    from asyncmigrate import render

    findings = (
        Finding("app/a.py", 3, 4, "unplanned-facade-call", "db.fetch() [bold]x[/] :smile:\r", "plan app/a.py"),
        Finding("app/b.py", 1, 0, "unawaited-async-call", "f() is never awaited"),
    )
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, color_system="standard" if terminal else None, width=40)
    monkeypatch.setattr(render.stdout, "_console", console)
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr(render.stderr, "_console", Console(file=io.StringIO()))
    render.check_findings(CheckResult(tmp_path / "migration_plan.yaml", findings))
    printed = out.getvalue()
    plain = Text.from_ansi(printed).plain if terminal else printed
    assert plain == (
        "app/a.py:3: unplanned-facade-call: db.fetch() [bold]x[/] :smile:\n"
        "    fix: plan app/a.py\n"
        "app/b.py:1: unawaited-async-call: f() is never awaited\n"
    )
    assert ("\x1b[2m    fix: plan app/a.py" in printed) is terminal


def test_a_cold_check_parses_each_file_once_for_the_scan_and_the_call_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan's ``ast`` parse of a file also gives the call graph its module summary: a cold check has the
    graph parse only what the scan leaves out (the plan's exclusions), and finds what a check whose graph
    parses every file itself finds, leaving the same graph in the cache. When the graph's cache already
    holds a file's content (the plan changed, the scan's cache did not survive), the scan makes no summary."""
    from asyncmigrate.analysis import callgraph
    from asyncmigrate.checks import check as check_module
    from asyncmigrate.config.modules import plan_layout

    copies = {name: tmp_path / name for name in ("shared", "own")}
    for copy in copies.values():
        shutil.copytree(REPO / "tests/assets/guild", copy)
    reads: list[str] = []
    made: list[str] = []
    read_module, add = callgraph.read_module, callgraph.SharedSummaries.add
    monkeypatch.setattr(callgraph, "read_module", lambda path, *rest: reads.append(path) or read_module(path, *rest))
    monkeypatch.setattr(
        callgraph.SharedSummaries, "add", lambda self, path, *rest: made.append(path) or add(self, path, *rest)
    )

    shared = check(load_plan(copies["shared"] / "migration_plan.yaml"))
    assert sorted(reads) == ["guild/ledger.py", "guild/repos.py"]  # excluded from the scan, read by the graph
    assert len(made) > 10 and not set(made) & set(reads)
    every_file = sorted(made + reads)

    reads.clear()
    with monkeypatch.context() as patched:
        patched.setattr(check_module, "_reads_call_graph", lambda plan, checks: False)
        own = check(load_plan(copies["own"] / "migration_plan.yaml"))
    assert sorted(reads) == every_file
    assert own.findings == shared.findings and own.counts() == shared.counts()

    def graph(root: Path) -> dict[str, object]:
        plan = load_plan(root / "migration_plan.yaml")
        project = callgraph.build_project(root, every_file, layout=plan_layout(plan))
        return {path: project.modules[path] for path in project.modules}

    reads.clear()
    assert graph(copies["shared"]) == graph(copies["own"])
    assert reads == []  # both from the cache

    from asyncmigrate.analysis import scan

    parsed: list[str] = []
    run_task = scan.run_task
    monkeypatch.setattr(scan, "run_task", lambda path, *rest: parsed.append(path) or run_task(path, *rest))
    plan_file = copies["shared"] / "migration_plan.yaml"
    plan_file.write_text(plan_file.read_text().replace("[ledger]", "[ledger, books]"))  # a new facade for the scan
    made.clear()
    again = check(load_plan(plan_file, check_files=False))
    assert len(parsed) > 10 and made == [] and reads == []
    assert again.findings == shared.findings
