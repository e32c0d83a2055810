"""Apply every SARIF fix of a project's report, one at a time, each to a fresh copy of the project.

    python scripts/check_sarif_fixes.py [PROJECT] [--sarif FILE] [--only-every N]

PROJECT (default: the repository's own ``server/`` and ``migration_plan.yaml``, copied) is the directory of
a migration plan. The report is ``asyncmigrate report --format sarif --fixes`` (or the given ``--sarif``
log of that project). For each result carrying a fix, a copy of the project gets that fix's every
replacement, then ``python -m compileall -q`` and ``ruff check --select F`` run on the changed files.
Prints results, results with a fix, fixes applied cleanly, and each failure; exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from asyncmigrate.checks.check import scan_plan  # noqa: E402
from asyncmigrate.config.plan import load_plan  # noqa: E402
from asyncmigrate.reporting.model import build_report  # noqa: E402
from asyncmigrate.reporting.sarif import fixable_paths, fixes_for, to_sarif  # noqa: E402
from tests.sarif_helpers import apply_fix, compiles_and_passes_pyflakes, in_sample, validate_sarif  # noqa: E402

_IGNORE = shutil.ignore_patterns(".git", ".asyncmigrate", "__pycache__", ".venv", ".pytest_cache")


def bundled_project(into: Path) -> Path:
    """A copy of the repository's own server and plan: the report must not see the tool's own code."""
    project = into / "project"
    project.mkdir()
    shutil.copytree(REPO / "server", project / "server", ignore=_IGNORE)
    shutil.copy2(REPO / "migration_plan.yaml", project / "migration_plan.yaml")
    for extra in ("pyproject.toml",):
        if (REPO / extra).exists():
            shutil.copy2(REPO / extra, project / extra)
    return project


def sarif_with_fixes(project: Path) -> dict[str, Any]:
    plan = load_plan(project / "migration_plan.yaml", check_files=False)
    report = build_report(plan, scan_plan(plan))
    return to_sarif(report, fixes_for(plan, fixable_paths(report)))


def fix_path(result: dict[str, Any]) -> str:
    """The planned file whose change the fix is (the sample test picks files by its hash)."""
    return str(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])


def fix_key(result: dict[str, Any]) -> str:
    """A result's file and line, to name it."""
    location = result["locations"][0]["physicalLocation"]
    return f"{location['artifactLocation']['uri']}:{location['region']['startLine']}"


def check_fix(project: Path, result: dict[str, Any], scratch: Path) -> str | None:
    """``None`` when the fix applies to a copy of ``project`` and the changed files compile and pass pyflakes."""
    copy = scratch / "copy"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(project, copy, ignore=_IGNORE)
    (fix,) = result["fixes"]
    try:
        changed = apply_fix(copy, fix)
    except (AssertionError, OSError) as exc:
        return f"the fix does not apply: {exc!r}"
    return compiles_and_passes_pyflakes(copy, changed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, nargs="?", help="the directory of a migration plan")
    parser.add_argument("--sarif", type=Path, help="a SARIF log of PROJECT made with --fixes (else computed)")
    parser.add_argument("--only-every", type=int, default=1, help="check the fixes of files whose path hash is 0 mod N")
    options = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sarif-fixes-") as temp:
        scratch = Path(temp)
        project = options.project.resolve() if options.project else bundled_project(scratch)
        document = json.loads(options.sarif.read_text()) if options.sarif else sarif_with_fixes(project)
        results = validate_sarif(document)
        with_fix = [r for r in results if "fixes" in r]
        checked = [r for r in with_fix if in_sample(fix_path(r), options.only_every)]
        failures = []
        for result in checked:
            problem = check_fix(project, result, scratch)
            if problem is not None:
                failures.append((fix_key(result), problem))
                print(f"FAIL {fix_key(result)}: {problem}", flush=True)
    print(
        f"{len(results)} results, {len(with_fix)} with a fix, {len(checked)} checked, "
        f"{len(checked) - len(failures)} applied cleanly (compileall + ruff --select F), "
        f"{len(failures)} failed; {time.monotonic() - started:.0f} s"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
