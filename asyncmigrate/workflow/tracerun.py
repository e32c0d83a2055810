"""``asyncmigrate trace``: run the test command with the tracer in every Python process it starts, then
keep what it saw (``asyncmigrate.analysis.trace``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from asyncmigrate.analysis.callgraph import Project, build_project
from asyncmigrate.analysis.discovery import discover
from asyncmigrate.analysis.trace import (
    Trace,
    collect,
    facade_class_sites,
    save,
    static_edge_exists,
    tests_started,
    write_bootstrap,
)
from asyncmigrate.config.modules import plan_layout
from asyncmigrate.config.plan import Plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.workflow.testrun import output_tail, stop_process, whole_suite
from asyncmigrate.workspace.cache import STATE_DIR

CONFIG_VARIABLE = "ASYNCMIGRATE_TRACE_CONFIG"


@dataclass
class TraceRun:
    trace: Trace
    path: Path
    static_missing: list[int]  # indexes into trace.edges of the edges the static call graph lacks
    output_tail: str
    log: Path


def trace_command(plan: Plan, command: Sequence[str] | None) -> tuple[str, ...]:
    """The command to trace: the one given, else the plan's test command over the plan's tests."""
    if command:
        return tuple(command)
    return (*plan.test_command, *whole_suite(plan))


def run_trace(
    plan: Plan,
    command: Sequence[str] | None = None,
    *,
    timeout: float | None = None,
    on_progress: Callable[[int], None] | None = None,
    force_profile: bool = False,
) -> TraceRun:
    """Run the tests under the tracer and save the trace in ``.asyncmigrate/trace.json``.

    The tests need not pass: what ran is evidence either way (the exit code is kept in the trace).
    """
    argv = trace_command(plan, command)
    paths = discover(plan.root, [*plan.source, *plan.tests], [])
    project: Project = build_project(plan.root, paths, layout=plan_layout(plan))
    tests = [p for p in paths if project.index.get(p) is not None and project.index[p].is_test]
    state = plan.root / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="trace-", dir=state))
    try:
        config = write_bootstrap(
            scratch, plan.root, paths, tests, facade_class_sites(project, plan.facade.classes),
            force_profile=force_profile,
        )  # fmt: skip
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(scratch), env.get("PYTHONPATH", "")]))
        env[CONFIG_VARIABLE] = str(config)
        log = state / "trace.log"
        started = time.monotonic()
        with log.open("wb") as sink:
            try:
                process = subprocess.Popen(
                    argv,
                    cwd=plan.root,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except FileNotFoundError:
                raise AsyncMigrateError(f"test command not found: {argv[0]}") from None
            except PermissionError:
                raise AsyncMigrateError(f"test command not executable: {argv[0]}") from None
            try:
                while process.poll() is None:
                    if timeout is not None and time.monotonic() - started > timeout:
                        stop_process(process)
                        raise AsyncMigrateError(
                            f"the traced command did not finish within {timeout:g} s; no trace kept"
                        )
                    if on_progress is not None:
                        on_progress(tests_started(scratch / "out"))
                    time.sleep(0.2)
            except BaseException:
                if process.poll() is None:
                    stop_process(process)
                raise
        seconds = time.monotonic() - started
        trace = collect(
            project, scratch / "out", root=plan.root, command=argv, returncode=process.returncode, seconds=seconds
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not trace.tracer:
        raise AsyncMigrateError(
            f"the traced command ran no Python process that could be traced (exit {process.returncode}); see {log}"
        )
    saved = save(plan.root, trace)
    missing = [index for index, edge in enumerate(trace.edges) if not static_edge_exists(project, edge)]
    return TraceRun(trace, saved, missing, output_tail(log.read_bytes(), 15), log)
