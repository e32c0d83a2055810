"""Build a large synthetic codebase: copies of server/ under renamed packages, same call density."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ruamel.yaml import YAML

from asyncmigrate.analysis.facade import discover_methods
from asyncmigrate.config.modules import ModuleLayout

REPO = Path(__file__).resolve().parents[1]
_SERVER_WORD = re.compile(rb"\bserver\b")


def _copy(source: Path, target: Path, package: str) -> int:
    lines = 0
    for path in source.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        data = _SERVER_WORD.sub(package.encode(), path.read_bytes())
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
        lines += data.count(b"\n")
    return lines


def build_tree(root: Path, min_lines: int) -> tuple[int, list[str]]:
    """Copy server/ as pkg_0001, pkg_0002, ... until the tree holds ``min_lines``; write its plan."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    packages: list[str] = []
    lines = 0
    while lines < min_lines:
        package = f"pkg_{len(packages) + 1:04d}"
        lines += _copy(REPO / "server", root / package, package)
        packages.append(package)
    yaml = YAML()
    plan = yaml.load((REPO / "migration_plan.yaml").read_text())
    plan["source"] = "."
    plan.pop("tests", None)
    plan.pop("exclude", None)  # both tools read every file, the facade's own modules included
    plan["facade"]["factories"] = [f"{p}.persistence.get_persistence" for p in packages]
    plan["facade"]["classes"] = [f"{p}.persistence.PersistenceLayer" for p in packages]
    # Every copy's facade class has the same methods: list them once, as a plan may, rather than
    # have each run parse all the copies' facade modules to discover them.
    layout = ModuleLayout.of(("",), REPO)
    plan["facade"]["methods"] = sorted(discover_methods(layout, ["server.persistence.PersistenceLayer"]))
    plan["phases"] = []
    with (root / "migration_plan.yaml").open("w") as handle:
        yaml.dump(plan, handle)
    return lines, packages
