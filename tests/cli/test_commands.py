from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan

SCHEMAS = Path(__file__).parents[2] / "asyncmigrate" / "schemas"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_shop(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shop)


def test_scan_table_and_fail_on() -> None:
    result = runner.invoke(app, ["scan", "--calls"])
    assert result.exit_code == 0, result.output
    assert "shop/handlers.py:8:12" in result.output and "blocks the event loop" in result.output
    assert runner.invoke(app, ["scan", "--fail-on", "blocking"]).exit_code == 1
    assert runner.invoke(app, ["scan", "--fail-on", "any"]).exit_code == 1
    assert runner.invoke(app, ["scan", "tests", "--fail-on", "blocking"]).exit_code == 0


def test_scan_json_is_only_the_document() -> None:
    result = runner.invoke(app, ["scan", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads((SCHEMAS / "scan.schema.json").read_text()))
    assert document["summary"]["blocking"] == 1


def test_scan_without_a_plan_uses_the_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app.py").write_text("from lib import connect\nconn = connect()\nconn.query(1)\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["scan", "--factory", "lib.connect", "--format", "json", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["call_sites"] == 1


def test_status_json_counts_phases() -> None:
    result = runner.invoke(app, ["status", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads((SCHEMAS / "status.schema.json").read_text()))
    assert document["total"] == 3 and document["migrated"] == 0
    assert [(p["id"], p["files"]) for p in document["phases"]] == [(1, 1), (2, 2)]
    assert document["effort_remaining_hours"] == round(35 / 60, 2)
    only = json.loads(runner.invoke(app, ["status", "--phase", "2", "--format", "json"]).stdout)
    assert [p["id"] for p in only["phases"]] == [2]


def test_status_table_shows_bars_and_effort() -> None:
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "Phase 1" in result.output and "0/1 migrated" in result.output
    assert "0/3 files migrated" in result.output


def test_mark_skipped_keeps_the_reason_in_history(shop: Path) -> None:
    result = runner.invoke(app, ["mark", "shop/service.py", "--status", "skipped", "--reason", "to be removed"])
    assert result.exit_code == 0, result.output
    entry = load_plan(shop / "migration_plan.yaml").entry("shop/service.py")
    assert entry is not None and entry.status.value == "skipped" and entry.reason == "to be removed"
    assert entry.history[-1]["reason"] == "to be removed"
    # skipped files need no more effort
    document = json.loads(runner.invoke(app, ["status", "--format", "json"]).stdout)
    assert document["effort_remaining_hours"] == round(20 / 60, 2)


@pytest.mark.parametrize(
    "args, message",
    [
        (["mark", "shop/nope.py", "--status", "skipped", "--reason", "x"], "not in migration_plan.yaml"),
        (["mark", "shop/service.py", "--status", "skipped"], "needs a --reason"),
        (["status", "--phase", "9"], "no phase 9"),
        (["scan", "missing_dir"], "no such file or directory"),
    ],
)
def test_input_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "old, new",
    [
        ("source: shop", "source: shop\nsorce: shop"),
        ("fetch_user: user.find", "fetch_user: users.find"),
        ("test_command: [python, -m, pytest, -q]", "test_command: []"),
        ("effort_minutes: 15", "effort_minutes: [15]"),
    ],
)
def test_malformed_plan_exits_2_with_the_place(shop: Path, old: str, new: str) -> None:
    plan = shop / "migration_plan.yaml"
    plan.write_text(plan.read_text().replace(old, new, 1))
    for command in (["scan"], ["status"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        line = result.stderr.strip()
        assert "\n" not in line and "migration_plan.yaml:" in line


def test_init_writes_a_plan_by_rules_and_refuses_to_overwrite(shop: Path) -> None:
    target = shop / "new_plan.yaml"
    args = [
        "init",
        "--factory",
        "shop.db.get_db",
        "--class",
        "shop.db.Database",
        "--receiver",
        "db",
        "--source",
        "shop",
        "--tests",
        "tests",
        "--exclude",
        "shop/db.py",
        "--exclude",
        "shop/repos.py",
        "--phase",
        "Handlers=shop/handlers.py",
        "--first-phase",
        "2",
        "--output",
        str(target),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert "Fill in the async repositories" in text
    plan = load_plan(target)
    assert [(p.id, p.name, [e.path for e in p.files]) for p in plan.phases] == [
        (2, "Handlers", ["shop/handlers.py"]),
        (3, "Remaining code", ["shop/service.py"]),
        (4, "Tests", ["tests/test_service.py"]),
    ]
    service = plan.entry("shop/service.py")
    assert service is not None and service.complexity in ("low", "medium", "high") and service.effort_minutes >= 5
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0


def test_graph_to_a_pipe_keeps_every_line_whole(capsys: pytest.CaptureFixture[str]) -> None:
    # A terminal gets the tree at its width; a pipe or file (grep, a CI log) must not get paths cut at 80.
    from asyncmigrate import render

    deep = "tests/" + "/".join(f"package_{n}" for n in range(8)) + "/test_a_long_module_name.py"
    chain = ("service.fetch", "handler.serve", "test_the_handler")
    render.propagation_tree(
        "service.py",
        {function: chain[: index + 1] for index, function in enumerate(chain)},
        [],
        sites={"test_the_handler": (deep, 1234, "test_the_handler")},
    )
    out = capsys.readouterr().out
    assert f"{deep}:1234" in out
    assert len(max(out.splitlines(), key=len)) > 80


def test_apply_hears_each_files_outcome_before_the_next_file_is_applied(shop: Path) -> None:
    # `apply --all` over a real plan runs tests for minutes per file: each outcome is shown as it happens.
    from asyncmigrate.workflow.apply import ApplyResult, apply_files

    heard: list[tuple[ApplyResult, dict[str, str]]] = []

    def on_result(result: ApplyResult) -> None:
        on_disk = load_plan(shop / "migration_plan.yaml")
        heard.append((result, {e.path: e.status.value for p in on_disk.phases for e in p.files}))

    targets = ["shop/handlers.py", "shop/service.py"]
    _, results = apply_files(load_plan(shop / "migration_plan.yaml"), targets, run_tests=False, on_result=on_result)
    assert [result for result, _ in heard] == results and [r.change.targets for r in results] == [(t,) for t in targets]
    assert heard[0][1]["shop/handlers.py"] == "migrated" and heard[0][1]["shop/service.py"] == "pending"
    assert heard[1][1]["shop/service.py"] == "migrated"


def test_tables_print_paths_and_names_as_written_never_as_markup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rich reads ``[tenant]`` in a string as a style tag and drops it: a route directory named so printed
    as ``app//views.py``. Paths, phase names and plan text reach the tables and lines verbatim."""
    (tmp_path / "app" / "[tenant]").mkdir(parents=True)
    (tmp_path / "app" / "persistence.py").write_text(
        "class Store:\n    def get_user(self, key):\n        return key\n\n\ndef get_store():\n    return Store()\n"
    )
    (tmp_path / "app" / "[tenant]" / "views.py").write_text(
        "from app.persistence import get_store\n\n\ndef show(key):\n    return get_store().get_user(key)\n"
    )
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "--factory", "app.persistence.get_store"]).exit_code == 0
    plan = tmp_path / "migration_plan.yaml"
    plan.write_text(plan.read_text().replace("name: Remaining code", "name: '[bold]tenants[/bold]'"))
    scanned = runner.invoke(app, ["scan", "--calls"])
    assert scanned.exit_code == 0, scanned.output
    assert "│ app/[tenant]/views.py │" in scanned.output
    assert "app/[tenant]/views.py:5:12: get_store().get_user" in scanned.output
    shown = runner.invoke(app, ["status"])
    assert shown.exit_code == 0, shown.output
    assert "app/[tenant]/views.py" in shown.output and "[bold]tenants[/bold]" in shown.output
