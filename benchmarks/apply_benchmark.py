"""How long ``asyncmigrate apply`` of one file takes on a large tree, next to what a user would otherwise run.

Builds (or reuses) the scan benchmark's synthetic tree — copies of server/ under renamed packages — and
a plan whose repositories are the first copy's, then measures, in the same run:

* ``asyncmigrate apply FILE --dry-run``, cold (no cache) and warm (the call graph cached);
* ``asyncmigrate apply FILE --no-test``, warm: the real thing, writing the transaction (then rolled back);
* ``python -m libcst.tool codemod`` running the rewrite codemod on that one file (no propagation at all);
* ``grep -rl`` for the names of the functions that turn async (the seed's manual step 4, "update all callers").

    python benchmarks/apply_benchmark.py --lines 1000000 [--dir /tmp/asyncmigrate-bench]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_tree import build_tree  # noqa: E402

TARGET = "services/combat_service.py"


def _timed(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MiB (GNU time) and the output of one command."""
    timing = Path(tempfile.mkstemp(suffix=".time")[1])
    started = time.perf_counter()
    completed = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(timing), *command],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    try:
        peak = int(timing.read_text().strip().splitlines()[-1]) // 1024
    except (ValueError, IndexError):
        peak = -1
    timing.unlink(missing_ok=True)
    return seconds, peak, completed.stdout + completed.stderr


def _plan_for(root: Path, package: str) -> Path:
    """The tree's plan, with the first copy's repositories and one phase holding the target file."""
    yaml = YAML()
    plan = yaml.load((root / "migration_plan.yaml").read_text())
    for repository in plan["repositories"].values():
        for key in ("class", "provider"):
            repository[key] = re.sub(r"^server\b", package, repository[key])
    plan["async_callbacks"] = [re.sub(r"^server\b", package, c) for c in plan.get("async_callbacks", [])]
    if "async_variants" in plan:
        plan["async_variants"] = {re.sub(r"^server\b", package, k): v for k, v in plan["async_variants"].items()}
    plan["phases"] = [{"id": 1, "name": "benchmark", "files": [{"path": f"{package}/{TARGET}", "status": "pending"}]}]
    path = root / "apply_benchmark_plan.yaml"
    with path.open("w") as handle:
        yaml.dump(plan, handle)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="minimum lines in the synthetic tree")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "asyncmigrate-apply-bench")
    parser.add_argument("--reuse", action="store_true", help="keep an existing tree in --dir")
    args = parser.parse_args()

    root: Path = args.dir
    if args.reuse and (root / "migration_plan.yaml").is_file():
        packages = sorted(p.name for p in root.iterdir() if p.name.startswith("pkg_"))
        lines = sum(f.read_bytes().count(b"\n") for f in root.rglob("*.py"))
    else:
        lines, packages = build_tree(root, args.lines)
    shutil.rmtree(root / ".asyncmigrate", ignore_errors=True)
    package = packages[0]
    plan = _plan_for(root, package)
    target = f"{package}/{TARGET}"
    files = sum(1 for _ in root.rglob("*.py"))
    print(f"tree: {lines:,} lines in {files:,} files ({len(packages)} copies of server/); target {target}")

    tool = [sys.executable, "-m", "asyncmigrate"]
    env_note = f"(python {sys.version.split()[0]}, {os.cpu_count()} cores)"
    rows: list[tuple[str, float, int]] = []

    seconds, peak, output = _timed([*tool, "apply", target, "--dry-run", "--no-diff", "--plan", str(plan)], root)
    rows.append(("asyncmigrate apply --dry-run, cold", seconds, peak))
    summary = next((line for line in output.splitlines() if "function(s) made async" in line), output[-300:])
    seconds, peak, _ = _timed([*tool, "apply", target, "--dry-run", "--no-diff", "--plan", str(plan)], root)
    rows.append(("asyncmigrate apply --dry-run, warm", seconds, peak))
    seconds, peak, output = _timed([*tool, "apply", target, "--no-test", "--plan", str(plan)], root)
    rows.append(("asyncmigrate apply --no-test, warm (writes)", seconds, peak))
    if "migrated" not in output:
        print(output[-2000:])
    subprocess.run([*tool, "rollback", target, "--plan", str(plan)], cwd=root, capture_output=True, check=False)

    original = (root / target).read_bytes()
    seconds, peak, _ = _timed(
        [
            sys.executable,
            "-m",
            "libcst.tool",
            "codemod",
            "-x",
            "--no-format",
            "--hide-progress",
            "asyncmigrate.codemods.rewrite_facade_calls.RewriteFacadeCallsCommand",
            "--plan",
            str(plan),
            target,
        ],
        root,
    )
    rows.append(("LibCST runner, rewrite codemod on the file only", seconds, peak))
    (root / target).write_bytes(original)  # that run rewrote the file in place

    seconds, peak, _ = _timed(["grep", "-rlE", r"\.(attack|combat_round|regain_composure)\(", "."], root)
    rows.append(("grep -rlE for the callers' names", seconds, peak))

    print(f"\n{summary.strip()}\n")
    print(f"{'tool':<52} {'wall':>9} {'peak RSS':>10}  {env_note}")
    for name, seconds, peak in rows:
        print(f"{name:<52} {seconds:>8.2f}s {peak:>7} MiB")


if __name__ == "__main__":
    main()
