"""The framework adapters and the plan's ``frameworks:`` switch, on fixture codebases that are not server/.

Absent, the key enables every adapter (the caravan's change is the same as with all of them listed). Each
adapter switched off migrates nothing of its framework, and what only it could migrate is a blocker:
the caravan's ``app.state`` is then only a receiver named in the plan; its tests (run by pytest) and its
``MagicMock`` doubles block; the warehouse's ``unittest.TestCase`` blocks instead of turning into an
``IsolatedAsyncioTestCase``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.scan import scan
from asyncmigrate.cli import app
from asyncmigrate.config import plan_schema
from asyncmigrate.config.plan import FRAMEWORK_NAMES, load_plan, update_plan
from asyncmigrate.errors import PlanError
from asyncmigrate.frameworks import ADAPTERS, ALL, FRAMEWORK_OFF, Frameworks
from asyncmigrate.types import Resolution
from asyncmigrate.workflow.apply import ComputedChange, compute_change

ASSETS = Path(__file__).resolve().parent / "assets"


def _copy(tmp_path: Path, name: str, frameworks: list[str] | None = None) -> Path:
    root = tmp_path / name
    shutil.copytree(ASSETS / name, root, ignore=shutil.ignore_patterns("__pycache__", ".asyncmigrate"))
    if frameworks is not None:
        plan = root / "migration_plan.yaml"
        plan.write_text(plan.read_text() + f"frameworks: [{', '.join(frameworks)}]\n")
    return root


def _without(name: str) -> list[str]:
    return [n for n in FRAMEWORK_NAMES if n != name]


def _change(root: Path, target: str) -> ComputedChange:
    return compute_change(load_plan(root / "migration_plan.yaml"), [target], use_cache=False)


def _switched_off(change: ComputedChange) -> list[tuple[str, int]]:
    return sorted((b.path, b.line) for b in change.blockers if b.kind == FRAMEWORK_OFF)


# --- the registry and the plan key ------------------------------------------------------------------


def test_the_registry_the_plan_and_the_schema_name_the_same_adapters() -> None:
    assert tuple(ADAPTERS) == FRAMEWORK_NAMES
    assert plan_schema.plan_schema()["properties"]["frameworks"]["items"]["enum"] == list(FRAMEWORK_NAMES)
    assert ALL.enabled == frozenset(FRAMEWORK_NAMES)
    none = Frameworks.of(())
    assert not (none.async_callbacks or none.async_aware_decorators or none.fixture_decorators)
    assert not (none.depends_callables or none.async_aware_decorator_prefixes)


def test_an_absent_key_enables_every_adapter_and_a_listed_one_is_kept_on_save(tmp_path: Path) -> None:
    plan = load_plan(_copy(tmp_path, "caravan") / "migration_plan.yaml")
    assert Frameworks.of_plan(plan) == ALL
    listed = load_plan(_copy(tmp_path / "b", "caravan", ["pytest", "fastapi"]) / "migration_plan.yaml")
    assert Frameworks.of_plan(listed).enabled == {"pytest", "fastapi"}
    saved = update_plan(listed, lambda document: document.__setitem__("test_selection", "all"))
    assert saved.frameworks == ("pytest", "fastapi")
    assert "frameworks: [pytest, fastapi]" in saved.path.read_text()


@pytest.mark.parametrize("value", ["[fastapi, flask]", "[pytest, pytest]", "fastapi"])
def test_a_bad_frameworks_list_is_the_plans_file_line_error(tmp_path: Path, value: str) -> None:
    root = _copy(tmp_path, "caravan")
    plan = root / "migration_plan.yaml"
    lines = plan.read_text().splitlines()
    plan.write_text("\n".join([*lines, f"frameworks: {value}"]) + "\n")
    with pytest.raises(PlanError, match=rf"migration_plan.yaml:{len(lines) + 1}: frameworks"):
        load_plan(plan)
    result = CliRunner().invoke(app, ["status", "--plan", str(plan)])
    assert result.exit_code == 2, result.output


def test_the_default_changes_exactly_what_every_adapter_listed_changes(tmp_path: Path) -> None:
    default = _change(_copy(tmp_path / "a", "caravan"), "caravan/dispatch.py")
    listed = _change(_copy(tmp_path / "b", "caravan", list(FRAMEWORK_NAMES)), "caravan/dispatch.py")
    assert [(e.path, e.after) for e in default.edits] == [(e.path, e.after) for e in listed.edits]
    assert default.blockers == listed.blockers == []


# --- fastapi -------------------------------------------------------------------------------------------


def _resolutions(root: Path, path: str) -> set[Resolution]:
    plan = load_plan(root / "migration_plan.yaml")
    result = scan(root, FacadeSpec.from_plan(plan), plan=plan, use_cache=False)
    return {call.resolution for call in result.calls if call.path == path}


def test_with_fastapi_off_app_state_is_no_evidence_of_the_facade(tmp_path: Path) -> None:
    assert Resolution.APP_STATE in _resolutions(_copy(tmp_path / "on", "caravan"), "caravan/api.py")
    off = _resolutions(_copy(tmp_path / "off", "caravan", _without("fastapi")), "caravan/api.py")
    assert Resolution.APP_STATE not in off
    assert Resolution.RECEIVER_NAME in off  # `request.app.state.store`: only the plan's receiver name


DEPENDS_ENDPOINT = """\
from fastapi import Depends

