"""Choosing the tests that cover a changed file, and running them with the plan's test command."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from asyncmigrate.config.plan import Plan, load_plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.workflow.testrun import (
    NEVER_AWAITED_FAILURE,
    PYTEST_STRICT_WARNINGS,
    imported_modules,
    run_tests,
    select_tests,
    verification_command,
)

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
    # a chain of imports: tests/test_api.py -> app.api -> app.service -> app.core
    "app/core.py": "",
    "app/service.py": "from app import core\n",
    "app/api.py": "from .service import run\n",
    "tests/test_api.py": "import app.api\n",
    "tests/test_service.py": "def test_run(client): ...  # mirrors app/service.py, reaches it through a fixture\n",
    "tests/uses_helper_test.py": "from tests.helpers import thing\n",
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
        (["app/orders.py"], ["tests/test_orders.py", "tests/uses_helper_test.py"]),  # import a.b (helpers too)
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
        # through other project modules: the importers of the importers, and the tests named after them
        (["app/core.py"], ["tests/test_api.py", "tests/test_service.py"]),
        (["app/service.py"], ["tests/test_api.py", "tests/test_service.py"]),
        (["tests/helpers.py"], ["tests/uses_helper_test.py"]),
        (
            ["app/orders.py", "app/billing.py", "tests/test_orders.py", "app/orders.py"],  # sorted, unique
            ["tests/test_billing_from.py", "tests/test_orders.py", "tests/uses_helper_test.py"],
        ),
    ],
)
def test_select_tests(tmp_path: Path, touched: list[str], expected: list[str]) -> None:
    assert select_tests(_plan(tmp_path), touched) == expected


def test_select_tests_adds_the_related_test_files(tmp_path: Path) -> None:
    plan = _plan(tmp_path)

    # a test module as itself, a conftest as the modules it serves, a helper as the modules importing it
    related = ["tests/web/test_views.py", "tests/integration/conftest.py", "tests/helpers.py"]
    assert select_tests(plan, ["app/db.py"], related=related) == [
        "tests/integration/deeper/test_more.py",
        "tests/integration/test_flow.py",
        "tests/uses_helper_test.py",
        "tests/web/test_views.py",
    ]


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


# --- a verification run: a coroutine never awaited fails it -------------------------------------------------

LEAK = textwrap.dedent(
    """
    async def work():
        return 1


    def test_forgets_to_await():
        work()  # a coroutine object nobody awaits: pytest alone only warns


    def test_fine():
        assert True
    """
)


def _pytest_plan(tmp_path: Path) -> Plan:
    plan = _plan(tmp_path, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    (tmp_path / "tests/test_leak.py").write_text(LEAK)
    return plan


@pytest.mark.parametrize(
    ("command", "strict"),
    [
        (["python", "-m", "pytest", "-q"], True),
        (["/venv/bin/pytest"], True),
        (["py.test", "-x"], True),
        (["python", "runner.py"], False),
        (["tox", "-e", "py"], False),
    ],
)
def test_verification_command_makes_pytest_warnings_errors(command: list[str], strict: bool) -> None:
    expected = (*command, *PYTEST_STRICT_WARNINGS) if strict else tuple(command)
    assert verification_command(command) == expected


def test_a_test_that_leaves_a_coroutine_unawaited_fails_the_verification(tmp_path: Path) -> None:
    plan = _pytest_plan(tmp_path)

    run = run_tests(plan, ["tests/test_leak.py::test_forgets_to_await"])

    assert not run.passed and run.returncode != 0, run.output_tail
    assert "never awaited" in run.output_tail
    assert run_tests(plan, ["tests/test_leak.py::test_fine"]).passed


def test_an_exception_nobody_can_catch_fails_the_verification(tmp_path: Path) -> None:
    plan = _pytest_plan(tmp_path)
    (tmp_path / "tests/test_finalizer.py").write_text(
        "class Leaky:\n    def __del__(self):\n        raise ValueError('lost')\n\n\n"
        "def test_drops_it():\n    Leaky()\n"
    )

    run = run_tests(plan, ["tests/test_finalizer.py"])

    assert not run.passed and "PytestUnraisableExceptionWarning" in run.output_tail, run.output_tail


def test_never_awaited_in_the_output_of_any_command_fails_the_run(tmp_path: Path) -> None:
    plan = _runner_plan(tmp_path)
    (tmp_path / "runner.py").write_text(
        "print(\"sys:1: RuntimeWarning: coroutine 'load' was never awaited\")\nprint('all good')\n"
    )

    run = run_tests(plan, ["x"])

    assert run.returncode == 0 and not run.passed
    assert run.output_tail.endswith(NEVER_AWAITED_FAILURE)
    assert "coroutine 'load' was never awaited" in run.output_tail
    assert run.command == (sys.executable, "runner.py")  # not pytest: no options added


# --- apply: "verified" means the tests that can reach the change passed ---------------------------------------

INDIRECT = {
    "app/__init__.py": "",
    "app/db.py": (
        "class Database:\n    def fetch(self, key):\n        return key\n\n\ndef get_db():\n    return Database()\n"
    ),
    "app/repos.py": (
        "class ItemRepo:\n    async def get(self, key):\n        return key\n\n\n"
        "def get_item_repo():\n    return ItemRepo()\n"
    ),
    "app/svc.py": "from app.db import get_db\n\n\ndef load(key):\n    db = get_db()\n    return db.fetch(key)\n",
    # imports the migrated module and leans on what the migration removes from it (its get_db import)
    "app/summary.py": "from app import svc\n\n\ndef backend():\n    return svc.get_db.__module__\n",
    "tests/__init__.py": "",
    "tests/test_svc.py": "from app import svc\n\n\ndef test_load_is_there():\n    assert hasattr(svc, 'load')\n",
    "tests/test_summary.py": (
        "from app import summary\n\n\ndef test_backend():\n    assert summary.backend() == 'app.db'\n"
    ),
}
INDIRECT_PLAN = """
version: 1
source: app
tests: tests
exclude: [app/db.py, app/repos.py]
facade:
  factories: [app.db.get_db]
  classes: [app.db.Database]
