"""``tests/assets/caravan``: one dependency-injected service holding every form issue 9 names migrates
with ``apply --all`` (tests run after every file, no ``--no-test``) and no hand edit.

The caravan's store is injected into a service's constructor and kept on ``self``, handed to helpers,
held by a dataclass field, kept on ``request.app.state`` and given by ``Depends``; the yard hops to
threads around it (``asyncio.to_thread``, ``run_in_executor`` with ``functools.partial``), calls its async
twins and binds one of its methods; the mappings pack a parameter object, reorder arguments with a
constant, rename a keyword and go through an adapter; a subclass calls ``super()`` and a project decorator
wraps a function turning async. Its own suite injects ``MagicMock(spec=Store)`` into constructors and the
app's state, patches ``open_store`` in the module under test and a store method with ``patch.object``, and
runs the same code against a real SQLite store. Every entry must end ``verified`` with its tests passed,
the suite must stay green under ``-W error::RuntimeWarning`` at the end, and every migrated file must be
the golden one under ``tests/data/caravan/after`` (read as code there). About 30 s on two cores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import FileStatus

ROOT = Path(__file__).resolve().parent.parent
CARAVAN = ROOT / "tests" / "assets" / "caravan"
GOLDEN = ROOT / "tests" / "data" / "caravan" / "after"
WARNINGS_AS_ERRORS = ("-W", "error::RuntimeWarning", "-W", "error::pytest.PytestUnraisableExceptionWarning")


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture
def caravan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "caravan"
    shutil.copytree(CARAVAN, root, ignore=shutil.ignore_patterns("__pycache__", ".asyncmigrate"))
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "before")
    monkeypatch.chdir(root)
    return root


def _suite(root: Path, *pytest_args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the fixture's own `tests` package, not ours
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args, "tests"]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def _golden() -> dict[str, str]:
    files = sorted(p for p in GOLDEN.rglob("*.py") if "__pycache__" not in p.parts)
    return {p.relative_to(GOLDEN).as_posix(): p.read_text() for p in files}


def test_apply_all_migrates_the_caravan_with_its_tests_green_after_every_file(caravan: Path) -> None:
    before = _suite(caravan)
    assert before.returncode == 0, before.stdout[-3000:]
    assert "22 passed" in before.stdout

    result = CliRunner().invoke(app, ["apply", "--all", "--no-diff", "--format", "json"])
    assert result.exit_code == 0, result.output

    plan = load_plan(caravan / "migration_plan.yaml")
    order = [entry.path for entry in plan.entries()]
    assert order == [f"caravan/{name}.py" for name in ("api", "yard", "dispatch", "trading", "reports")]
    figures = {}
    for entry in plan.entries():
        assert entry.status is FileStatus.VERIFIED, (entry.path, entry.history)
        events = [event.get("event") for event in entry.history]
        assert events == ["apply", "test"], (entry.path, events)  # no recovery, no retry, no hand step
        applied, tested = entry.history
        assert not applied.get("blockers")
        assert tested["test_result"]["passed"] is True and tested["test_result"]["returncode"] == 0
        figures[entry.path] = (applied["call_sites"], applied["functions_made_async"], tested["test_result"]["modules"])
    assert figures == {
        "caravan/api.py": (3, 0, 1),  # app.state, Depends, an async twin onto the sync route map
        "caravan/yard.py": (5, 2, 1),  # the async twin, to_thread twice, run_in_executor + partial, a bound method
        "caravan/dispatch.py": (3, 6, 2),  # constructor injection; super() turns with its base
        "caravan/trading.py": (6, 10, 5),  # parameters, a dataclass field, the adapter; the decorator follows
        "caravan/reports.py": (3, 3, 1),  # the obtained store, through its provider
    }

    # Nothing but the migration touched the tree, and every migrated file is the golden one.
    changed = {line[3:] for line in _git(caravan, "status", "--porcelain").splitlines()}
    expected = _golden()
    assert changed == {*expected, "migration_plan.yaml"}
    for path, text in expected.items():
        assert (caravan / path).read_text() == text, path

    final = _suite(caravan, *WARNINGS_AS_ERRORS)
    assert final.returncode == 0, final.stdout[-3000:]
    assert "22 passed" in final.stdout

    scanned = CliRunner().invoke(app, ["scan", "--format", "json", "--no-cache", "--calls"])
    document = json.loads(scanned.stdout)
    left = [(f["path"], c["method"]) for f in document["files"] for c in f["calls"]]
    assert left == [("caravan/api.py", "vacuum")]  # unmapped: stays on the store
