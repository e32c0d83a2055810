"""One walk of the tree: only regular files are opened; FIFOs, sockets and symlink loops are skipped,
each listed once, and no command hangs or raises on them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from asyncmigrate.analysis.discovery import discover_tree, shared_walks
from asyncmigrate.config.plan import load_plan
from asyncmigrate.workflow.testrun import select_tests

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and Unix sockets")

# A hang guard, not a timing: a command that waits on a FIFO never returns at all.
HANG_GUARD = 120


def _hostile_tree(root: Path) -> None:
    """A FIFO and a socket named like modules, a file linked to itself, two links to each other, a
    dangling link, and a good link to a real module, in the source and in the tests."""
    os.mkfifo(root / "shop" / "x.py")
    os.mkfifo(root / "tests" / "test_pipe.py")
    (root / "shop" / "self.py").symlink_to("self.py")
    (root / "tests" / "a").symlink_to("b")
    (root / "tests" / "b").symlink_to("a")
    (root / "shop" / "gone.py").symlink_to("nowhere.py")
    (root / "shop" / "alias.py").symlink_to("service.py")
    listener = socket.socket(socket.AF_UNIX)
    cwd = Path.cwd()
    os.chdir(root)  # AF_UNIX paths are short; bind relative to the tree
    try:
        listener.bind("shop/sock.py")
    finally:
        os.chdir(cwd)
        listener.close()


EXPECTED_SKIPPED = {
    "shop/gone.py": "a broken symlink",
    "shop/self.py": "a symlink loop",
    "shop/sock.py": "a socket",
    "shop/x.py": "a FIFO (named pipe)",
    "tests/a": "a symlink loop",
    "tests/b": "a symlink loop",
    "tests/test_pipe.py": "a FIFO (named pipe)",
}


def test_discovery_skips_what_is_not_a_regular_file(shop: Path) -> None:
    _hostile_tree(shop)
    found = discover_tree(shop, ["shop", "tests", "shop"])  # a path given twice lists nothing twice
    assert {s.path: s.reason for s in found.skipped} == EXPECTED_SKIPPED
    assert len(found.skipped) == len(EXPECTED_SKIPPED)
    assert "shop/service.py" in found.files and "shop/handlers.py" in found.files
    assert not set(found.files) & set(EXPECTED_SKIPPED)


def test_a_special_file_named_on_the_command_line_is_skipped_too(shop: Path) -> None:
    _hostile_tree(shop)
    found = discover_tree(shop, ["shop/x.py", "shop/self.py"])
    assert found.files == []
    assert [(s.path, s.reason) for s in found.skipped] == [
        ("shop/self.py", "a symlink loop"),
        ("shop/x.py", "a FIFO (named pipe)"),
    ]


def test_test_selection_walks_the_same_way(shop: Path) -> None:
    _hostile_tree(shop)
    plan = load_plan(shop / "migration_plan.yaml")
    selected = select_tests(plan, ["shop/service.py"])
    assert "tests/test_service.py" in selected
    assert "tests/test_pipe.py" not in selected


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # the plan's test command is `python -m pytest`: make `python` this interpreter, which has pytest
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), "PATH": path}
    return subprocess.run(
        [sys.executable, "-m", "asyncmigrate", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_scan_check_and_apply_finish_on_a_hostile_tree(shop: Path) -> None:
    _hostile_tree(shop)
    scan = _cli(shop, "scan", "--format", "json", "--no-cache")
    assert scan.returncode == 0, scan.stderr
    document = json.loads(scan.stdout)
    assert {s["path"]: s["reason"] for s in document["skipped"]} == EXPECTED_SKIPPED
    table = _cli(shop, "scan", "--no-cache")
    assert table.returncode == 0, table.stderr
    assert "shop/x.py: skipped: a FIFO (named pipe)" in table.stdout
    check = _cli(shop, "check", "--no-cache")
    assert check.returncode in (0, 1) and "Traceback" not in check.stderr, check.stderr
    apply = _cli(shop, "apply", "shop/handlers.py", "--dry-run", "--no-diff")
    assert apply.returncode == 1 and "Traceback" not in apply.stderr, apply.stderr  # 1: changes to show
    assert "1 call site(s) rewritten" in apply.stdout
    written = _cli(shop, "apply", "shop/service.py", "--no-diff")  # writes, selects tests, runs them
    assert written.returncode == 0, written.stdout + written.stderr
    assert "shop/service.py: verified" in written.stdout


def test_scan_of_a_path_lists_only_that_paths_files(shop: Path) -> None:
    scan = _cli(shop, "scan", "tests", "--format", "json")
    assert scan.returncode == 0, scan.stderr
    paths = [f["path"] for f in json.loads(scan.stdout)["files"]]
    assert paths == ["tests/test_service.py"]  # the planned shop/*.py are outside the path


def test_piped_scan_table_keeps_each_path_on_one_line(shop: Path) -> None:
    deep = shop / "shop" / "a_rather_long_package_name" / "with_a_longer_subpackage_name"
    deep.mkdir(parents=True)
    (deep / "__init__.py").write_text("")
    (deep.parent / "__init__.py").write_text("")
    module = deep / "the_module_that_calls_the_facade_directly.py"
    module.write_text((shop / "shop" / "handlers.py").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "asyncmigrate", "scan"],
        cwd=shop,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env={**os.environ, "COLUMNS": "80", "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert result.returncode == 0, result.stderr
    relative = module.relative_to(shop).as_posix()
    rows = [line for line in result.stdout.splitlines() if relative in line]
    assert len(rows) == 1, result.stdout
    assert "shop/handlers.py" in result.stdout


def test_shared_walks_walk_each_tree_once_and_exclude_for_each_caller(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed: list[str] = []
    real = os.scandir

    def counting(path: str) -> object:
        listed.append(path)
        return real(path)

    monkeypatch.setattr(os, "scandir", counting)
    with shared_walks():
        everything = discover_tree(shop, ["shop", "tests"])
        walked = len(listed)
        assert walked > 0
        sources = discover_tree(shop, ["shop", "tests"], ["tests"])
        assert len(listed) == walked  # the same walk, excluded differently
        (shop / "shop" / "new.py").write_text("")
    assert sources.files == [p for p in everything.files if not p.startswith("tests/")]
    assert sources.stats.keys() == set(sources.files)
    # outside the block, each call walks the tree as it is now
    assert "shop/new.py" in discover_tree(shop, ["shop", "tests"]).files
    assert len(listed) > walked
