"""``asyncmigrate trace`` on the dispatch fixture, and what apply, graph, scan and init make of the trace.

The fixture's callers reach the facade's users by name at run time: ``getattr(self.service, op)(...)``
over a list of operations (no rewrite possible: a blocker), a registry filled with ``getattr`` and
called through a bound name (a plain call: awaited) or straight out of the registry (a blocker). Its
facade sleeps fixed times, so the measured blocking has a known order.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from asyncmigrate.analysis.callgraph import Project, build_project
from asyncmigrate.analysis.trace import TracedEdge, load_trace, static_edge_exists
from asyncmigrate.cli import app
from asyncmigrate.config.modules import plan_layout
from asyncmigrate.config.plan import load_plan
from asyncmigrate.migration.propagate import AWAIT, PropagationPlan, Seed, propagate
from asyncmigrate.workflow.apply import project_paths

ASSETS = Path(__file__).parent / "assets"
SCHEMAS = Path(__file__).parents[1] / "asyncmigrate" / "schemas"
runner = CliRunner()

DISPATCH_EDGES = {
    ("depot.console.Console.run", "depot.service.OrderService.open_order"),
    ("depot.console.Console.run", "depot.service.OrderService.close_order"),
    ("depot.handlers.handle", "depot.pricing.price_order"),
    ("depot.handlers.handle", "depot.pricing.tax_order"),
    ("depot.router.route", "depot.shipping.ship_order"),
}


def _environment() -> dict[str, str]:
    """``python`` in the fixture's test command is this interpreter (with pytest-asyncio)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncmigrate", *args],
        cwd=root,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _git(root: Path) -> None:
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *command], cwd=root, check=True)


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dispatch fixture, traced once (its own git repository, so apply can write)."""
    root = tmp_path_factory.mktemp("traced") / "dispatch"
    shutil.copytree(ASSETS / "dispatch", root)
    _git(root)
    result = _cli(root, "trace")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "edges the static call graph lacks" in result.stdout
    return root


@pytest.fixture
def depot(traced: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the traced fixture, trace included, for a test to change."""
    root = tmp_path / "dispatch"
    shutil.copytree(traced, root, symlinks=True)
    yield root


def test_trace_records_the_dispatch_edges_the_static_graph_lacks(traced: Path) -> None:
    trace = load_trace(traced)
    assert trace is not None and trace.returncode == 0 and trace.tests == 4
    assert trace.tracer == ("sys.monitoring" if sys.version_info >= (3, 12) else "sys.setprofile")
    edges = {(e.caller, e.callee): e for e in trace.edges}
    assert DISPATCH_EDGES <= set(edges)
    assert (
        edges[("depot.console.Console.run", "depot.service.OrderService.open_order")].path,
        edges[("depot.console.Console.run", "depot.service.OrderService.open_order")].line,
    ) == ("depot/console.py", 15)
    plan = load_plan(traced / "migration_plan.yaml")
    project = build_project(traced, project_paths(plan), layout=plan_layout(plan))
    lacking = {(e.caller, e.callee) for e in trace.edges if not static_edge_exists(project, e)}
    assert DISPATCH_EDGES <= lacking
    # a call the static graph follows is not counted as missing
    assert ("tests.test_depot.test_console_runs_every_operation", "depot.console.Console.run") in set(edges) - lacking
    # every file that contributed is tagged with its content hash
    assert {"depot/console.py", "depot/handlers.py", "depot/router.py"} <= set(trace.files)


def test_trace_measures_the_facade_calls_blocking_the_loop(traced: Path) -> None:
    trace = load_trace(traced)
    assert trace is not None
    blocking = {(t.path, t.line, t.method): t for t in trace.facade_calls if t.blocking_count}
    assert set(blocking) == {
        ("depot/api.py", 10, "put_order"),
        ("depot/api.py", 11, "count_orders"),
        ("depot/api.py", 12, "audit_orders"),
    }
    assert blocking[("depot/api.py", 12, "audit_orders")].blocking_seconds >= 0.08
    # sync tests calling sync code: facade calls, but no running loop to block
    quiet = [t for t in trace.facade_calls if t.path == "depot/service.py"]
    assert quiet and all(t.blocking_count == 0 and t.count >= 1 for t in quiet)