from caravan.store import open_store


async def wagon_weight(wagon_id: int, depot=Depends(open_store)) -> int:
    return depot.get_wagon(wagon_id).weight
"""


def test_with_fastapi_off_a_depends_parameter_is_not_the_facade(tmp_path: Path) -> None:
    found = {}
    for name, frameworks in (("on", None), ("off", _without("fastapi"))):
        root = _copy(tmp_path / name, "caravan", frameworks)
        (root / "caravan" / "depot.py").write_text(DEPENDS_ENDPOINT)
        plan = load_plan(root / "migration_plan.yaml")
        calls = scan(root, FacadeSpec.from_plan(plan), plan=plan, use_cache=False).calls
        found[name] = [(c.line, c.resolution) for c in calls if c.path == "caravan/depot.py"]
    assert found["on"] == [(7, Resolution.DEPENDS)]
    assert found["off"] == []  # an unknown call's result, like any receiver the scan cannot resolve


# --- pytest --------------------------------------------------------------------------------------------


def test_with_pytest_off_a_test_turning_async_is_a_blocker(tmp_path: Path) -> None:
    on = _change(_copy(tmp_path / "on", "caravan"), "caravan/dispatch.py")
    assert _switched_off(on) == []
    assert any(e.path == "tests/test_dispatch.py" and b"async def test_" in e.after for e in on.edits)
    off = _change(_copy(tmp_path / "off", "caravan", _without("pytest")), "caravan/dispatch.py")
    blocked = _switched_off(off)
    assert ("tests/test_dispatch.py", 14) in blocked
    assert {path for path, _ in blocked} == {"tests/test_dispatch.py"}
    assert all("leave pytest out" in b.message for b in off.blockers if b.kind == FRAMEWORK_OFF)


FIXTURE_TURNING_ASYNC = """\
import pytest

from caravan.store import open_store


@pytest.fixture
def first_wagon():
    return open_store().get_wagon(1)


def test_first_wagon(first_wagon) -> None:
    assert first_wagon is not None
"""


def test_with_pytest_off_a_fixture_turning_async_is_a_blocker_not_a_coroutine(tmp_path: Path) -> None:
    results = {}
    for name, frameworks in (("on", None), ("off", _without("pytest"))):
        root = _copy(tmp_path / name, "caravan", frameworks)
        (root / "tests" / "test_first.py").write_text(FIXTURE_TURNING_ASYNC)
        results[name] = _change(root, "tests/test_first.py")
    assert results["on"].blockers == []
    assert b"async def first_wagon" in next(e.after for e in results["on"].edits if e.path == "tests/test_first.py")
    # pytest.fixture is then a decorator from outside the project the tool knows nothing of: a blocker
    blocked = {(b.path, b.line, b.kind) for b in results["off"].blockers}
    assert ("tests/test_first.py", 6, "decorator") in blocked


# --- unittest ------------------------------------------------------------------------------------------


def test_with_unittest_off_a_test_case_blocks_instead_of_turning_isolated_async(tmp_path: Path) -> None:
    on = _change(_copy(tmp_path / "on", "warehouse"), "warehouse/base.py")
    assert _switched_off(on) == []
    assert any(b"IsolatedAsyncioTestCase" in e.after for e in on.edits if e.path == "tests/test_counters.py")
    off = _change(_copy(tmp_path / "off", "warehouse", _without("unittest")), "warehouse/base.py")
    assert ("tests/test_counters.py", 9) in _switched_off(off)  # setUp: unittest calls it
    assert all("leave unittest out" in b.message for b in off.blockers if b.kind == FRAMEWORK_OFF)


# --- unittest.mock -------------------------------------------------------------------------------------


def test_with_unittest_mock_off_doubles_are_not_migrated_and_block(tmp_path: Path) -> None:
    on = _change(_copy(tmp_path / "on", "caravan"), "caravan/dispatch.py")
    assert any(b"AsyncMock" in e.after for e in on.edits if e.path == "tests/test_dispatch.py")
    off = _change(_copy(tmp_path / "off", "caravan", _without("unittest_mock")), "caravan/dispatch.py")
    assert not any(b"AsyncMock" in e.after for e in off.edits)
    # the first facade double of the module: `store.get_wagon.return_value = Wagon(1, 10)`
    assert ("tests/test_dispatch.py", 16) in _switched_off(off)
    assert all("leave unittest_mock out" in b.message for b in off.blockers if b.kind == FRAMEWORK_OFF)
    shown = json.dumps([b.to_json() for b in off.blockers])
    assert "unittest_mock" in shown


@pytest.mark.parametrize("frameworks", [None, _without("pytest")], ids=["all", "pytest-off"])
def test_check_builds_the_call_graph_with_the_plans_frameworks(tmp_path: Path, frameworks: list[str] | None) -> None:
    """``check``'s un-awaited analysis reads the graph ``apply`` reads: pytest's fixtures only with pytest on."""
    from asyncmigrate.checks.check import CheckContext

    root = _copy(tmp_path, "warehouse", frameworks)
    plan = load_plan(root / "migration_plan.yaml", check_files=False)
    project = CheckContext(plan, use_cache=False).project
    assert project.fixture_decorators == Frameworks.of_plan(plan).fixture_decorators
    assert bool(project.fixture_decorators) == (frameworks is None)
