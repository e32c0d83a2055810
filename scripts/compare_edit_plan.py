"""Does LibCST's runner, making an emitted edit plan, leave what ``apply`` leaves?

    python scripts/compare_edit_plan.py [--project DIR] [--jobs 2] [FILE...]

Copies the project (default: this repository's ``server/`` and ``migration_plan.yaml``) twice, each a
fresh git repository. In one, ``asyncmigrate apply --all --no-test`` (or ``apply FILE... --no-test``);
in the other, ``asyncmigrate apply --all --dry-run --emit-edits edits.json`` and then
``python -m libcst.tool codemod -jN apply_edits.ApplyEditsCommand --edits edits.json <top folders>``.
Prints the seconds of each and every Python file that differs; exit 1 when one does.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _copy(source: Path, destination: Path) -> list[str]:
    """The project's top folders and its plan, as a fresh git repository; returns the top folders."""
    destination.mkdir()
    folders = []
    for item in sorted(source.iterdir()):
        if item.name == "migration_plan.yaml" or item.name == "pyproject.toml":
            shutil.copy(item, destination / item.name)
    for name in ("server",) if source == REPO else [p.name for p in source.iterdir() if p.is_dir()]:
        if name.startswith("."):
            continue
        shutil.copytree(
            source / name, destination / name, ignore=shutil.ignore_patterns("__pycache__", ".asyncmigrate")
        )
        folders.append(name)
    shutil.copy(REPO / ".libcst.codemod.yaml", destination / ".libcst.codemod.yaml")
    git = ["git", "-c", "user.email=compare@example.invalid", "-c", "user.name=compare"]
    subprocess.run(["git", "init", "-q"], cwd=destination, check=True)
    subprocess.run(["git", "add", "-A"], cwd=destination, check=True)
    subprocess.run([*git, "commit", "-qm", "before"], cwd=destination, check=True)
    return folders


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.py"))
        if not {".git", ".asyncmigrate", "__pycache__"} & set(p.parts)
    }


def _run(command: list[str], cwd: Path) -> tuple[float, int, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, result.returncode, result.stderr[-2000:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=REPO)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    selection = args.files or ["--all"]
    tool = [sys.executable, "-m", "asyncmigrate"]
    with tempfile.TemporaryDirectory(prefix="compare-edit-plan-") as scratch:
        applied, made = Path(scratch) / "applied", Path(scratch) / "made"
        _copy(args.project.resolve(), applied)
        folders = _copy(args.project.resolve(), made)
        seconds, code, tail = _run([*tool, "apply", *selection, "--no-test", "--no-diff"], applied)
        print(f"apply {' '.join(selection)} --no-test: {seconds:.1f} s, exit {code}")
        edits = Path(scratch) / "edits.json"
        emit = [*tool, "apply", *selection, "--dry-run", "--no-diff", "--emit-edits", str(edits)]
        seconds, code, tail = _run(emit, made)
        print(f"apply {' '.join(selection)} --dry-run --emit-edits: {seconds:.1f} s, exit {code}")
        if not edits.is_file():
            print(tail, file=sys.stderr)
            return 1
        runner = [sys.executable, "-m", "libcst.tool", "codemod", f"-j{args.jobs}", "apply_edits.ApplyEditsCommand"]
        seconds, code, tail = _run([*runner, "--hide-progress", "--edits", str(edits), *folders], made)
        print(f"libcst.tool codemod -j{args.jobs} apply_edits.ApplyEditsCommand: {seconds:.1f} s, exit {code}")
        if code != 0:
            print(tail, file=sys.stderr)
        left, right = _files(applied), _files(made)
        differ = sorted(p for p in left.keys() | right.keys() if left.get(p) != right.get(p))
        original = _files(args.project.resolve())
        changed = sorted(p for p, data in left.items() if data != original.get(p))
        for path in differ:
            print(f"differs: {path}")
        print(f"{len(left)} Python files compared, {len(changed)} changed by apply, {len(differ)} differ")
        return 1 if differ or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
