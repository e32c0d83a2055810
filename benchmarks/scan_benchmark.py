"""Measure `asyncmigrate scan` against LibCST's own runner and grep on a >= 1,000,000-line tree.

    python benchmarks/scan_benchmark.py [--lines 1000000] [--dir /tmp/asyncmigrate-bench] [--skip-libcst]
                                        [--repeat 3] [--compare-with /path/to/other/asyncmigrate]

The tree is copies of server/ under renamed packages (same density of facade calls). Every figure
is measured in this run, each tool in a fresh process (GNU time): wall seconds, CPU seconds (user +
system, the tool's worker processes included: on a shared machine the fairer figure), and peak
memory, the largest single process's maximum resident set. With ``--repeat N`` every tool runs N
times and the run with the median wall time is reported. ``--compare-with`` also measures another
installation's ``asyncmigrate scan`` (an older version, say) cold and warm in the same run, on the
same tree. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bytecode import compile_installations  # noqa: E402
from synthetic_tree import build_tree  # noqa: E402

PYTHON = sys.executable
TIME = shutil.which("time") or "/usr/bin/time"


@dataclass
class Measurement:
    name: str
    seconds: float
    cpu_seconds: float
    peak_mib: float
    detail: str = ""


def measure_median(
    name: str, command: list[str], cwd: Path, repeat: int, stdout_path: Path | None = None, before: Path | None = None
) -> tuple[Measurement, str]:
    """The run with the median wall time of ``repeat`` runs; ``before`` is removed before each."""
    runs: list[tuple[Measurement, str]] = []
    for _ in range(repeat):
        if before is not None:
            shutil.rmtree(before, ignore_errors=True)
        runs.append(measure(name, command, cwd, stdout_path))
    runs.sort(key=lambda run: run[0].seconds)
    return runs[len(runs) // 2]


def measure(name: str, command: list[str], cwd: Path, stdout_path: Path | None = None) -> tuple[Measurement, str]:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        out = stdout_path.open("w") if stdout_path else subprocess.DEVNULL
        try:
            completed = subprocess.run(
                [TIME, "-f", "%e %U %S %M", "-o", timing.name, *command],
                cwd=cwd,
                stdout=out,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        finally:
            if stdout_path:
                out.close()  # type: ignore[union-attr]
        seconds, user, system, kib = timing.read().split()[-4:]
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{name} failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    return Measurement(name, float(seconds), float(user) + float(system), int(kib) / 1024), completed.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "asyncmigrate-bench")
    parser.add_argument("--skip-libcst", action="store_true", help="leave out LibCST's runner (slow)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the median wall time is reported")
    parser.add_argument("--compare-with", type=Path, help="another asyncmigrate executable to measure alike")
    args = parser.parse_args()

    lines, packages = build_tree(args.dir, args.lines)
    files = sum(1 for _ in args.dir.rglob("*.py"))
    print(
        f"tree: {args.dir} - {lines:,} lines in {files:,} files ({len(packages)} copies of server/), "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, median of {args.repeat} run(s) per tool",
        flush=True,
    )
    compile_installations(args.compare_with)
    # A checkout is older than a few seconds: let the new files settle, so that the scan may know
    # them by their stat signature next time (it does not trust a file modified moments ago).
    time.sleep(2.5)
    plan = args.dir / "migration_plan.yaml"
    scan_cmd = [PYTHON, "-m", "asyncmigrate", "scan", "--plan", str(plan), "--format", "json"]
    results: list[Measurement] = []

    report = args.dir / "scan.json"
    cache = args.dir / ".asyncmigrate"
    cold, _ = measure_median("asyncmigrate scan (cold)", scan_cmd, args.dir, args.repeat, report, before=cache)
    summary = json.loads(report.read_text())["summary"]
    cold.detail = f"{summary['call_sites']:,} call sites in {summary['files']:,} files"
    results.append(cold)
    warm, _ = measure_median("asyncmigrate scan (warm)", scan_cmd, args.dir, args.repeat, report)
    warm_summary = json.loads(report.read_text())["summary"]
    warm.detail = f"{warm_summary['files_parsed']} files re-parsed, {warm_summary['call_sites']:,} call sites"
    results.append(warm)

    if args.compare_with is not None:
        other_cmd = [str(args.compare_with), "scan", "--plan", str(plan), "--format", "json"]
        label = f"{args.compare_with} scan"
        other_cold, _ = measure_median(f"{label} (cold)", other_cmd, args.dir, args.repeat, report, before=cache)
        other_summary = json.loads(report.read_text())["summary"]
        other_cold.detail = f"{other_summary['call_sites']:,} call sites in {other_summary['files']:,} files"
        other_warm, _ = measure_median(f"{label} (warm)", other_cmd, args.dir, args.repeat, report)
        results += [other_cold, other_warm]

    if not args.skip_libcst:
        runner = [
            PYTHON, "-m", "libcst.tool", "codemod", "-x",
            "asyncmigrate.codemods.report_facade_calls.ReportFacadeCallsCommand",
            "--plan", str(plan), "--hide-progress", "--no-format", ".",
        ]  # fmt: skip
        libcst_run, stderr = measure_median(
            "python -m libcst.tool codemod (same collector)", runner, args.dir, args.repeat
        )
        libcst_run.detail = f"{stderr.count('WARNING: '):,} call sites reported"
        results.append(libcst_run)

    grep = ["grep", "-rlE", "get_persistence|PersistenceLayer|persistence\\.", "--include=*.py", "."]
    grep_run, _ = measure_median("grep -rlE (files only, no call sites)", grep, args.dir, args.repeat)
    results.append(grep_run)

    width = max(len(r.name) for r in results)
    print(f"\n{'tool'.ljust(width)}  {'wall s':>8}  {'cpu s':>8}  {'peak MiB':>9}  {'wall vs cold':>12}  detail")
    for r in results:
        ratio = r.seconds / cold.seconds if cold.seconds else float("nan")
        figures = f"{r.seconds:8.2f}  {r.cpu_seconds:8.2f}  {r.peak_mib:9.0f}  {ratio:11.2f}x"
        print(f"{r.name.ljust(width)}  {figures}  {r.detail}")
    print(f"load average after the run: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