repositories:
  item: {class: app.repos.ItemRepo, provider: app.repos.get_item_repo, attribute: item_repo}
mappings:
  fetch: item.get
phases:
  - id: 1
    files:
      - {path: app/svc.py}
"""


def test_a_file_whose_indirect_test_fails_ends_failed_and_restored(tmp_path: Path) -> None:
    from asyncmigrate.types import FileStatus
    from asyncmigrate.workflow.apply import apply_files

    for path, text in INDIRECT.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    command = json.dumps([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    (tmp_path / "migration_plan.yaml").write_text(INDIRECT_PLAN + f"test_command: {command}\n")
    before = {path: (tmp_path / path).read_text() for path in INDIRECT}

    plan, [result] = apply_files(load_plan(tmp_path / "migration_plan.yaml"), ["app/svc.py"], use_cache=False)

    assert result.change.blockers == [] and result.written
    # the direct test passes on the migrated file; the test of its importer is what fails
    assert result.test_paths == ("tests/test_summary.py", "tests/test_svc.py")
    assert result.status is FileStatus.FAILED and result.test_passed is False, result.test_output
    assert "test_backend" in result.test_output
    assert {path: (tmp_path / path).read_text() for path in INDIRECT} == before
    entry = plan.entry("app/svc.py")
    assert entry is not None and entry.status is FileStatus.FAILED
    assert entry.history[-1]["test_result"]["test_modules"] == ["tests/test_summary.py", "tests/test_svc.py"]


@pytest.mark.parametrize("how", ["argument", "plan"])
def test_the_whole_suite_runs_with_tests_all(tmp_path: Path, how: str) -> None:
    from asyncmigrate.types import FileStatus
    from asyncmigrate.workflow.apply import apply_files

    for path, text in {**INDIRECT, "app/summary.py": "", "tests/test_summary.py": ""}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "tests/test_elsewhere.py").write_text(LEAK)  # reaches nothing the change touches
    command = json.dumps([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    default = "test_selection: all\n" if how == "plan" else ""
    (tmp_path / "migration_plan.yaml").write_text(INDIRECT_PLAN + f"test_command: {command}\n" + default)
    plan = load_plan(tmp_path / "migration_plan.yaml")

    _, [result] = apply_files(plan, ["app/svc.py"], use_cache=False, all_tests=True if how == "argument" else None)

    assert result.test_paths == ("tests",)
    # the whole suite holds a test that leaves a coroutine un-awaited: not verified
    assert result.status is FileStatus.FAILED and "never awaited" in result.test_output


def test_the_test_command_runs_the_whole_suite_with_tests_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from asyncmigrate.cli import app

    _runner_plan(tmp_path)
    (tmp_path / "runner.py").write_text("import sys\nprint('args', *sys.argv[1:])\n")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    result = runner.invoke(app, ["test", "--tests", "all"])
    assert result.exit_code == 0, result.output
    assert "runner.py tests app/checks\n" in result.output  # the plan's tests roots, not a selection

    result = runner.invoke(app, ["test"])
    assert result.exit_code == 2 and "give FILE... whose tests to run, or --tests all" in result.output

    plan = tmp_path / "migration_plan.yaml"
    plan.write_text(plan.read_text() + "test_selection: all\n")  # the plan's default
    result = runner.invoke(app, ["test"])
    assert result.exit_code == 0 and "runner.py tests app/checks\n" in result.output, result.output


def test_test_selection_in_the_plan_is_selected_or_all(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "migration_plan.yaml").write_text(INDIRECT_PLAN + "test_selection: some\n")
    with pytest.raises(AsyncMigrateError, match=r"migration_plan.yaml:\d+: test_selection: must be selected or all"):
        load_plan(tmp_path / "migration_plan.yaml", check_files=False)
