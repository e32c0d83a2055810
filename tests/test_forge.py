"""``tests/assets/forge`` end to end: async code reaching the facade through thread hops
(``asyncio.to_thread``, ``run_in_executor`` with ``functools.partial``), the facade's own async twin and a
bound method, onto repositories that take a packed parameter object, reordered arguments with a
constant, and an adapter of the project's own. ``apply --all`` migrates it with no hand edit, its suite
green after the file and under ``-W error::RuntimeWarning`` at the end (an un-awaited coroutine fails it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import FileStatus

ROOT = Path(__file__).resolve().parents[1]
FORGE = ROOT / "tests" / "assets" / "forge"
GOLDEN = ROOT / "tests" / "data" / "apply" / "forge" / "after"


def _suite(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_forge_migrates_with_apply_all_and_its_suite_stays_green(tmp_path: Path) -> None:
    project = tmp_path / "forge"
    shutil.copytree(FORGE, project)
    plan_file = project / "migration_plan.yaml"
    plan_file.write_text(
        plan_file.read_text().replace(
            "test_command: [python, -m, pytest, -q, -p, no:cacheprovider]",
            f"test_command: [{sys.executable}, -W, 'error::RuntimeWarning', -m, pytest, -q, -p, no:cacheprovider]",
        )
    )
    before = _suite(project)
    assert before.returncode == 0, before.stdout + before.stderr

    result = CliRunner().invoke(app, ["apply", "--all", "--plan", str(plan_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = load_plan(plan_file)
    entry = plan.entry("forge/workshop.py")
    assert entry is not None and entry.status is FileStatus.VERIFIED
    applied = next(event for event in entry.history if event.get("event") == "apply")
    assert applied["call_sites"] == 8  # two thread hops, the executor, two async twins, the bound method, two calls
    assert applied["functions_made_async"] == 4  # holdings, spare, report and the sync test of spare

    after = _suite(project)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "8 passed" in after.stdout
    for path in ("forge/workshop.py", "tests/test_workshop.py"):
        assert (project / path).read_text() == (GOLDEN / path).read_text(), path

    scan = CliRunner().invoke(app, ["scan", "--plan", str(plan_file), "--format", "json", "--no-cache"])
    document = json.loads(scan.stdout)
    assert document["summary"]["call_sites"] == 0, document["files"]


def test_a_mapping_that_does_not_fit_blocks_the_file_and_writes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "forge"
    shutil.copytree(FORGE, project)
    plan_file = project / "migration_plan.yaml"
    plan_file.write_text(plan_file.read_text().replace("    constants: {audit: true}\n", ""))
    before = (project / "forge" / "workshop.py").read_bytes()

    result = CliRunner().invoke(app, ["apply", "--all", "--plan", str(plan_file), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert (project / "forge" / "workshop.py").read_bytes() == before
    entry = load_plan(plan_file).entry("forge/workshop.py")
    assert entry is not None and entry.status is FileStatus.BLOCKED
    blockers = entry.history[-1]["blockers"]
    assert [(b["path"], b["line"], b["kind"]) for b in blockers] == [("forge/workshop.py", 26, "signature_mismatch")]
    assert "move_item(self, item_id: int, bench: str)" in blockers[0]["message"]
    assert "relocate(self, bench: str, item_id: int, *, audit: bool)" in blockers[0]["message"]
    assert "missing required argument 'audit'" in blockers[0]["message"]
