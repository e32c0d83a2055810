"""``asyncmigrate init``: the facade's methods come from ``--class`` as in ``scan``; ids follow the rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asyncmigrate.checks.check import check
from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _phase_files(plan_path: Path) -> list[tuple[int, str, set[str]]]:
    return [(p.id, p.name, {e.path for e in p.files}) for p in load_plan(plan_path).phases]


def test_init_on_the_bundled_server_lists_the_committed_plan_per_phase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Options that restate the committed plan's facade and phase rules give back its 41 files,
    phase by phase, and ``check`` passes on the result without an edit."""
    shutil.copytree(REPO / "server", tmp_path / "server", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    committed = load_plan(REPO / "migration_plan.yaml")
    args = ["init", "--output", "plan.yaml", "--first-phase", str(committed.phases[0].id)]
    for factory in committed.facade.factories:
        args += ["--factory", factory]
    for cls in committed.facade.classes:
        args += ["--class", cls]
    for name in committed.facade.receiver_names:
        args += ["--receiver", name]
    for source in committed.source:
        args += ["--source", source]
    for tests in committed.tests:
        args += ["--tests", tests]
    for pattern in committed.exclude:
        args += ["--exclude", pattern]
    for callback in committed.async_callbacks:
        args += ["--async-callback", callback]
    rules = {
        "API endpoints": "server/api/*,server/auth/*",
        "Real-time handlers": "server/realtime/*",
        "High-impact services": "server/services/*",
        "Game and NPC systems": "server/game/*,server/commands/*,server/npc/*",
        "Test migration": "server/tests/*",
    }
    for name, patterns in rules.items():
        args += ["--phase", f"{name}={patterns}"]

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    expected = [(p.id, p.name, {e.path for e in p.files}) for p in committed.phases]
    written = _phase_files(tmp_path / "plan.yaml")
    assert written == expected
    assert sum(len(files) for _, _, files in written) == 41
    gate = check(load_plan(tmp_path / "plan.yaml", check_files=False), use_cache=False)
    assert gate.ok, [str(f) for f in gate.findings]


def _tree(root: Path) -> None:
    """A facade with two methods; callers that call it, only reference it, or call a non-method."""
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "store.py").write_text(
        "class Store:\n"
        "    def load(self, key):\n        return key\n\n"
        "    def save(self, key):\n        return key\n\n\n"
        "def get_store():\n    return Store()\n"
    )
    (root / "app" / "calls.py").write_text(
        "from app.store import get_store\n\n\ndef f():\n    return get_store().load(1)\n"
    )
    (root / "app" / "refs.py").write_text(
        "def register(registry, store):\n    registry.append(store.save)\n"  # a bound method kept: a use
    )
    (root / "app" / "other.py").write_text(
        "def close(store):\n    store.shutdown()\n"  # not a method of Store: not a facade call
    )


def test_init_discovers_the_methods_counts_references_and_keeps_empty_phases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = [
        "init",
        "--factory", "app.store.get_store",
        "--class", "app.store.Store",
        "--receiver", "store",
        "--source", "app",
        "--exclude", "app/store.py",
        "--phase", "Nothing yet=app/missing/*",
        "--phase", "Callers=app/calls.py",
        "--first-phase", "3",
        "--output", "plan.yaml",
    ]  # fmt: skip

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    assert _phase_files(tmp_path / "plan.yaml") == [
        (3, "Nothing yet", set()),
        (4, "Callers", {"app/calls.py"}),
        (5, "Remaining code", {"app/refs.py"}),
    ]
    assert check(load_plan(tmp_path / "plan.yaml"), use_cache=False).ok


def test_init_refuses_two_rules_of_one_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = ["init", "--factory", "app.store.get_store", "--phase", "A=app/calls.py", "--phase", "A=app/refs.py"]

    result = runner.invoke(app, args)

    assert result.exit_code == 2
    assert "'A' given twice" in result.stderr and "\n" not in result.stderr.strip()


def test_init_points_editors_at_the_plan_schema_and_the_line_survives_a_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asyncmigrate.config.plan import record_status
    from asyncmigrate.config.plan_schema import MODELINE_PREFIX, schema_path
    from asyncmigrate.types import FileStatus

    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = ["init", "--factory", "app.store.get_store", "--class", "app.store.Store", "--source", "app",
            "--exclude", "app/store.py", "--output", "plan.yaml"]  # fmt: skip

    assert runner.invoke(app, args).exit_code == 0
    first, *_ = (tmp_path / "plan.yaml").read_text().splitlines()
    assert first.startswith(MODELINE_PREFIX)
    target = Path(first[len(MODELINE_PREFIX) :])
    # The plan is outside the tool's tree here, so the path is absolute: the installed schema itself.
    assert target.is_absolute() and target.samefile(schema_path())
    plan = load_plan(tmp_path / "plan.yaml")
    record_status(plan, "app/calls.py", FileStatus.SKIPPED, {"action": "mark"}, reason="dead code")
    assert (tmp_path / "plan.yaml").read_text().splitlines()[0] == first


def test_the_schema_line_is_relative_when_the_schema_sits_under_the_plans_directory() -> None:
    from asyncmigrate.config.plan_schema import MODELINE_PREFIX, modeline, schema_path

    inside = schema_path().resolve().parents[2]  # the directory holding the asyncmigrate package
    assert modeline(inside) == MODELINE_PREFIX + "asyncmigrate/schemas/plan.schema.json"
    committed = (REPO / "migration_plan.yaml").read_text().splitlines()[0]
    assert committed == MODELINE_PREFIX + "asyncmigrate/schemas/plan.schema.json"
    assert (REPO / committed[len(MODELINE_PREFIX) :]).is_file()
