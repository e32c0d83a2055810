"""How long ``apply`` takes on the bundled server, this tool next to a baseline build of it, in one run.

On copies of the repository's ``server/``, ``migration_plan.yaml`` and ``pyproject.toml`` (each run in
a fresh copy unless it is a warm run), for this tool and, given ``--baseline-cli``, another build's
``asyncmigrate`` executable (e.g. main's):

* ``apply FILE --dry-run``: cold (no cache, once), then warm (``--repeat`` runs, the median);
* ``apply --all --no-test``: cold (no ``.asyncmigrate/``), then warm (a fresh copy holding the cache the
  cold run left), once each; the trees both tools leave must be the same file for file;
* ``python -m libcst.tool codemod`` running the rewrite codemod on FILE alone (no propagation).

Wall and CPU seconds (user + system, children included) come from GNU time; the load average is
printed before and after, as the machine may be shared. Nothing here asserts a time.

    python benchmarks/apply_server_benchmark.py [--baseline-cli /path/to/asyncmigrate] [--repeat 3]
                                                [--file server/services/combat_service.py] [--skip-all]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bytecode import compile_installations  # noqa: E402
from scan_benchmark import PYTHON, Measurement, measure, measure_median  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
COPIED = ("server", "migration_plan.yaml", "pyproject.toml")


def _fresh_copy(destination: Path, cache_from: Path | None = None) -> Path:
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    if cache_from is not None and (cache_from / ".asyncmigrate" / "cache").is_dir():
        shutil.copytree(cache_from / ".asyncmigrate" / "cache", destination / ".asyncmigrate" / "cache")
    return destination


def _differences(left: Path, right: Path) -> list[str]:
    """Files (under server/) whose bytes differ between two trees, or that only one holds."""
    found: list[str] = []
    pending = [filecmp.dircmp(left / "server", right / "server", ignore=["__pycache__"])]
    while pending:
        compared = pending.pop()
        found += [f"{compared.left}/{name}" for name in compared.left_only + compared.right_only]
        _, mismatch, errors = filecmp.cmpfiles(compared.left, compared.right, compared.common_files, shallow=False)
        found += [f"{compared.left}/{name}" for name in mismatch + errors]
        pending.extend(compared.subdirs.values())
    return found


def _tool_rows(label: str, cli: list[str], work: Path, target: str, repeat: int, skip_all: bool) -> list[Measurement]:
    rows: list[Measurement] = []
    tree = _fresh_copy(work / f"{label}-dry")
    dry = [*cli, "apply", target, "--dry-run", "--no-diff"]
    rows.append(measure(f"{label}: apply FILE --dry-run, cold (once)", dry, tree)[0])
    rows.append(measure_median(f"{label}: apply FILE --dry-run, warm (median of {repeat})", dry, tree, repeat)[0])
    if skip_all:
        return rows
    apply_all = [*cli, "apply", "--all", "--no-test"]
    cold_tree = _fresh_copy(work / f"{label}-all-cold")
    rows.append(measure(f"{label}: apply --all --no-test, cold cache", apply_all, cold_tree)[0])
    warm_tree = _fresh_copy(work / f"{label}-all-warm", cache_from=cold_tree)
    rows.append(measure(f"{label}: apply --all --no-test, warm cache", apply_all, warm_tree)[0])
    different = _differences(cold_tree, warm_tree)
    if different:
        raise SystemExit(f"{label}: the warm apply --all left other files than the cold one: {different[:5]}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-cli", type=Path, default=None, help="another build's asyncmigrate executable")
    parser.add_argument("--file", default="server/services/combat_service.py", help="the file of `apply FILE`")
    parser.add_argument("--repeat", type=int, default=3, help="warm dry runs per tool; the median is reported")
    parser.add_argument("--skip-all", action="store_true", help="leave out apply --all (a minute or more per tool)")
    parser.add_argument("--dir", type=Path, default=None, help="where the copies go (default: a temporary directory)")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="asyncmigrate-apply-server-"))
    work.mkdir(parents=True, exist_ok=True)
    tools = [("this tool", [PYTHON, "-m", "asyncmigrate"])]
    if args.baseline_cli is not None:
        tools.append(("baseline", [str(args.baseline_cli)]))
    print(f"{args.file} in copies of {REPO}/server under {work}; {os.cpu_count()} cores", flush=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    compile_installations(args.baseline_cli)

    rows: list[Measurement] = []
    for label, cli in tools:
        rows += _tool_rows(label.replace(" ", "-"), cli, work, args.file, args.repeat, args.skip_all)
    if args.baseline_cli is not None and not args.skip_all:
        different = _differences(work / "this-tool-all-cold", work / "baseline-all-cold")
        print(f"apply --all trees, this tool vs baseline: {'identical' if not different else different[:5]}")

    codemod_tree = _fresh_copy(work / "libcst-runner")
    codemod = [
        PYTHON, "-m", "libcst.tool", "codemod", "-x", "--no-format", "--hide-progress",
        "asyncmigrate.codemods.rewrite_facade_calls.RewriteFacadeCallsCommand",
        "--plan", "migration_plan.yaml", args.file,
    ]  # fmt: skip
    rows.append(measure("LibCST runner, rewrite codemod on FILE only", codemod, codemod_tree)[0])

    width = max(len(r.name) for r in rows)
    print(f"\n{'run'.ljust(width)}  {'wall s':>8}  {'cpu s':>8}  {'peak MiB':>9}")
    for r in rows:
        print(f"{r.name.ljust(width)}  {r.seconds:8.2f}  {r.cpu_seconds:8.2f}  {r.peak_mib:9.0f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