def test_getattr_dispatch_is_a_blocker_with_file_and_line(depot: Path) -> None:
    result = _cli(depot, "apply", "depot/service.py", "--dry-run", "--format", "json")
    assert result.returncode == 1, result.stderr
    change = json.loads(result.stdout)["results"][0]
    blockers = [b for b in change["blockers"] if b["kind"] == "traced_call"]
    assert [(b["path"], b["line"]) for b in blockers] == [("depot/console.py", 15)]
    assert "getattr" in blockers[0]["message"] and "Console.run" in blockers[0]["fix"]
    assert {(t["path"], t["line"], t["outcome"], t["source"]) for t in change["traced"]} == {
        ("depot/console.py", 15, "blocked", "traced")
    }
    table = _cli(depot, "apply", "depot/service.py", "--dry-run", "--no-diff")
    assert "traced depot/console.py:15: depot.console.Console.run -> depot.service.OrderService" in table.stdout
    assert "blocked depot/console.py:15 traced_call" in table.stdout


def test_a_call_straight_out_of_a_registry_is_a_blocker(depot: Path) -> None:
    result = _cli(depot, "apply", "depot/shipping.py", "--dry-run", "--format", "json")
    assert result.returncode == 1
    change = json.loads(result.stdout)["results"][0]
    assert [(b["path"], b["line"], b["kind"]) for b in change["blockers"]] == [("depot/router.py", 11, "traced_call")]


