"""``apply``'s codemod passes walk only toward their edits (``WalksEditedLines``) and share the metadata of
a tree between passes (``QuickMetadata``): the change and the edit plan are those of full walks with
metadata resolved per pass, byte for byte, on fixtures of different shapes (a step's edits name nodes by
their positions, so a node reached wrongly would show in the document as in the files)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from libcst import MetadataWrapper

from asyncmigrate.codemods import _passes
from asyncmigrate.config.plan import load_plan
from asyncmigrate.workflow.apply import plan_edits, planned_targets

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
