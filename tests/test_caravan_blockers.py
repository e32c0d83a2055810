"""Blockers of issue 9 items 1, 3 and 4 on the caravan: each is reported with its kind and file:line,
the entry is ``blocked`` and nothing is written for the file. (Item 5's test-double blockers have a
golden case each under ``tests/data/facade_doubles/blocked_*``.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asyncmigrate.cli import app
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import FileStatus

ROOT = Path(__file__).resolve().parent.parent
CARAVAN = ROOT / "tests" / "assets" / "caravan"

ESCAPES = """

def look_up(store: Store, what: str, trader: str) -> object:
    return getattr(store, what)(trader)


def teller(store: Store) -> object:
    return store.find_trader


def stranger(name: str) -> object:
    from caravan.store import open_store

    return open_store().find_trader(name)
"""


def _copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "caravan"
    shutil.copytree(CARAVAN, root, ignore=shutil.ignore_patterns("__pycache__", ".asyncmigrate"))
    monkeypatch.chdir(root)
    return root


def _line(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _blocked(root: Path, *paths: str) -> list[tuple[str, int, str, str]]:
    """Apply ``paths`` and return every blocker recorded (path, line, kind, message); nothing written."""
    before = {path: (root / path).read_bytes() for path in paths}
    result = CliRunner().invoke(app, ["apply", *paths, "--no-test", "--no-diff"])
    assert result.exit_code == 1, result.output
    plan = load_plan(root / "migration_plan.yaml")
    found = []
    for path in paths:
        assert (root / path).read_bytes() == before[path], f"{path} was written"
        entry = plan.entry(path)
        assert entry is not None and entry.status is FileStatus.BLOCKED
        found += [(b["path"], b["line"], b["kind"], b["message"]) for b in entry.history[-1]["blockers"]]
    return found


def test_reaching_the_store_in_ways_that_cannot_be_rewritten_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy(tmp_path, monkeypatch)
    trading, test_trading = root / "caravan" / "trading.py", root / "tests" / "test_trading.py"
    trading.write_text(trading.read_text() + ESCAPES)
    plan = root / "migration_plan.yaml"  # the manifests, received by the consignment, lose their route
    plan.write_text(plan.read_text().replace(', from_received: "attribute:manifests"}', "}"))

    found = {(path, line, kind) for path, line, kind, _ in _blocked(root, "caravan/trading.py")}

    assert found == {
        # item 3: a name known only at run time, and a bound method leaving the function
        ("caravan/trading.py", _line(trading, "getattr(store, what)"), "dynamic_getattr"),
        ("caravan/trading.py", _line(trading, "return store.find_trader"), "bound_method"),
        # item 1: an obtained store whose repository has no provider; a received one with no from_received
        ("caravan/trading.py", _line(trading, "open_store().find_trader"), "obtained_facade"),
        ("caravan/trading.py", _line(trading, "self.store.record_manifest"), "received_facade"),
        ("caravan/trading.py", _line(trading, "self.store.manifest_size"), "received_facade"),
        ("caravan/trading.py", _line(trading, "self.store.cargo_weight"), "received_facade"),
        # item 5: the test's spec'd mock of the same store cannot reach the manifests either
        ("tests/test_trading.py", _line(test_trading, "store.manifest_size.return_value"), "test-double"),
    }
    assert test_trading.read_text() == (CARAVAN / "tests" / "test_trading.py").read_text()


def test_mappings_that_do_not_fit_their_targets_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _copy(tmp_path, monkeypatch)
    plan = root / "migration_plan.yaml"
    text = plan.read_text()
    for old, new in (
        ("args: {amount: coins}", "args: {amount: cash}"),  # unknown keyword
        ("    constants: {checked: true}\n", ""),  # missing required argument
        ("route_distance: route.leagues", "route_distance: wagon.get"),  # too many positionals
        ("adapter: caravan.adapters.total_weight", "adapter: caravan.adapters.weigh_all"),  # no such adapter
    ):
        assert old in text
        text = text.replace(old, new)
    plan.write_text(text)
    trading, dispatch = root / "caravan" / "trading.py", root / "caravan" / "dispatch.py"

    found = _blocked(root, "caravan/trading.py", "caravan/dispatch.py")

    assert [(path, line, kind) for path, line, kind, _ in found] == [
        ("caravan/trading.py", _line(trading, "store.pay_trader"), "signature_mismatch"),
        ("caravan/trading.py", _line(trading, "store.cargo_weight"), "missing_target"),
        ("caravan/dispatch.py", _line(dispatch, "assign_wagon"), "signature_mismatch"),
        ("caravan/dispatch.py", _line(dispatch, "route_distance"), "signature_mismatch"),
    ]
    messages = [message for _, _, _, message in found]
    assert "unknown keyword 'cash'" in messages[0]
    assert "caravan.adapters.weigh_all" in messages[1] and "not defined" in messages[1]
    assert "missing required argument 'checked'" in messages[2]
    assert "too many positional arguments (2, it takes 1)" in messages[3]
