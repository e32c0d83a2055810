"""Compiled bytecode for every measured installation, as ``pip install`` leaves it.

pip compiles a package's modules when it installs it, so a user's ``asyncmigrate`` (and LibCST, in
the same site-packages) starts from ``.pyc`` files. An editable install in an environment that sets
``PYTHONDONTWRITEBYTECODE`` (as this project's CI machine does) never writes them: every run then
compiles the tool's own modules from source, in the parent and again in each worker that imports
one lazily, which on a 2-core machine is a tenth of a cold scan and would be measured as the
tool's work. So before measuring, each installation's package is compiled once, by the interpreter
that runs it; a module whose ``.pyc`` is already current is left alone.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def interpreter_of(executable: Path) -> str:
    """The Python a console script (``venv/bin/asyncmigrate``) runs: its ``#!`` line."""
    with executable.open("rb") as script:
        first = script.readline().decode("utf-8", "replace").strip()
    if not first.startswith("#!"):
        raise SystemExit(f"{executable}: not a Python console script (no #! line)")
    return first[2:].split()[0]


def compile_package(python: str, package: str = "asyncmigrate") -> list[str]:
    """Compile ``package`` as ``python`` imports it (symlinked subpackages included); the directories."""
    found = subprocess.run(
        [python, "-c", f"import os, {package}; print(os.path.dirname({package}.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    )
    root = found.stdout.strip()
    # compileall does not descend into symlinked directories (the codemods are one): name each.
    directories = [root]
    for parent, names, _ in os.walk(root, followlinks=True):
        linked = [os.path.join(parent, name) for name in names if os.path.islink(os.path.join(parent, name))]
        directories += [os.path.realpath(path) for path in linked]
    subprocess.run([python, "-m", "compileall", "-q", *directories], check=True)
    return directories


def compile_installations(other_cli: Path | None = None) -> None:
    """Compile this interpreter's ``asyncmigrate`` and, given another build's console script, its own."""
    import sys

    pythons = [sys.executable, *([interpreter_of(other_cli)] if other_cli is not None else [])]
    for python in pythons:
        compile_package(python)
    print(f"bytecode: compiled first for {len(pythons)} installation(s), as pip install leaves it", flush=True)
