"""The edit plan: emitted by ``apply --dry-run --emit-edits``, made by LibCST's runner in parallel workers
exactly as ``apply`` makes it, refused when stale; the codemods never import the orchestration."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from asyncmigrate.config.plan import load_plan
from asyncmigrate.migration.edits import EditPlan, file_edits
from asyncmigrate.migration.propagate import AWAIT, CallEdit, FunctionEdit, PropagationPlan
from asyncmigrate.workflow.apply import plan_edits, planned_targets, write_edit_plan

ROOT = Path(__file__).resolve().parents[1]
CHAIN = ROOT / "tests" / "data" / "apply" / "chain_across_files"
CARAVAN = ROOT / "tests" / "assets" / "caravan"
CARAVAN_GOLDEN = ROOT / "tests" / "data" / "caravan" / "after"
SCHEMA = json.loads((ROOT / "asyncmigrate" / "schemas" / "edits.schema.json").read_text())
# two planned files of the bundled server whose changes reach other files (callers, tests)
SERVER_TARGETS = ["server/api/players.py", "server/services/user_manager.py"]


def _codemod(project: Path, edits: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    """LibCST's runner with two workers, run from the project root as a user runs it."""
    shutil.copy(ROOT / ".libcst.codemod.yaml", project / ".libcst.codemod.yaml")
    command = [sys.executable, "-m", "libcst.tool", "codemod", "-j2", "apply_edits.ApplyEditsCommand"]
    command += ["--hide-progress", "--edits", str(edits), *paths]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=600)


def _python_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.py"))
        if ".asyncmigrate" not in p.parts and "__pycache__" not in p.parts
    }


def _emit(project: Path, targets: list[str], destination: Path) -> EditPlan:
    plan = load_plan(project / "migration_plan.yaml")
    document, _ = plan_edits(plan, targets, use_cache=False)
    write_edit_plan(document, destination)
    return document


def test_the_emitted_plan_follows_its_schema_and_reads_back(tmp_path: Path) -> None:
    project = tmp_path / "chain"
    shutil.copytree(CHAIN / "before", project)
    destination = tmp_path / "edits.json"
    document = _emit(project, ["app/storage.py"], destination)
    data = json.loads(destination.read_text())
    jsonschema.validate(data, SCHEMA)
    assert EditPlan.from_json(data).to_json() == data
    (step,) = document.steps
    kinds = {name for f in step.files for name in ("rewrites", "functions", "calls") if getattr(f, name)}
    assert kinds == {"rewrites", "functions", "calls"}
    assert all(r.node.text.endswith(r.method) for f in step.files for r in f.rewrites)
    # each rewrite carries its decision: the text written in place of the call, in the propagated text
    rewrites = [r for f in step.files for r in f.rewrites]
    assert all(r.replace and r.replace[0].node.text.startswith(r.receiver) for r in rewrites)
    assert "await item_repo.get(key)" in {x.text for r in rewrites for x in r.replace}
    (storage,) = [f for f in step.files if f.rewrites]
    assert [(e.node.text, e.remove, e.insert_after) for e in storage.statements] == [
        ("db = get_db()", True, ("item_repo = get_item_repo()",))
    ]
    assert ("add", "app.repos", "get_item_repo") in {(i.action, i.module, i.name) for i in storage.imports}
    # a document from another version, the one before the rewrites carried their decision included, is
    # refused in one line, not half read
    for version in (99, 1):
        with pytest.raises(Exception, match=f"version {version}; this asyncmigrate reads version 2") as refused:
            EditPlan.from_json({**data, "version": version})
        assert "\n" not in str(refused.value)


