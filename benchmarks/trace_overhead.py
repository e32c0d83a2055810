"""What ``asyncmigrate trace`` costs, and what it finds, on the bundled server and the fixture codebases.

For each codebase (a directory holding a ``migration_plan.yaml``: by default the repository itself, whose
plan is the bundled server's, and every fixture under ``tests/assets/`` that has one), it copies the
codebase into a temporary directory and runs, alternately, ``--repeat`` times each:

* the plain test run a user would otherwise make: the plan's test command over the plan's tests (exactly
  the command ``trace`` runs by default);
* ``python -m asyncmigrate trace --format json`` on the same copy.

It prints, per codebase, the median wall time and CPU time (this process's children: the test processes
and everything they start) of both, their ratio, and what the last trace found: the call edges between
project functions it recorded, how many of them the static call graph lacks, and the facade calls that
ran on a running event loop. ``--list-missing`` prints every edge the static graph lacks (file:line,
caller → callee). The trace's whole process includes building the static call graph it compares with
(cached after the first run) and writing the trace; the ``traced command`` column is the test command's
own time under the tracer, as ``trace`` measured it.

    python benchmarks/trace_overhead.py [--repeat 3] [--codebase DIR ...] [--list-missing] [--json PATH]

CPU time is less sensitive to other work on the machine than wall time; both are printed with the load
average before and after each codebase. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PLAN = "migration_plan.yaml"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.db", "*.db-*", ".*cache", ".asyncmigrate", ".venv", ".git")


@dataclass
class Timing:
    wall: float
    cpu: float


@dataclass
class Result:
    codebase: str
    command: list[str]
    plain: list[Timing] = field(default_factory=list)
    traced: list[Timing] = field(default_factory=list)
    traced_command_seconds: list[float] = field(default_factory=list)
    tests: int = 0
    edges: int = 0
    static_lacks: int = 0
    facade_calls: int = 0
    blocking_calls: int = 0
    missing: list[str] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)
    plain_exit: int = 0
    traced_exit: int = 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[Timing, subprocess.CompletedProcess[str]]:
    cpu_before = _children_cpu()
    started = time.perf_counter()
    completed = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    return Timing(time.perf_counter() - started, _children_cpu() - cpu_before), completed


def _copy(codebase: Path, target: Path) -> Path:
    if codebase.resolve() == REPOSITORY:
        # the repository's plan is the bundled server's: copy what its tests need, not the tool
        target.mkdir(parents=True)
        shutil.copytree(codebase / "server", target / "server", ignore=_IGNORE)
        for name in (PLAN, "pyproject.toml"):
            shutil.copy2(codebase / name, target / name)
        return target
    shutil.copytree(codebase, target, ignore=_IGNORE)
    return target


def _test_command(root: Path) -> list[str]:
    from asyncmigrate.config.plan import load_plan
    from asyncmigrate.workflow.tracerun import trace_command

    return list(trace_command(load_plan(root / PLAN), None))


def measure(codebase: Path, repeat: int, scratch: Path) -> Result:
    root = _copy(codebase, scratch / codebase.name)
    name = "server (bundled)" if codebase.resolve() == REPOSITORY else f"tests/assets/{codebase.name}"
    command = _test_command(root)
    env = dict(os.environ)
    # the plans' test commands say `python`: it must be this interpreter, with the tool installed
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = Result(name, command)
    load_before = os.getloadavg()[0]
    for _ in range(repeat):
        timing, completed = _timed(command, root, env)
        result.plain.append(timing)
        result.plain_exit = completed.returncode
        timing, completed = _timed([sys.executable, "-m", "asyncmigrate", "trace", "--format", "json"], root, env)
        result.traced.append(timing)
        result.traced_exit = completed.returncode
        if completed.returncode not in (0, 1):
            raise SystemExit(f"{name}: asyncmigrate trace exited {completed.returncode}:\n{completed.stderr[-2000:]}")
        document = json.loads(completed.stdout)
        result.traced_command_seconds.append(float(document["seconds"]))
    summary = document["summary"]
    result.tests = int(document.get("tests", 0))
    result.edges = int(summary["edges"])
    result.static_lacks = int(summary["static_graph_lacks"])
    result.facade_calls = int(summary["facade_calls"])
    result.blocking_calls = int(summary["blocking_calls"])
    result.missing = sorted(
        f"{edge['path']}:{edge['line']}: {edge['caller']} → {edge['callee']}"
        for edge in document["edges"]
        if not edge["static"]
    )
    result.load = (load_before, os.getloadavg()[0])
    return result


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _print(results: list[Result], list_missing: bool) -> None:
    header = (
        f"{'codebase':24} {'tests':>6} {'plain s':>8} {'trace s':>8} {'ratio':>6} {'traced cmd s':>12} "
        f"{'plain CPU':>9} {'trace CPU':>9} {'CPU ratio':>9} {'edges':>6} {'static lacks':>12} {'load':>10}"
    )
    print(header)
    for r in results:
        plain_wall, traced_wall = _median([t.wall for t in r.plain]), _median([t.wall for t in r.traced])
        plain_cpu, traced_cpu = _median([t.cpu for t in r.plain]), _median([t.cpu for t in r.traced])
        print(
            f"{r.codebase:24} {r.tests:>6} {plain_wall:>8.2f} {traced_wall:>8.2f} {traced_wall / plain_wall:>5.2f}× "
            f"{_median(r.traced_command_seconds):>12.2f} {plain_cpu:>9.2f} {traced_cpu:>9.2f} "
            f"{traced_cpu / plain_cpu:>8.2f}× {r.edges:>6} {r.static_lacks:>12} {r.load[0]:>4.1f}-{r.load[1]:<4.1f}"
        )
    failed = [r.codebase for r in results if r.plain_exit != 0 or r.traced_exit != 0]
    if failed:
        print(f"test command failed (exit != 0) in: {', '.join(failed)}")
    if list_missing:
        for r in results:
            if r.missing:
                print(f"\n{r.codebase}: {len(r.missing)} traced edges the static call graph lacks")
                for line in r.missing:
                    print(f"  {line}")


def _default_codebases() -> list[Path]:
    fixtures = sorted(p.parent for p in (REPOSITORY / "tests" / "assets").glob(f"*/{PLAN}"))
    return [REPOSITORY, *fixtures]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternated (default 3)")
    parser.add_argument(
        "--codebase",
        type=Path,
        action="append",
        default=None,
        metavar="DIR",
        help="a directory holding migration_plan.yaml (default: the server and every fixture)",
    )
    parser.add_argument("--list-missing", action="store_true", help="list the edges the static graph lacks")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    codebases = [p.resolve() for p in args.codebase] if args.codebase else _default_codebases()
    for codebase in codebases:
        if not (codebase / PLAN).is_file():
            parser.error(f"{codebase}: no {PLAN} there")
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"{args.repeat} run(s) of each, alternated; medians"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="trace-overhead-") as scratch:
        for codebase in codebases:
            results.append(measure(codebase, args.repeat, Path(scratch)))
    _print(results, args.list_missing)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
