"""``apply``'s codemod passes walk only toward their edits (``WalksEditedLines``) and share the metadata of
a tree between passes (``QuickMetadata``): the change and the edit plan are those of full walks with
metadata resolved per pass, byte for byte, on fixtures of different shapes (a step's edits name nodes by
their positions, so a node reached wrongly would show in the document as in the files)."""

from __future__ import annotations

import gc
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from libcst import MetadataWrapper

from asyncmigrate.codemods import _passes
from asyncmigrate.config.plan import load_plan
from asyncmigrate.workflow.apply import plan_edits, planned_targets
from asyncmigrate.workspace.cache import one_file_of_trees

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ["library", "caravan", "warehouse", "guild"]


def _edit_plan(project: Path) -> tuple[Any, list[list[tuple[str, bytes, bytes]]]]:
    plan = load_plan(project / "migration_plan.yaml")
    document, changes = plan_edits(plan, planned_targets(plan, [], None, True), use_cache=False)
    steps = [[(e.path, e.before, e.after) for e in change.edits] for change in changes]
    return document.to_json(), steps


@pytest.fixture
def plain_passes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every pass walks the whole tree and resolves its own metadata, on its own copy of the tree."""
    monkeypatch.setattr(_passes.WalksEditedLines, "on_visit", _passes.PlainDispatch.on_visit)

    def own_wrapper(self: Any, module: Any) -> Any:
        previous = self.context.wrapper
        wrapper = MetadataWrapper(module)
        with self.resolve(wrapper):
            self.context = _passes.replace(self.context, wrapper=wrapper)
            try:
                yield wrapper.module
            finally:
                self.context = _passes.replace(self.context, wrapper=previous)

    monkeypatch.setattr(_passes.QuickMetadata, "_handle_metadata_reference", _passes.contextmanager(own_wrapper))
    yield


@pytest.mark.parametrize("fixture", FIXTURES)
def test_walking_toward_the_edits_changes_nothing(fixture: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    shutil.copytree(ROOT / "tests" / "assets" / fixture, tmp_path / "quick")
    shutil.copytree(ROOT / "tests" / "assets" / fixture, tmp_path / "plain")
    quick = _edit_plan(tmp_path / "quick")
    request.getfixturevalue("plain_passes")
    plain = _edit_plan(tmp_path / "plain")
    assert quick[1] == plain[1]
    assert quick[0]["steps"] == plain[0]["steps"]
    assert any(after != before for step in quick[1] for _, before, after in step)


def test_a_files_passes_run_with_the_cyclic_collector_paused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file's parse and passes run with the cyclic collector off (``one_file_of_trees``), which is on
    again between files and after the change; the change is the one made with it on throughout."""
    import contextlib

    from asyncmigrate.analysis import callgraph
    from asyncmigrate.codemods import apply_edits
    from asyncmigrate.workflow import apply as apply_module

    with monkeypatch.context() as always_on:
        for module in (apply_module, callgraph):
            always_on.setattr(module, "one_file_of_trees", contextlib.nullcontext)
        shutil.copytree(ROOT / "tests" / "assets" / "guild", tmp_path / "guild")
        expected = _edit_plan(tmp_path / "guild")
    seen: list[tuple[str, bool]] = []
    for module, name in ((apply_module, "_parse"), (apply_edits, "transform_file"), (apply_module, "_check_output")):
        real = getattr(module, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            seen.append((_name, gc.isenabled()))
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    shutil.copytree(ROOT / "tests" / "assets" / "guild", tmp_path / "again")
    assert gc.isenabled()
    assert _edit_plan(tmp_path / "again") == expected
    assert gc.isenabled()
    assert {name for name, enabled in seen if not enabled} == {"_parse", "transform_file"}
    assert all(enabled for name, enabled in seen if name == "_check_output")


def test_one_file_of_trees_collects_what_the_file_left_in_cycles() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    gc.collect()
    with one_file_of_trees():
        assert not gc.isenabled()
        alive = weakref.ref(Node())
        assert alive() is not None  # in a cycle: reference counting alone does not free it
    assert gc.isenabled()
    assert alive() is None
