"""The invariant that proves the tool: migrate the bundled server file by file, in phase order, in a copy
of the repository, and keep ``pytest server/tests`` green after every single file.

At the end the suite passes under ``-W error::RuntimeWarning`` (no coroutine left un-awaited), a scan
finds no mapped facade call outside files the plan records as blocked, and the entries verified and
blocked are exactly the expected sets, each blocked one with the tool's own blocker record. Slow (a
suite run per file): it is the proof.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncmigrate.analysis import pool
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.scan import default_paths, scan
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import FileStatus
from asyncmigrate.workflow.apply import apply_file

REPOSITORY = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("ASYNCMIGRATE_E2E_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
# The suite takes seconds; minutes mean it hangs (a thread left running keeps the interpreter alive).
SUITE_TIMEOUT_SECONDS = 300
# The outcome the migration reaches, asserted exactly, so that a tool blocking everything (or verifying
# what it should have blocked) fails: every planned file verified but this one, whose test asserts
# `inspect.isgenerator(...)` on the generator that would become an async generator.
EXPECTED_BLOCKED = {"server/npc/behaviors.py"}
_IGNORE = shutil.ignore_patterns(".git", ".venv", "venv", ".asyncmigrate", "__pycache__", "*.db", "*.db-*", ".*cache")


def _postgres_reachable() -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


@contextlib.contextmanager
def _own_database() -> Iterator[str]:
    """A database of its own for the run, so nothing else using the server's database interferes."""
    import psycopg

    name = f"asyncmigrate_e2e_{uuid.uuid4().hex[:12]}"
    base, _, _ = POSTGRES_URL.rpartition("/")
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _copy_repository(target: Path) -> Path:
    shutil.copytree(REPOSITORY, target, ignore=_IGNORE)
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "-c", "user.name=e2e", "-c", "user.email=e2e@localhost", "commit", "-qm", "before migration")
    return target


def _suite(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the server's suite. A test that runs over a minute gets every thread's traceback dumped
    (pytest's faulthandler_timeout); a run that hangs is aborted, and its whole output kept in a log."""
    command = [
        sys.executable, *extra, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
        "-o", "faulthandler_timeout=60", "server/tests",
    ]  # fmt: skip
    with subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        try:
            output, _ = process.communicate(timeout=SUITE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            output += f"\n[the suite did not finish within {SUITE_TIMEOUT_SECONDS} s]"
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def _failure(outcome: str, suite: subprocess.CompletedProcess[str], log: Path) -> str:
    """The failure message: where the whole output is, and its most telling part (a hang's thread dump)."""
    log.write_text(suite.stdout)
    output = suite.stdout
    dump = output.find("Timeout (")
    excerpt = output[dump : dump + 12000] if dump >= 0 else output[-4000:]
    return f"{outcome} (whole output: {log}):\n{excerpt}"


@pytest.mark.end_to_end
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_plan_migrates_file_by_file_with_the_suite_green(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with contextlib.ExitStack() as stack:
        _migrate_the_plan(database, tmp_path, monkeypatch, stack)


def _migrate_the_plan(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: contextlib.ExitStack
) -> None:
    if database == "postgresql":
        if not _postgres_reachable():
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}")
            pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        database_url = stack.enter_context(_own_database())
        monkeypatch.setenv("DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    # the plan's test command says `python`: the interpreter running these tests
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    # apply as the CLI runs it, a step's other files made in a forked child (a pytest-xdist worker runs
    # threads of its own, in which ``Forked`` would make them here)
    monkeypatch.setattr(pool, "_single_threaded", lambda: True)
    root = _copy_repository(tmp_path / "repository")
    plan = load_plan(root / "migration_plan.yaml")
    order = [entry.path for entry in plan.entries()]
    counts = {"call_sites": 0, "functions_made_async": 0, "attempts": 0}

    # Phase order; a file whose tests fail is restored and retried after the later phases (its callers
    # or publishers may have to move first), as a team would.
    for attempt in range(2):
        for path in order:
            entry = plan.entry(path)
            assert entry is not None
            if entry.status not in (FileStatus.PENDING, FileStatus.FAILED):
                continue
            plan, result = apply_file(plan, path)
            counts["attempts"] += 1
            if result.status is FileStatus.VERIFIED:
                counts["call_sites"] += len(result.change.rewritten)
                counts["functions_made_async"] += len(result.change.propagation.async_functions)
                _git(root, "add", "-A")
                _git(root, "-c", "user.name=e2e", "-c", "user.email=e2e@localhost", "commit", "-qm", f"apply {path}")
            suite = _suite(root)
            outcome = f"after {path} ({result.status}, attempt {attempt + 1})"
            assert suite.returncode == 0, _failure(outcome, suite, tmp_path / "suite.log")

    final = _suite(root, "-W", "error::RuntimeWarning")
    assert final.returncode == 0, _failure("final run", final, tmp_path / "suite.log")

    plan = load_plan(root / "migration_plan.yaml")
    statuses = {entry.path: entry.status for entry in plan.entries()}
    blocked = {path for path, status in statuses.items() if status is FileStatus.BLOCKED}
    verified = {path for path, status in statuses.items() if status is FileStatus.VERIFIED}
    assert blocked == EXPECTED_BLOCKED, statuses
    assert verified == set(order) - EXPECTED_BLOCKED, statuses
    assert len(verified) == 40
    for path in blocked:
        entry = plan.entry(path)
        assert entry is not None
        records = [event for event in entry.history if event.get("status") == "blocked"]
        assert records and records[-1]["blockers"], f"{path} is blocked without the tool's blocker record"
        for blocker in records[-1]["blockers"]:
            assert blocker["path"] and blocker["line"] and blocker["chain"] and blocker["fix"]

    spec = FacadeSpec.from_plan(plan)
    result = scan(root, spec, paths=default_paths(plan), plan=plan, exclude=plan.exclude, use_cache=False)
    leftover = [f"{c.path}:{c.line} {c.method}" for c in result.calls if c.mapped and c.path not in blocked]
    assert leftover == [], leftover

    summary = {
        "database": database,
        "verified": sum(1 for s in statuses.values() if s is FileStatus.VERIFIED),
        "blocked": sorted(blocked),
        **counts,
    }
    (tmp_path / "summary.json").write_text(json.dumps(summary, indent=2))
    sys.stderr.write(json.dumps(summary) + "\n")  # shown with -s: the figures for the closing note
