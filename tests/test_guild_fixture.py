"""``tests/assets/guild``: dependency-injected code (constructor injection kept on ``self``, a
dataclass field, a helper's parameter, ``request.app.state``, ``Depends``) migrates with ``apply``
and no hand edit: every received ledger stays received and reaches the async side through the plan's
``from_received``, the obtained one goes through the providers, and the fixture's own suite stays green
after every file and, at the end, under ``-W error::RuntimeWarning``.

The fixture's tests inject a hand-written ledger fake serving both sides (``tests/fakes.py``): a
``MagicMock(spec=Ledger)`` configured for the sync methods would need its configuration carried over
to the async side, which is the test-double migration's work, not this rewrite's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.scan import default_paths, scan
from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import FileStatus

ROOT = Path(__file__).resolve().parent.parent
GUILD = ROOT / "tests" / "assets" / "guild"
GOLDEN = ROOT / "tests" / "data" / "apply" / "guild" / "after"


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def guild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "guild"
    shutil.copytree(GUILD, root, ignore=shutil.ignore_patterns("__pycache__", ".asyncmigrate"))
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "before")
    monkeypatch.chdir(root)
    return root


def _suite(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the fixture's own `tests` package, not ours
    command = [sys.executable, *extra, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def _sources(root: Path) -> dict[str, str]:
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    return {p.relative_to(root).as_posix(): p.read_text() for p in files}


def test_apply_all_migrates_the_guild_with_no_hand_edit(guild: Path) -> None:
    assert _suite(guild).returncode == 0
    result = CliRunner().invoke(app, ["apply", "--all", "--no-diff"])
    assert result.exit_code == 0, result.output
    plan = load_plan(guild / "migration_plan.yaml")
    assert {e.path: e.status for e in plan.entries()} == {e.path: FileStatus.VERIFIED for e in plan.entries()}
    final = _suite(guild, "-W", "error::RuntimeWarning")
    assert final.returncode == 0, final.stdout[-3000:]
    # no mapped ledger call is left; the courier (a local named like the ledger) never was one
    spec = FacadeSpec.from_plan(plan)
    scanned = scan(guild, spec, paths=default_paths(plan), plan=plan, exclude=plan.exclude, use_cache=False)
    assert [f"{c.path}:{c.line} {c.method}" for c in scanned.calls if c.mapped] == []
    assert [c.method for c in scanned.calls] == ["audit"]  # unmapped: stays on the ledger
    # the migrated tree is the golden one (every form, read as code in tests/data/apply/guild/after)
    expected = _sources(GOLDEN)
    actual = {path: text for path, text in _sources(guild).items() if path in expected}
    assert actual == expected


def test_each_file_keeps_the_guild_suite_green(guild: Path) -> None:
    plan = load_plan(guild / "migration_plan.yaml")
    for entry in plan.entries():
        result = CliRunner().invoke(app, ["apply", entry.path, "--no-diff"])
        assert result.exit_code == 0, result.output
        suite = _suite(guild)
        assert suite.returncode == 0, f"after {entry.path}:\n{suite.stdout[-3000:]}"
        _git(guild, "add", "-A")
        _git(guild, "commit", "-qm", f"apply {entry.path}")
    statuses = {e.status for e in load_plan(guild / "migration_plan.yaml").entries()}
    assert statuses == {FileStatus.VERIFIED}


def test_a_received_ledger_with_no_way_to_its_books_blocks_and_writes_nothing(guild: Path) -> None:
    plan_path = guild / "migration_plan.yaml"
    text = plan_path.read_text()
    plan_path.write_text(text.replace(', from_received: "attribute:members"}', "}"))
    before = (guild / "guild" / "dues.py").read_text()
    result = CliRunner().invoke(app, ["apply", "guild/dues.py", "--no-diff"])
    assert result.exit_code == 1, result.output
    assert "guild/dues.py:14" in result.output and "repositories.member.from_received" in result.output
    assert (guild / "guild" / "dues.py").read_text() == before
    entry = load_plan(plan_path).entry("guild/dues.py")
    assert entry is not None and entry.status is FileStatus.BLOCKED
