"""Fixtures for the tool's own tests: copies of the fixture projects under tests/assets/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

ASSETS = Path(__file__).parent / "assets"

# No example database: with one, Hypothesis replays and optimises against earlier runs' examples, and a
# property test that takes a minute in a clean clone ran past five locally. A failure prints its example.
settings.register_profile("asyncmigrate", database=None)
settings.load_profile("asyncmigrate")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A fresh copy of the second codebase (``db = get_db()`` facade, ``UserRepo``)."""
    target = tmp_path / "shop"
    shutil.copytree(ASSETS / "shop", target)
    return target


@pytest.fixture
def edit_plan(shop: Path) -> Callable[[str, str], Path]:
    """Replace one piece of the shop plan's text, returning the plan path."""

    def edit(old: str, new: str) -> Path:
        plan = shop / "migration_plan.yaml"
        text = plan.read_text()
        assert old in text, old
        plan.write_text(text.replace(old, new, 1))
        return plan

    return edit


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="rewrite tests/snapshots/ from the current outputs (also: UPDATE_SNAPSHOTS=1); review the diff",
    )


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    """Whether snapshot tests rewrite their files rather than compare with them."""
    return bool(request.config.getoption("--update-snapshots")) or os.environ.get("UPDATE_SNAPSHOTS") == "1"
