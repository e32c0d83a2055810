"""Choosing the tests that cover a changed file, and running them with the plan's test command."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.plan import Plan, load_plan
from asyncmigrate.testrun import imported_modules, run_tests, select_tests

# A project unlike the bundled server: source under app/, tests in two roots (tests/ mirroring app/, and
# app/checks/ inside the package, reached by relative imports).
PROJECT = {
    "app/__init__.py": "",
    "app/db.py": "def get_db(): ...\n",
    "app/orders.py": "",
    "app/billing.py": "",
    "app/stock.py": "",
    "app/pkg/__init__.py": "",
    "app/pkg/sub.py": "x = 1\n",
    "app/web/views.py": "",
    "app/web/listed.py": "",
    "app/patched.py": "",
    "app/fixtures_only.py": "",
    "tests/__init__.py": "",
    "tests/test_orders.py": "import app.orders\n",
    "tests/test_billing_from.py": "from app import billing\n",
    "tests/test_deep.py": "from app.pkg.sub import x\n",
    "tests/test_unrelated.py": "import app.stockroom\nimport json\n",
    "tests/test_patching.py": "from unittest.mock import patch\n\n@patch('app.patched.helper')\ndef test_p(m): ...\n",
    "tests/test_broken.py": "def (:\n",
    "tests/helpers.py": "import app.orders  # not a test module\n",
    "tests/web/test_views.py": "def test_page(client): ...  # reaches views through an app fixture\n",
    "tests/web/test_views_errors.py": "def test_404(client): ...\n",
    "tests/test_views.py": "# named like it, but does not mirror app/web/\n",
    "tests/integration/conftest.py": "def setup():\n    from app.fixtures_only import thing\n",
    "tests/integration/test_flow.py": "",
    "tests/integration/deeper/test_more.py": "",
    "tests/other/test_alone.py": "",
    "app/checks/__init__.py": "",
    "app/checks/test_stock.py": "from .. import stock\n",
    "app/checks/stock_test.py": "from ..stock import level\n",
}


def _plan(root: Path, test_command: list[str] | None = None) -> Plan:
    for path, text in PROJECT.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    command = f"test_command: {json.dumps(test_command)}\n" if test_command else ""
    (root / "migration_plan.yaml").write_text(
        textwrap.dedent(
            """\
            version: 1
            source: app
            tests: [tests, app/checks]
            facade: {factories: [app.db.get_db]}
            phases:
              - id: 1
                files:
                  - {path: app/web/listed.py, tests: [tests/other/test_alone.py, "tests/test_deep.py::test_x"]}
                  - {path: app/orders.py}
            """
        )
        + command
    )
    return load_plan(root / "migration_plan.yaml")


@pytest.mark.parametrize(
    ("touched", "expected"),
    [
        (["app/orders.py"], ["tests/test_orders.py"]),  # import a.b
        (["app/billing.py"], ["tests/test_billing_from.py"]),  # from a import b
        (["app/pkg/sub.py"], ["tests/test_deep.py"]),  # from a.b import c
        (["app/pkg/__init__.py"], ["tests/test_deep.py"]),  # importing a.b.c runs a/b/__init__.py
        (["app/stock.py"], ["app/checks/stock_test.py", "app/checks/test_stock.py"]),  # relative imports
        (["app/patched.py"], ["tests/test_patching.py"]),  # patch("a.b.f") imports a.b
        (["app/web/views.py"], ["tests/web/test_views.py", "tests/web/test_views_errors.py"]),  # mirrored names
        (["app/web/listed.py"], ["tests/other/test_alone.py", "tests/test_deep.py::test_x"]),  # the plan's list
        (["tests/test_orders.py"], ["tests/test_orders.py"]),  # a test module selects itself
        (["app/checks/stock_test.py"], ["app/checks/stock_test.py"]),
        (
            ["app/fixtures_only.py"],  # imported by a conftest: every test module it serves
            ["tests/integration/deeper/test_more.py", "tests/integration/test_flow.py"],
        ),
        (
            ["tests/integration/conftest.py"],
            ["tests/integration/deeper/test_more.py", "tests/integration/test_flow.py"],
        ),
        (["app/db.py"], []),
        (["tests/helpers.py"], []),
        (
            ["app/orders.py", "app/billing.py", "tests/test_orders.py", "app/orders.py"],  # sorted, unique
            ["tests/test_billing_from.py", "tests/test_orders.py"],
        ),
    ],
)
def test_select_tests(tmp_path: Path, touched: list[str], expected: list[str]) -> None:
    assert select_tests(_plan(tmp_path), touched) == expected


def test_imported_modules_reads_every_import_form() -> None:
    source = b"import a.b as c, d\nfrom e.f import g\nfrom . import h\nfrom ..i import j\nfrom k import *\n"
    source += b"def t():\n    import lazy.inner\n    importlib.import_module('dyn.mod')\n    patch('not dotted')\n"

    names = imported_modules("pkg/tests/test_x.py", source)

    assert names == {"a.b", "d", "e.f", "e.f.g", "pkg.tests", "pkg.tests.h", "pkg.i", "pkg.i.j", "k"} | {
        "lazy.inner",
        "dyn",
        "dyn.mod",
    }
    assert imported_modules("pkg/test_x.py", b"from ... import far\n") == set()  # climbs above the root
    assert imported_modules("test_x.py", b"def (:\n") == set()


# --- running ---------------------------------------------------------------------------------------------

RUNNER = textwrap.dedent(
    """
    import os, subprocess, sys, time
    args = sys.argv[1:]
    print("cwd", os.getcwd())
    print("probe", os.environ.get("ASYNCMIGRATE_PROBE"))
    print("args", " ".join(args))
    for i in range(100):
        print("line", i, file=sys.stderr if i % 2 else sys.stdout)
    if "sleep" in args:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open("grandchild.pid", "w").write(str(child.pid))
        time.sleep(60)
    sys.exit(3 if "fail" in args else 0)
    """
)


def _runner_plan(tmp_path: Path) -> Plan:
    (tmp_path / "runner.py").write_text(RUNNER)
    return _plan(tmp_path, [sys.executable, "runner.py"])


def test_run_tests_appends_the_paths_and_keeps_the_tail(tmp_path: Path) -> None:
    run = run_tests(_runner_plan(tmp_path), ["tests/test_orders.py", "tests/test_deep.py"])

    assert run.passed and run.returncode == 0 and run.ran
    assert run.command == (sys.executable, "runner.py")
    assert run.test_paths == ("tests/test_orders.py", "tests/test_deep.py")
    assert run.duration > 0
    lines = run.output_tail.splitlines()
    assert len(lines) == 40 and lines[-1] == "line 99"  # stdout and stderr together, the last 40 lines


def test_run_tests_reports_a_failure_with_the_tail(tmp_path: Path) -> None:
    plan = _runner_plan(tmp_path)
    run = run_tests(plan, ["fail"])

    assert not run.passed and run.returncode == 3
    assert "line 99" in run.output_tail


def test_run_tests_runs_in_the_plan_root_with_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCMIGRATE_PROBE", "inherited")
    monkeypatch.chdir(tmp_path.parent)  # not where the plan is
    plan = _runner_plan(tmp_path)
    # Only the first lines carry cwd and the probe: a tail of 40 lines would cut them, so read them whole.
    (tmp_path / "runner.py").write_text(RUNNER.replace("range(100)", "range(0)"))

    run = run_tests(plan, ["x"])

    assert f"cwd {tmp_path}" in run.output_tail and "probe inherited" in run.output_tail
    assert "args x" in run.output_tail


def test_run_tests_without_a_selection_runs_nothing(tmp_path: Path) -> None:
    run = run_tests(_plan(tmp_path, ["no-such-command-anywhere"]), [])

    assert run.passed and run.returncode is None and not run.ran and run.test_paths == ()


def test_run_tests_with_a_missing_command_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(AsyncMigrateError, match="test command not found: no-such-command-anywhere"):
        run_tests(_plan(tmp_path, ["no-such-command-anywhere", "-q"]), ["tests/test_orders.py"])


def test_run_tests_stops_a_command_that_runs_too_long(tmp_path: Path) -> None:
    run = run_tests(_runner_plan(tmp_path), ["sleep"], timeout=2)

    assert not run.passed and run.returncode is not None
    assert run.output_tail.endswith("the test command did not finish within 2 s and was stopped")
    assert "line 99" in run.output_tail
    assert run.duration < 30
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)  # the whole process group was stopped, not only the runner


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie nobody has reaped yet is dead all the same
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
