"""Plan writes start from the plan on disk, so edits made meanwhile survive; the `test_timeout` key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asyncmigrate.config.plan import DEFAULT_TEST_TIMEOUT, load_plan, record_status, update_plan
from asyncmigrate.errors import PlanError
from asyncmigrate.types import FileStatus


def test_a_status_recorded_from_a_stale_plan_keeps_the_edits_made_since(shop: Path) -> None:
    stale = load_plan(shop / "migration_plan.yaml")
    path = shop / "migration_plan.yaml"
    text = path.read_text().replace("effort_minutes: 10, risk: low", "effort_minutes: 99, risk: low", 1)
    path.write_text("# edited by hand while an apply ran\n" + text)

    fresh = record_status(stale, "shop/service.py", FileStatus.MIGRATED, {"event": "apply"})

    assert path.read_text().startswith("# edited by hand while an apply ran\n")
    handlers = fresh.entry("shop/handlers.py")
    assert handlers is not None and handlers.effort_minutes == 99
    entry = load_plan(path).entry("shop/service.py")
    assert entry is not None and entry.status is FileStatus.MIGRATED


def test_an_edit_landing_between_read_and_write_is_kept(shop: Path) -> None:
    plan = load_plan(shop / "migration_plan.yaml")
    path = shop / "migration_plan.yaml"
    calls = 0

    def change(document: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:  # someone saves the plan while this change is being made
            path.write_text(path.read_text().replace("name: Services", "name: Services (renamed)"))
        document["phases"][0]["name"] = "Handlers (renamed)"

    saved = update_plan(plan, change)

    assert calls == 2
    assert [p.name for p in saved.phases] == ["Handlers (renamed)", "Services (renamed)"]
    assert [p.name for p in load_plan(path).phases] == ["Handlers (renamed)", "Services (renamed)"]


def test_test_timeout_defaults_and_reads(edit_plan: Callable[[str, str], Path]) -> None:
    assert load_plan(edit_plan("version: 1\n", "version: 1\n")).test_timeout == DEFAULT_TEST_TIMEOUT
    assert load_plan(edit_plan("version: 1\n", "version: 1\ntest_timeout: 2.5\n")).test_timeout == 2.5


@pytest.mark.parametrize("value", ["0", "-3", "soon", "true", ".inf", "[1]"])
def test_a_bad_test_timeout_names_the_line(value: str, edit_plan: Callable[[str, str], Path]) -> None:
    path = edit_plan("version: 1\n", f"version: 1\ntest_timeout: {value}\n")

    with pytest.raises(PlanError) as error:
        load_plan(path)

    assert str(error.value).startswith(f"{path}:3: test_timeout: must be a positive number of seconds")
