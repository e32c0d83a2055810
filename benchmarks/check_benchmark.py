"""How long ``asyncmigrate check`` takes warm (its pre-commit hook case) on a >= 1,000,000-line tree.

    python benchmarks/check_benchmark.py [--lines 1000000] [--dir /tmp/asyncmigrate-check-bench] [--repeat 3]
                                         [--reuse] [--baseline-cli /path/to/asyncmigrate]

The tree is the scan benchmark's: copies of server/ under renamed packages, every file planned under
no phase, so ``check`` scans every file, builds the call graph for its un-awaited-call finding, and
reports every facade call as unplanned. Measured in the same run, each in a fresh process (GNU time):
``check`` cold (no cache, once), ``check`` warm, ``scan`` warm and grep. With ``--repeat N`` the warm
runs are made N times each and the median wall time is reported; CPU seconds (user + system, workers
included) are printed beside it, the fairer figure on a shared machine. With ``--baseline-cli`` another
build's ``asyncmigrate`` (e.g. main's) runs the same ``check`` in the same run, after this tool's, cold
(from no cache, unless ``--reuse`` kept one) and warm, and the two warm outputs must be the same.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bytecode import compile_installations  # noqa: E402
from scan_benchmark import PYTHON, Measurement, measure, measure_median  # noqa: E402
from synthetic_tree import build_tree  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "asyncmigrate-check-bench")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per tool; the median wall time is reported")
    parser.add_argument("--reuse", action="store_true", help="keep a tree (and its cache) built by an earlier run")
    parser.add_argument("--baseline-cli", type=Path, default=None, help="another build's asyncmigrate executable")
    args = parser.parse_args()

    if args.reuse and (args.dir / "migration_plan.yaml").is_file():
        lines = sum(p.read_bytes().count(b"\n") for p in args.dir.rglob("*.py"))
    else:
        lines, _ = build_tree(args.dir, args.lines)
        shutil.rmtree(args.dir / ".asyncmigrate", ignore_errors=True)
        time.sleep(2.5)  # let the files settle, so that a warm run may know them by their stat signature
    files = sum(1 for _ in args.dir.rglob("*.py"))
    print(
        f"tree: {args.dir} - {lines:,} lines in {files:,} files, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}, median of {args.repeat} warm run(s) per tool",
        flush=True,
    )
    compile_installations(args.baseline_cli)
    plan = args.dir / "migration_plan.yaml"
    check_cmd = [PYTHON, "-m", "asyncmigrate", "check", "--plan", str(plan), "--format", "json"]
    scan_cmd = [PYTHON, "-m", "asyncmigrate", "scan", "--plan", str(plan), "--format", "json"]
    results: list[Measurement] = []
    if not (args.reuse and (args.dir / ".asyncmigrate").is_dir()):
        cold, _ = measure("asyncmigrate check (cold, once)", check_cmd, args.dir)
        results.append(cold)
    ours = Path(tempfile.mkstemp(suffix=".json")[1])
    warm, _ = measure_median("asyncmigrate check (warm)", check_cmd, args.dir, args.repeat, stdout_path=ours)
    results.append(warm)
    if args.baseline_cli is not None:
        theirs = Path(tempfile.mkstemp(suffix=".json")[1])
        baseline_cmd = [str(args.baseline_cli), *check_cmd[3:]]
        if results[0].name.startswith("asyncmigrate check (cold"):
            # cold alike: from no cache (the two builds may share cache entries of the same format)
            shutil.rmtree(args.dir / ".asyncmigrate", ignore_errors=True)
            baseline_cold, _ = measure("baseline check (cold, once)", baseline_cmd, args.dir)
            results.append(baseline_cold)
        else:
            measure("baseline check (its cache filled, once)", baseline_cmd, args.dir)
        baseline, _ = measure_median("baseline check (warm)", baseline_cmd, args.dir, args.repeat, stdout_path=theirs)
        results.append(baseline)
        same = ours.read_bytes() == theirs.read_bytes()
        print(f"check output, this tool vs baseline: {'identical' if same else 'DIFFERENT'}", flush=True)
        theirs.unlink()
    ours.unlink()
    scan_warm, _ = measure_median("asyncmigrate scan (warm)", scan_cmd, args.dir, args.repeat)
    results.append(scan_warm)
    grep = ["grep", "-rlE", "get_persistence|PersistenceLayer|persistence\\.", "--include=*.py", "."]
    grep_run, _ = measure_median("grep -rlE (files only)", grep, args.dir, args.repeat)
    results.append(grep_run)

    width = max(len(r.name) for r in results)
    print(f"\n{'tool'.ljust(width)}  {'wall s':>8}  {'cpu s':>8}  {'peak MiB':>9}")
    for r in results:
        print(f"{r.name.ljust(width)}  {r.seconds:8.2f}  {r.cpu_seconds:8.2f}  {r.peak_mib:9.0f}")
    print(f"load average after the run: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
