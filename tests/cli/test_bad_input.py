"""Every bad input of issue 11, through the real command line: exit 2, exactly one line on stderr, no
traceback, and the command finishes (a subprocess timeout is the hang guard; no duration is asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from asyncmigrate.config.plan import MAX_PLAN_BYTES

REPO = Path(__file__).parents[2]
HANG_GUARD = 120  # seconds; a command that hangs on its input never returns at all
SHOP_COMMAND = "test_command: [python, -m, pytest, -q]"


def _replace(old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        plan = root / "migration_plan.yaml"
        text = plan.read_text()
        assert old in text, old
        plan.write_text(text.replace(old, new, 1))

    return edit


def _alias_bomb(root: Path) -> None:
    levels = ["          - &l0 {event: lol, n: [1, 2, 3, 4, 5, 6, 7, 8, 9]}"]
    for level in range(1, 30):  # 9**30 nodes once expanded
        levels.append(f"          - &l{level} {{event: lol, n: [{', '.join([f'*l{level - 1}'] * 9)}]}}")
    _replace(
        "      - {path: shop/handlers.py, complexity: low, effort_minutes: 10, risk: low, repositories: [user], "
        "status: pending, history: []}",
        "      - path: shop/handlers.py\n        history:\n" + "\n".join(levels),
    )(root)


def _oversized(root: Path) -> None:
    with (root / "migration_plan.yaml").open("a") as handle:
        handle.truncate(MAX_PLAN_BYTES + 1)


def _not_executable(root: Path) -> None:
    (root / "run-tests.sh").write_text("#!/bin/sh\nexit 0\n")
    os.chmod(root / "run-tests.sh", 0o644)
    _replace(SHOP_COMMAND, "test_command: [./run-tests.sh]")(root)


def _plan_is_a_fifo(root: Path) -> None:
    os.mkfifo(root / "pipe.yaml")


def _planned_fifo(root: Path) -> None:
    (root / "shop" / "handlers.py").unlink()
    os.mkfifo(root / "shop" / "handlers.py")


def _loop(root: Path) -> None:
    (root / "shop" / "self.py").symlink_to("self.py")


def _deleted(root: Path) -> None:
    (root / "shop" / "handlers.py").unlink()


@dataclass(frozen=True)
class BadInput:
    args: tuple[str, ...]
    says: str  # a fragment of the one line on stderr
    setup: Callable[[Path], None] | None = None
    unchanged: tuple[str, ...] = field(default=())  # files that must be byte-identical afterwards


BAD_INPUTS: dict[str, BadInput] = {
    "plan: alias bomb in a history": BadInput(("status",), "anchors and aliases (&l0) are not allowed", _alias_bomb),
    "plan: too large to be a plan": BadInput(("status",), "MB is over the 4 MB a plan may have", _oversized),
    "plan: empty test_command": BadInput(
        ("status",), "migration_plan.yaml:5: test_command: is empty", _replace(SHOP_COMMAND, "test_command: []")
    ),
    "plan: unknown key": BadInput(
        ("status",), "sorce: unknown key", _replace("source: shop", "source: shop\nsorce: x")
    ),
    "plan: a FIFO given as --plan": BadInput(("status", "--plan", "pipe.yaml"), "not a regular file", _plan_is_a_fifo),
    "plan: no such file": BadInput(("status", "--plan", "nope.yaml"), "plan file not found"),
    "apply --phase with --all": BadInput(("apply", "--phase", "2", "--all"), "not several"),
    "apply FILE with --all": BadInput(("apply", "shop/handlers.py", "--all"), "not several"),
    "apply FILE with --phase": BadInput(("apply", "shop/handlers.py", "--phase", "1"), "not several"),
    "apply with nothing to apply": BadInput(("apply",), "give FILE..., --phase N or --all"),
    "apply an unplanned file": BadInput(("apply", "shop/noise.py"), "not in the plan"),
    "apply a planned file that was deleted": BadInput(("apply", "shop/handlers.py"), "planned but missing", _deleted),
    "apply a planned file that is a FIFO": BadInput(
        ("apply", "shop/handlers.py"), "planned but not a regular file", _planned_fifo
    ),
    "apply a symlink loop": BadInput(("apply", "shop/self.py"), "shop/self.py: a symlink loop", _loop),
    "scan a symlink loop": BadInput(("scan", "shop/self.py"), "shop/self.py: a symlink loop", _loop),
    "init --output a symlink loop": BadInput(
        ("init", "--factory", "shop.db.get_db", "--output", "shop/self.py"), "shop/self.py: a symlink loop", _loop
    ),
    "report --output a directory": BadInput(("report", "--output", "shop"), "shop: is a directory"),
    "rollback FILE with --phase": BadInput(("rollback", "shop/handlers.py", "--phase", "1"), "either FILE or --phase"),
    "scan --jobs 0": BadInput(("scan", "--jobs", "0"), "--jobs must be at least 1 (got 0)"),
    "scan --jobs -3": BadInput(("scan", "--jobs", "-3"), "--jobs must be at least 1 (got -3)"),
    "scan --jobs not a number": BadInput(("scan", "--jobs", "many"), "asyncmigrate scan: error: Invalid value"),
    "scan --class without --factory": BadInput(("scan", "--class", "shop.db.Database"), "give --factory too"),
    "scan --factory with --plan": BadInput(
        ("scan", "--factory", "x.y", "--plan", "migration_plan.yaml"), "not with --plan"
    ),
    "scan a path that does not exist": BadInput(("scan", "nowhere"), "nowhere: no such file or directory"),
    "test --timeout 0": BadInput(("test", "shop/service.py", "--timeout", "0"), "--timeout must be a positive"),
    "usage: unknown option": BadInput(
        ("apply", "--frobnicate"), "asyncmigrate apply: error: No such option: --frobnicate"
    ),
    "usage: unknown command": BadInput(("frobnicate",), "asyncmigrate: error: No such command 'frobnicate'."),
    "usage: missing argument": BadInput(("mark",), "asyncmigrate mark: error: Missing argument"),
    "usage: bad choice": BadInput(
        ("status", "--format", "xml"), "asyncmigrate status: error: Invalid value for '--format'"
    ),
    "usage: missing option value": BadInput(("status", "--phase"), "error: Option '--phase' requires an argument"),
    "apply: test command not found": BadInput(
        ("apply", "shop/handlers.py"),
        "test command not found: no-such-tool",
        _replace(SHOP_COMMAND, "test_command: [no-such-tool]"),
        ("shop/handlers.py", "migration_plan.yaml"),
    ),
    "apply: test command not executable": BadInput(
        ("apply", "shop/handlers.py"),
        "test command not executable: ./run-tests.sh",
        _not_executable,
        ("shop/handlers.py", "migration_plan.yaml"),
    ),
    "test: test command not found": BadInput(
        ("test", "shop/service.py"),
        "test command not found: no-such-tool",
        _replace(SHOP_COMMAND, "test_command: [no-such-tool]"),
    ),
    "test: test command not executable": BadInput(
        ("test", "shop/service.py"), "test command not executable: ./run-tests.sh", _not_executable
    ),
}


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncmigrate", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(case: str, shop: Path) -> None:
    bad = BAD_INPUTS[case]
    if bad.setup is not None:
        bad.setup(shop)
    before = {path: (shop / path).read_bytes() for path in bad.unchanged}
    result = run_cli(shop, *bad.args)
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert bad.says in lines[0], lines[0]
    for path, data in before.items():
        assert (shop / path).read_bytes() == data, f"{path} was written"
