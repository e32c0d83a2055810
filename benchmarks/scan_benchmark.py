"""Measure `asyncmigrate scan` against LibCST's own runner and grep on a >= 1,000,000-line tree.

    python benchmarks/scan_benchmark.py [--lines 1000000] [--dir /tmp/asyncmigrate-bench] [--skip-libcst]

The tree is copies of server/ under renamed packages (same density of facade calls). Every figure
is measured in this run, each tool in a fresh process; peak memory is the largest process's
maximum resident set (GNU time). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_tree import build_tree  # noqa: E402

PYTHON = sys.executable
TIME = shutil.which("time") or "/usr/bin/time"


@dataclass
class Measurement:
    name: str
    seconds: float
    peak_mib: float
    detail: str = ""


def measure(name: str, command: list[str], cwd: Path, stdout_path: Path | None = None) -> tuple[Measurement, str]:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        out = stdout_path.open("w") if stdout_path else subprocess.DEVNULL
        try:
            completed = subprocess.run(
                [TIME, "-f", "%e %M", "-o", timing.name, *command],
                cwd=cwd, stdout=out, stderr=subprocess.PIPE, text=True, check=False,
            )
        finally:
            if stdout_path:
                out.close()  # type: ignore[union-attr]
        seconds, kib = timing.read().split()[-2:]
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{name} failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    return Measurement(name, float(seconds), int(kib) / 1024), completed.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "asyncmigrate-bench")
    parser.add_argument("--skip-libcst", action="store_true", help="leave out LibCST's runner (slow)")
    args = parser.parse_args()

    lines, packages = build_tree(args.dir, args.lines)
    files = sum(1 for _ in args.dir.rglob("*.py"))
    print(f"tree: {args.dir} - {lines:,} lines in {files:,} files ({len(packages)} copies of server/), "
          f"{os.cpu_count()} cores")
    plan = args.dir / "migration_plan.yaml"
    scan_cmd = [PYTHON, "-m", "asyncmigrate", "scan", "--plan", str(plan), "--format", "json"]
    results: list[Measurement] = []

    shutil.rmtree(args.dir / ".asyncmigrate", ignore_errors=True)
    report = args.dir / "scan.json"
    cold, _ = measure("asyncmigrate scan (cold)", scan_cmd, args.dir, report)
    summary = json.loads(report.read_text())["summary"]
    cold.detail = f"{summary['call_sites']:,} call sites in {summary['files']:,} files"
    results.append(cold)
    warm, _ = measure("asyncmigrate scan (warm)", scan_cmd, args.dir, report)
    warm.detail = f"{json.loads(report.read_text())['summary']['files_parsed']} files re-parsed"
    results.append(warm)

    if not args.skip_libcst:
        runner = [PYTHON, "-m", "libcst.tool", "codemod", "-x",
                  "codemods.report_facade_calls.ReportFacadeCallsCommand", "--plan", str(plan),
                  "--hide-progress", "--no-format", "."]
        libcst_run, stderr = measure("python -m libcst.tool codemod (same collector)", runner, args.dir)
        warnings = stderr.count("WARNING: ")
        libcst_run.detail = f"{warnings:,} call sites reported"
        results.append(libcst_run)

    grep = ["grep", "-rlE", "get_persistence|PersistenceLayer|persistence\\.", "--include=*.py", "."]
    grep_run, _ = measure("grep -rlE (files only, no call sites)", grep, args.dir)
    results.append(grep_run)

    width = max(len(r.name) for r in results)
    print(f"\n{'tool'.ljust(width)}  {'wall s':>8}  {'peak MiB':>9}  vs cold scan  detail")
    for r in results:
        ratio = r.seconds / cold.seconds if cold.seconds else float("nan")
        print(f"{r.name.ljust(width)}  {r.seconds:8.2f}  {r.peak_mib:9.0f}  {ratio:11.2f}x  {r.detail}")


if __name__ == "__main__":
    main()
