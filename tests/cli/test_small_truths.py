"""Issue 11's small truths: a deleted planned file, report file modes, LibCST-only parse errors, the
repositories a migration used."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.scan import parse_file
from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import FileStatus

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_shop(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shop)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def test_a_deleted_planned_file_is_shown_reported_and_restored_by_rollback(shop: Path) -> None:
    original = (shop / "shop/handlers.py").read_bytes()
    applied = runner.invoke(app, ["apply", "shop/handlers.py", "--no-test", "--no-diff"])
    assert applied.exit_code == 0, applied.output
    (shop / "shop/handlers.py").unlink()

    status = runner.invoke(app, ["status", "--format", "json"])
    assert status.exit_code == 0, status.output
    entries = {e["path"]: e for p in json.loads(status.stdout)["phases"] for e in p["entries"]}
    assert entries["shop/handlers.py"]["missing"] is True and entries["shop/service.py"]["missing"] is False
    assert "file missing" in runner.invoke(app, ["status"]).stdout

    check = runner.invoke(app, ["check", "--no-cache"])
    assert check.exit_code == 1 and "planned-file-missing" in check.stdout, check.output
    # the other files still go ahead
    rest = runner.invoke(app, ["apply", "--phase", "2", "--no-test", "--no-diff"])
    assert rest.exit_code == 0, rest.output

    rollback = runner.invoke(app, ["rollback", "shop/handlers.py"])
    assert rollback.exit_code == 0, rollback.output
    assert (shop / "shop/handlers.py").read_bytes() == original
    entry = load_plan(shop / "migration_plan.yaml").entry("shop/handlers.py")
    assert entry is not None and entry.status is FileStatus.PENDING


def test_apply_all_leaves_out_a_missing_pending_file(shop: Path) -> None:
    (shop / "shop/handlers.py").unlink()
    result = runner.invoke(app, ["apply", "--all", "--no-test", "--no-diff"])
    assert result.exit_code == 0, result.output
    assert "shop/handlers.py: planned but missing; left out" in result.stderr
    entry = load_plan(shop / "migration_plan.yaml").entry("shop/service.py")
    assert entry is not None and entry.status is FileStatus.MIGRATED


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_report_output_gets_the_mode_of_a_new_file(shop: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        result = runner.invoke(app, ["report", "--output", "summary.md", "--no-cache"])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((shop / "summary.md").stat().st_mode) == 0o666 & ~umask


def test_report_output_over_an_existing_file_keeps_its_mode(shop: Path) -> None:
    target = shop / "summary.md"
    target.write_text("old\n")
    target.chmod(0o640)
    result = runner.invoke(app, ["report", "--output", "summary.md", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


# CPython accepts this indentation (the tab and the spaces agree under both of its tab sizes' rules);
# LibCST's tokenizer refuses it and says "line 1".
TAB_MIX = b"import os\n\n\ndef g():\n    return 1\n\n\ndef f(db):\n \tif db:\n\t \t db.fetch_user(1)\n \treturn 2\n"


def test_a_parse_error_only_libcst_sees_names_the_right_line() -> None:
    compile(TAB_MIX, "tab_mix.py", "exec")  # CPython is fine with it
    spec = FacadeSpec(frozenset({"shop.db.get_db"}), frozenset(), frozenset({"db"}), frozenset())
    parsed = parse_file("tab_mix.py", TAB_MIX, spec, use_slice=False)
    assert parsed.error is not None and parsed.error.startswith("syntax error at line 10: tokenizer error"), parsed


def test_apply_records_the_repositories_the_migration_used(shop: Path) -> None:
    plan_path = shop / "migration_plan.yaml"
    text = plan_path.read_text()
    old = "{path: shop/handlers.py, complexity: low, effort_minutes: 10, risk: low, repositories: [user]"
    assert old in text
    plan_path.write_text(text.replace(old, old.replace("repositories: [user]", "repositories: []")))
    result = runner.invoke(app, ["apply", "shop/handlers.py", "--no-test", "--no-diff"])
    assert result.exit_code == 0, result.output
    entry = load_plan(plan_path).entry("shop/handlers.py")
    assert entry is not None and entry.repositories == ("user",)
    assert "repositories: [user]" in plan_path.read_text()
