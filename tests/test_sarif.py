"""SARIF fixes that apply: each is the whole change ``apply FILE`` makes, or there is none.

Every log is validated against the official SARIF 2.1.0 schema (tests/data/schemas). On the bundled server a
sample of planned files, chosen by hash, has its fix applied to a copy, which must compile and pass
``ruff check --select F``; ``scripts/check_sarif_fixes.py`` does the same for every fix.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from asyncmigrate.checks.check import scan_plan
from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan
from asyncmigrate.reporting.model import Report, build_report
from asyncmigrate.reporting.sarif import FileFix, fixable_paths, fixes_for, replacements, sarif_lines, to_sarif
from asyncmigrate.workflow.apply import compute_change
from tests.corpus import CORPUS
from tests.sarif_helpers import (
    apply_fix,
    apply_replacements,
    compiles_and_passes_pyflakes,
    in_sample,
    validate_sarif,
)

REPO = Path(__file__).parents[1]
WHEN = "2025-03-05T12:00:00+00:00"


def _report(root: Path) -> Report:
    plan = load_plan(root / "migration_plan.yaml", check_files=False)
    return build_report(plan, scan_plan(plan, use_cache=False), generated_at=WHEN)


def _results_of(document: dict[str, Any], path: str) -> list[dict[str, Any]]:
    run = document["runs"][0]["results"]
    return [r for r in run if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == path]


# --- the replacements themselves -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb\nc\n", "z\na\nb\nc\nd\n"),  # insertions at the start and at the end of the text
        ("a\nb", "a\nb\nc"),  # no final line break, before or after
        ("a\nb\n", "a\n"),  # the last line deleted
        ("", "x = 1\n"),
        ("x = 1\n", ""),
        ("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n"),  # CRLF kept as it is
        ("s = '\x0c'\nb\n", "s = '\x0c'\nB\n"),  # a form feed is no line break in SARIF
        ("é = 'ü'\nb\n", "é = 'ü'\nawait b\n"),  # columns count code points
    ],
)
def test_replacements_turn_the_old_text_into_the_new(before: str, after: str) -> None:
    assert apply_replacements(before, replacements(before, after)) == after
    assert "".join(sarif_lines(before)) == before


def test_replacements_are_whole_lines_in_the_original() -> None:
    (only,) = replacements("a\nb\nc\n", "a\nawait b\nc\n")
    assert only == {
        "deletedRegion": {"startLine": 2, "startColumn": 1, "endLine": 3, "endColumn": 1},
        "insertedContent": {"text": "await b\n"},
    }


# --- the shop: every file's fix is apply's change ------------------------------------------------------


@pytest.fixture
def shop_fixes(shop: Path) -> tuple[Report, dict[str, FileFix]]:
    report = _report(shop)
    return report, fixes_for(report.plan, fixable_paths(report), use_cache=False)


def test_each_fix_is_the_whole_change_apply_would_make(shop: Path, shop_fixes: Any, tmp_path: Path) -> None:
    report, fixes = shop_fixes
    document = to_sarif(report, fixes)
    validate_sarif(document)
    assert set(fixes) == {"shop/handlers.py", "shop/service.py", "tests/test_service.py"}
    for path, fix in fixes.items():
        assert fix.no_fix is None, fix
        (carrier, *others) = _results_of(document, path)
        (sarif_fix,) = carrier["fixes"]
        # the change of service.py reaches its caller in handlers.py and the test that calls it
        change = compute_change(load_plan(shop / "migration_plan.yaml"), [path], use_cache=False)
        expected = {e.path: e.after.decode() for e in change.changed}
        assert [c["artifactLocation"]["uri"] for c in sarif_fix["artifactChanges"]][0] == path
        copy = tmp_path / path.replace("/", "_")
        shutil.copytree(shop, copy)
        changed = apply_fix(copy, sarif_fix)
        assert sorted(changed) == sorted(expected)
        assert {p: (copy / p).read_text() for p in changed} == expected
        assert compiles_and_passes_pyflakes(copy, changed) is None
        # one fix per file: the others would conflict with it, so they name the result that has it
        line = carrier["locations"][0]["physicalLocation"]["region"]["startLine"]
        for other in others:
            assert "fixes" not in other
            assert f"is on the result at {path}:{line}" in other["message"]["text"]
    service = fixes["shop/service.py"]
    assert [c["artifactLocation"]["uri"] for c in service.artifact_changes] == [
        "shop/service.py",
        "shop/handlers.py",
        "tests/test_service.py",
    ]


def test_a_blocked_file_gets_no_fix_and_says_why(shop: Path) -> None:
    # a property cannot become async: making fetch_name async blocks the change of service.py
    service = shop / "shop" / "service.py"
    service.write_text(
        service.read_text() + "\n\nclass Named:\n    @property\n    def name(self):\n        return count_users()\n"
    )
    report = _report(shop)
    fixes = fixes_for(report.plan, ["shop/service.py"], use_cache=False)
    reason = fixes["shop/service.py"].no_fix
    assert reason is not None and reason.startswith("apply is blocked at shop/service.py:")
    document = to_sarif(report, fixes)
    validate_sarif(document)
    results = _results_of(document, "shop/service.py")
    assert results and all("fixes" not in r and f"No fix: {reason}" in r["message"]["text"] for r in results)


def test_report_fixes_is_sarif_only_and_a_user_error_elsewhere(shop: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(shop)
    runner = CliRunner()
    wrong = runner.invoke(app, ["report", "--format", "markdown", "--fixes", "--no-cache"])
    assert wrong.exit_code == 2 and "--fixes needs --format sarif" in wrong.stderr
    # the right way round runs in tests/test_snapshots.py, whose SARIF snapshot must be valid too
    snapshot = json.loads((Path(__file__).parent / "snapshots" / "shop" / "report.sarif").read_text())
    results = validate_sarif(snapshot)
    assert sum(1 for r in results if "fixes" in r) == 3


# --- the bundled server: every fix, applied ---------------------------------------------------------

# The planned files in eight parts: one in the README's test command, the other seven in CI's corpus
# step, so that CI applies every fix (as scripts/check_sarif_fixes.py does for any project).
SAMPLE_EVERY = 8
PARTS = [pytest.param(part, marks=() if part == 0 else (CORPUS,)) for part in range(SAMPLE_EVERY)]


@pytest.fixture(scope="module")
def server_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bundled")
    ignore = shutil.ignore_patterns("__pycache__", ".asyncmigrate", ".pytest_cache")
    shutil.copytree(REPO / "server", root / "server", ignore=ignore)
    shutil.copy2(REPO / "migration_plan.yaml", root / "migration_plan.yaml")
    return root


@pytest.mark.parametrize("part", PARTS)
def test_bundled_server_fixes_apply_compile_and_pass_pyflakes(server_copy: Path, tmp_path: Path, part: int) -> None:
    report = _report(server_copy)
    sample = [p for p in fixable_paths(report) if in_sample(p, SAMPLE_EVERY, part)]
    assert sample, "the sample must not be empty"
    fixes = fixes_for(report.plan, sample)  # the module's copy: the call graph is cached once for all
    document = to_sarif(report, fixes)
    results = validate_sarif(document)
    with_fix = [r for r in results if "fixes" in r]
    assert len(with_fix) == sum(1 for f in fixes.values() if f.no_fix is None)
    blocked = [f for f in fixes.values() if f.no_fix is not None]
    assert all(f.no_fix and f.no_fix.startswith(("apply is blocked", "apply would change nothing")) for f in blocked)
    for result in with_fix:
        copy = tmp_path / "copy"
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(server_copy, copy, ignore=shutil.ignore_patterns(".asyncmigrate", "__pycache__"))
        (fix,) = result["fixes"]
        changed = apply_fix(copy, fix)
        assert compiles_and_passes_pyflakes(copy, changed) is None, result["message"]["text"]