def test_libcst_runner_makes_the_plan_as_apply_does(tmp_path: Path) -> None:
    project = tmp_path / "chain"
    shutil.copytree(CHAIN / "before", project)
    edits = tmp_path / "edits.json"
    _emit(project, ["app/storage.py"], edits)
    result = _codemod(project, edits, "app", "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    expected = _python_files(CHAIN / "after")
    assert _python_files(project) == expected


@pytest.mark.parametrize("plan_file", ["deleted", "altered"])
def test_the_runner_never_reads_the_migration_plan(tmp_path: Path, plan_file: str) -> None:
    """The edit plan holds the decisions: with the migration plan gone, or saying something else, the
    runner writes what the plan said when the edit plan was made."""
    project = tmp_path / "chain"
    shutil.copytree(CHAIN / "before", project)
    edits = tmp_path / "edits.json"
    _emit(project, ["app/storage.py"], edits)
    plan = project / "migration_plan.yaml"
    if plan_file == "deleted":
        plan.unlink()
    else:  # another provider and another target: deciding again would write other code
        text = plan.read_text()
        altered = text.replace("app.repos.get_item_repo", "app.repos.other_repo").replace("item.get", "item.put")
        assert altered != text
        plan.write_text(altered)
    result = _codemod(project, edits, "app", "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _python_files(project) == _python_files(CHAIN / "after")


def test_the_runner_makes_every_call_form_of_the_caravan_without_its_plan(tmp_path: Path) -> None:
    """Thread hops, async twins, bound methods, adapters, parameter objects, received facades: the
    recorded rewrites of ``apply --all`` replayed by the runner, the migration plan deleted first."""
    project = tmp_path / "caravan"
    shutil.copytree(CARAVAN, project, ignore=shutil.ignore_patterns("__pycache__", ".asyncmigrate"))
    before = _python_files(project)
    edits = tmp_path / "edits.json"
    plan = load_plan(project / "migration_plan.yaml")
    document, _ = plan_edits(plan, planned_targets(plan, [], None, True), use_cache=False)
    write_edit_plan(document, edits)
    kinds = {x.node.kind for s in document.steps for f in s.files for r in f.rewrites for x in r.replace}
    assert kinds == {"Call", "Await"}
    (project / "migration_plan.yaml").unlink()
    result = _codemod(project, edits, "caravan", "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    golden = {p.relative_to(CARAVAN_GOLDEN).as_posix(): p.read_bytes() for p in CARAVAN_GOLDEN.rglob("*.py")}
    assert golden
    assert _python_files(project) == {**before, **golden}


def _loaded(codemods: list[str], unwanted: str) -> str:
    """The modules of the package importing ``codemods`` loads for which ``unwanted`` (a Python
    expression on the module name ``m``) holds, comma-separated."""
    code = (
        "import importlib, sys\n"
        f"for name in {codemods!r}:\n"
        "    importlib.import_module('asyncmigrate.codemods.' + name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] == 'asyncmigrate' and {unwanted})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_runner_loads_neither_the_rewrite_decision_nor_the_analysis() -> None:
    deciding = {"codemods.rewrite_facade_calls", "analysis.resolver", "analysis.collector", "analysis.facade"}
    assert _loaded(["apply_edits"], f"m.split('.', 1)[-1] in {sorted(deciding)!r}") == ""


def test_a_stale_edit_is_refused_with_its_line(tmp_path: Path) -> None:
    project = tmp_path / "chain"
    shutil.copytree(CHAIN / "before", project)
    edits = tmp_path / "edits.json"
    document = _emit(project, ["app/storage.py"], edits)
    service = project / "app" / "service.py"
    planned = next(f for f in document.steps[0].files if f.path == "app/service.py")
    first = min(ref.line for ref, _ in planned.identities())
    lines = service.read_text().splitlines(keepends=True)
    lines.insert(first - 1, "# a line added after the plan was made\n")  # every planned node moves down
    service.write_text("".join(lines))
    changed = service.read_bytes()
    result = _codemod(project, edits, "app/service.py")
    assert result.returncode != 0
    assert f"app/service.py:{first}: stale edit" in result.stdout + result.stderr
    assert service.read_bytes() == changed  # nothing was written to it


def test_run_alone_the_rewrite_never_awaits_inside_a_plain_def(tmp_path: Path) -> None:
    project = tmp_path / "chain"
    shutil.copytree(CHAIN / "before", project)
    shutil.copy(ROOT / ".libcst.codemod.yaml", project / ".libcst.codemod.yaml")
    storage = project / "app" / "storage.py"
    before = storage.read_bytes()
    command = [sys.executable, "-m", "libcst.tool", "codemod", "rewrite_facade_calls.RewriteFacadeCallsCommand"]
    command += ["--hide-progress", "--plan", "migration_plan.yaml", "app/storage.py"]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    after = storage.read_text()
    compile(after, "app/storage.py", "exec")  # an ``await`` in a plain def would not compile
    assert "await" not in after
    # the calls to async repositories are left, each warned about with its line ...
    assert after.count(".fetch(key)") == before.count(b".fetch(key)") == 2
    assert "get_db().store(" in after
    for line in (9, 13, 20):
        assert f"app/storage.py:{line}: " in result.stderr and "would be awaited inside `def" in result.stderr
    # ... while a call to a sync repository (``awaitable: false``) is still rewritten
    assert "get_label_cache().find(key)" in after


def test_no_codemod_imports_the_orchestration() -> None:
    modules = sorted(p.stem for p in (ROOT / "codemods").glob("*.py") if p.stem != "__init__")
    orchestration = "m.split('.')[1:2] and m.split('.')[1] in ('workflow', 'checks', 'reporting', 'render', 'cli')"
    assert _loaded(modules, orchestration) == ""
    assert "apply_edits" in modules


def _git_project(source: Path, destination: Path) -> Path:
    destination.mkdir()
    shutil.copytree(source / "server", destination / "server")
    shutil.copy(source / "migration_plan.yaml", destination / "migration_plan.yaml")
    for name in ("pyproject.toml",):
        if (source / name).is_file():
            shutil.copy(source / name, destination / name)
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=destination, check=True)
    subprocess.run(["git", "add", "-A"], cwd=destination, check=True)
    subprocess.run([*git, "commit", "-qm", "before"], cwd=destination, check=True)
    return destination


def test_the_runner_reproduces_apply_on_the_bundled_server(tmp_path: Path) -> None:
    """Two planned files applied in order by ``apply``, and by the runner from the emitted edit plan."""
    applied = _git_project(ROOT, tmp_path / "applied")
    made = _git_project(ROOT, tmp_path / "made")
    run = [sys.executable, "-m", "asyncmigrate"]
    result = subprocess.run(
        [*run, "apply", *SERVER_TARGETS, "--no-test", "--no-diff"], cwd=applied, capture_output=True, text=True
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    edits = tmp_path / "edits.json"
    emitted = subprocess.run(
        [*run, "apply", *SERVER_TARGETS, "--dry-run", "--no-diff", "--emit-edits", str(edits)],
        cwd=made,
        capture_output=True,
        text=True,
    )
    assert emitted.returncode in (0, 1), emitted.stdout + emitted.stderr
    document = EditPlan.load(str(edits))
    assert len({f.path for s in document.steps for f in s.files}) > len(SERVER_TARGETS)  # it crosses files
    made_run = _codemod(made, edits, "server")
    assert made_run.returncode == 0, made_run.stdout + made_run.stderr
    assert _python_files(made) == _python_files(applied)


def test_node_identities_count_lines_as_libcst_does() -> None:
    """A form feed (a page break) is whitespace to Python and LibCST, not a line break: the identity of
    a node after one is read from the right line."""
    data = b"def first():\n    pass\n\x0c\ndef second():\n    return helper()\n"
    propagation = PropagationPlan(
        function_edits=[FunctionEdit("m.py", "m.second", 4, 4)],
        call_edits=[CallEdit("m.py", 5, 11, AWAIT, "m.helper")],
    )
    edits = file_edits("m.py", data, propagation)
    assert sorted((ref.line, ref.text) for ref in edits.refs.values()) == [(4, "second"), (5, "helper")]
    moved = data.replace(b"return helper()", b"return  helper()")
    assert edits.stale(moved) == "m.py:5: stale edit (call edit): expected `helper` at column 11, found ` helpe`"