def test_a_traced_call_through_a_name_is_awaited_and_verified(depot: Path) -> None:
    result = _cli(depot, "apply", "depot/pricing.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "traced depot/handlers.py:13: depot.handlers.handle -> depot.pricing.price_order (awaited)" in result.stdout
    handlers = (depot / "depot" / "handlers.py").read_text()
    assert "async def handle(name: str, order_id: int) -> int:" in handlers
    assert "return await handler(order_id)" in handlers
    assert 'assert await handle("price_order", 1234) == 10' in (depot / "tests" / "test_depot.py").read_text()
    plan = load_plan(depot / "migration_plan.yaml")
    entry = plan.entry("depot/pricing.py")
    assert entry is not None and entry.status.value == "verified"
    apply_event = next(h for h in entry.history if h.get("event") == "apply")
    assert "depot/handlers.py:13: depot.handlers.handle -> depot.pricing.price_order (awaited)" in apply_event["traced"]


def test_graph_labels_the_traced_caller(depot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(depot)
    result = runner.invoke(app, ["graph", "depot.pricing.price_order"])
    assert result.exit_code == 0, result.output
    line = next(text for text in result.stdout.splitlines() if "handle" in text and "async def" in text)
    assert "traced" in line
    document = json.loads(runner.invoke(app, ["graph", "depot.pricing.price_order", "--format", "json"]).stdout)
    assert {"caller": "depot.handlers.handle", "outcome": "await"}.items() <= document["traced"][0].items()


def test_without_a_trace_apply_says_so_once(depot: Path) -> None:
    (depot / ".asyncmigrate" / "trace.json").unlink()
    result = _cli(depot, "apply", "depot/service.py", "depot/shipping.py", "--dry-run", "--format", "json")
    assert result.stderr.count("no trace for this project") == 1
    changes = json.loads(result.stdout)["results"]
    assert all(not change["traced"] and not change["blockers"] for change in changes)


def test_a_stale_trace_is_reported_and_its_edges_not_used(depot: Path) -> None:
    console = depot / "depot" / "console.py"
    console.write_text(console.read_text() + "\n# an edit after the trace\n")
    result = _cli(depot, "apply", "depot/service.py", "--dry-run", "--format", "json")
    stale = [line for line in result.stderr.splitlines() if "stale" in line]
    assert len(stale) == 1 and "depot/console.py" in stale[0], result.stderr
    change = json.loads(result.stdout)["results"][0]
    assert not change["traced"] and not any(b["kind"] == "traced_call" for b in change["blockers"])
    # the files that did not change keep their edges
    assert "router.py" not in stale[0]
    shipping = json.loads(_cli(depot, "apply", "depot/shipping.py", "--dry-run", "--format", "json").stdout)
    assert [b["kind"] for b in shipping["results"][0]["blockers"]] == ["traced_call"]


def test_scan_orders_call_sites_by_measured_blocking_time(depot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(depot)
    result = runner.invoke(app, ["scan", "--format", "json", "--sort", "blocking-time"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads((SCHEMAS / "scan.schema.json").read_text()))
    assert document["files"][0]["path"] == "depot/api.py"
    measured = [(c["method"], c["measured"]["blocking_seconds"]) for c in document["files"][0]["calls"]]
    assert [method for method, _ in measured] == ["audit_orders", "count_orders", "put_order"]
    assert measured[0][1] >= 0.08 and measured[1][1] >= 0.04 and measured[2][1] >= 0.01
    assert document["files"][0]["blocking_seconds"] >= 0.13
    table = runner.invoke(app, ["scan", "--calls", "--sort", "blocking-time"])
    lines = [line for line in table.stdout.splitlines() if line.startswith("depot/")]
    assert [line.split(":")[0:2] for line in lines[:3]] == [
        ["depot/api.py", "12"],
        ["depot/api.py", "11"],
        ["depot/api.py", "10"],
    ]
    assert "blocking time" in table.stdout and "measured by the trace" in table.stdout


def test_scan_sort_by_blocking_time_needs_a_trace(depot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(depot)
    (depot / ".asyncmigrate" / "trace.json").unlink()
    result = runner.invoke(app, ["scan", "--sort", "blocking-time"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "asyncmigrate trace" in result.stderr
    assert "blocking time" not in runner.invoke(app, ["scan"]).stdout


def test_init_order_measured_puts_the_longest_blocking_files_first(
    depot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(depot)
    options = ["init", "--factory", "depot.ledger.open_ledger", "--class", "depot.ledger.Ledger", "--source", "depot"]
    options += ["--tests", "tests", "--exclude", "depot/ledger.py", "--exclude", "depot/stores.py", "-o", "new.yaml"]
    result = runner.invoke(app, [*options, "--order", "measured", "--phase", "Pricing=depot/pricing.py"])
    assert result.exit_code == 0, result.output
    phases = load_plan(depot / "new.yaml", check_files=False).phases
    assert [(p.name, [f.path for f in p.files]) for p in phases][:2] == [
        ("Blocks the event loop (measured)", ["depot/api.py"]),
        ("Pricing", ["depot/pricing.py"]),
    ]
    (depot / ".asyncmigrate" / "trace.json").unlink()
    refused = runner.invoke(app, [*options, "--force", "--order", "measured"])
    assert refused.exit_code == 2 and "asyncmigrate trace" in refused.stderr


def test_trace_of_a_given_command(depot: Path) -> None:
    """``trace -- CMD``: any Python command; the edges are those it ran."""
    script = "from depot.router import route; print(route('ship_order', 3))"
    result = _cli(depot, "trace", "--format", "json", "--", sys.executable, "-c", script)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert {(e["caller"], e["callee"], e["static"]) for e in document["edges"]} >= {
        ("depot.router.route", "depot.shipping.ship_order", False)
    }
    assert not any(e["caller"].startswith("tests.") for e in document["edges"])


def _python_with_monitoring() -> str | None:
    """An interpreter with ``sys.monitoring`` (3.12+): on PATH, or installed by pyenv."""
    candidates = [shutil.which(f"python3.{minor}") for minor in (12, 13, 14)]
    candidates += [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.1[2-9]*/bin/python3"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(hasattr(sys, 'monitoring'))"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


def test_sys_monitoring_tracer_on_python_3_12(depot: Path) -> None:
    python = _python_with_monitoring()
    if python is None:
        pytest.skip("no Python 3.12+ here to run the sys.monitoring tracer")
    script = (
        "import asyncio\n"
        "from depot.console import Console\nfrom depot.service import OrderService\n"
        "from depot.api import order_report\n"
        "Console(OrderService()).run(['open_order', 'close_order'], 1)\nasyncio.run(order_report())\n"
    )
    result = _cli(depot, "trace", "--format", "json", "--", python, "-c", script)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["tracer"] == "sys.monitoring" and document["python"] >= "3.12"
    assert {("depot.console.Console.run", "depot.service.OrderService.open_order")} <= {
        (e["caller"], e["callee"]) for e in document["edges"]
    }
    timings = {(t["line"], t["method"]): t for t in document["facade_calls"] if t["path"] == "depot/api.py"}
    assert timings[(12, "audit_orders")]["blocking_seconds"] >= 0.08
    assert timings[(12, "audit_orders")]["blocking_count"] == 1


# --- propagation over traced edges, on a small project with edges written by hand ----------------------

REGISTRY = """\
TABLE: dict = {}


def fast(x):
    return x


def slow(x):
    return x


def run(name, x):
    handler = TABLE[name]
    return handler(x)


def run_direct(name, x):
    return TABLE[name](x)
"""


def _registry(tmp_path: Path) -> Project:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "reg.py").write_text(REGISTRY)
    return build_project(tmp_path, ["app/__init__.py", "app/reg.py"], use_cache=False)


def _edge(caller: str, callee: str, line: int, col: int, end_col: int) -> TracedEdge:
    return TracedEdge(caller, callee, "app/reg.py", line, col, line, end_col, "app/reg.py", 1)


def _propagate(proj: Project, seeds: list[str], edges: list[TracedEdge]) -> PropagationPlan:
    by_callee: dict[str, list[TracedEdge]] = {}
    for edge in edges:
        by_callee.setdefault(edge.callee, []).append(edge)
    return propagate(proj, [Seed(proj.functions[s], "test seed") for s in seeds], traced_edges=by_callee)


def test_a_traced_plain_call_is_awaited_when_everything_it_reached_turns_async(tmp_path: Path) -> None:
    proj = _registry(tmp_path)
    edges = [_edge("app.reg.run", "app.reg.fast", 14, 11, 21), _edge("app.reg.run", "app.reg.slow", 14, 11, 21)]
    plan = _propagate(proj, ["app.reg.fast", "app.reg.slow"], edges)
    assert not plan.blockers
    assert "app.reg.run" in plan.async_functions and plan.traced_callers() == {"app.reg.run"}
    assert [(e.line, e.col, e.kind) for e in plan.call_edits] == [(14, 11, AWAIT)]


def test_a_traced_call_that_also_reaches_a_sync_function_is_a_blocker(tmp_path: Path) -> None:
    proj = _registry(tmp_path)
    edges = [_edge("app.reg.run", "app.reg.fast", 14, 11, 21), _edge("app.reg.run", "app.reg.slow", 14, 11, 21)]
    plan = _propagate(proj, ["app.reg.fast"], edges)
    assert [(b.path, b.line, b.kind) for b in plan.blockers] == [("app/reg.py", 14, "traced_call")]
    assert "app.reg.slow" in plan.blockers[0].message


def test_a_traced_call_out_of_a_container_is_a_blocker_and_no_trace_changes_nothing(tmp_path: Path) -> None:
    proj = _registry(tmp_path)
    plan = _propagate(proj, ["app.reg.fast"], [_edge("app.reg.run_direct", "app.reg.fast", 18, 11, 28)])
    assert [(b.line, b.kind) for b in plan.blockers] == [(18, "traced_call")]
    assert "app.reg.run_direct" not in plan.async_functions
    assert [(u.line, u.outcome) for u in plan.traced] == [(18, "blocked")]
    untraced = _propagate(proj, ["app.reg.fast"], [])
    assert not untraced.blockers and not untraced.traced and set(untraced.async_functions) == {"app.reg.fast"}


def test_trace_bad_input_is_one_line_and_exit_2(depot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(depot)
    missing = runner.invoke(app, ["trace", "--", "no-such-command-for-asyncmigrate"])
    assert missing.exit_code == 2 and missing.stderr.strip() == (
        "error: test command not found: no-such-command-for-asyncmigrate"
    )
    assert runner.invoke(app, ["trace", "--timeout", "0"]).exit_code == 2
    assert load_trace(depot) is not None  # the earlier trace is kept


BUS = """\
class Bus:
    def __init__(self):
        self.handlers = []

    def subscribe(self, handler):
        self.handlers.append(handler)

    def publish(self, event):
        for handler in self.handlers:
            handler(event)


def on_event(event):
    return event


def setup(bus: Bus):
    bus.subscribe(on_event)
"""


def test_calls_from_an_api_that_accepts_coroutine_functions_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "bus.py").write_text(BUS)
    proj = build_project(tmp_path, ["app/__init__.py", "app/bus.py"], use_cache=False)
    edge = TracedEdge("app.bus.Bus.publish", "app.bus.on_event", "app/bus.py", 10, 12, 10, 26, "app/bus.py", 3)
    seeds = [Seed(proj.functions["app.bus.on_event"], "test seed")]
    accepted = propagate(
        proj, seeds, async_callbacks=["app.bus.Bus.subscribe"], traced_edges={"app.bus.on_event": [edge]}
    )
    assert not accepted.blockers and not accepted.traced and "app.bus.Bus.publish" not in accepted.async_functions
    # not declared as accepting coroutine functions: the subscription is a blocker, and the traced call awaited
    plain = propagate(proj, seeds, traced_edges={"app.bus.on_event": [edge]})
    assert [(b.line, b.kind) for b in plain.blockers] == [(18, "callback")]
    assert [(u.line, u.outcome) for u in plain.traced] == [
        (10, "await")
    ] and "app.bus.Bus.publish" in plain.async_functions
