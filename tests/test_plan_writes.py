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


def _record_every_entry_twice(path: Path) -> bytes:
    plan = load_plan(path)
    for number, entry in enumerate([e.path for e in plan.entries()]):
        event = {"event": "apply", "call_sites": number, "files_touched": [entry, "x/y.py"], "resolutions": ["a: b"]}
        plan = record_status(plan, entry, FileStatus.MIGRATED, event, repositories=["user"])
        plan = record_status(plan, entry, FileStatus.VERIFIED, {"event": "test", "transaction": f"t{number}"})
    return path.read_bytes()


def test_reusing_the_document_written_writes_what_parsing_it_again_would(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asyncmigrate.config import plan as plan_module

    monkeypatch.setattr(plan_module, "now_iso", lambda: "2026-01-01T00:00:00+00:00")
    path = shop / "migration_plan.yaml"
    original = path.read_bytes()
    parsed: list[Path] = []
    real_load = plan_module.load_plan

    def counting_load(where: Path, **options: Any) -> Any:
        parsed.append(where)
        return real_load(where, **options)

    monkeypatch.setattr(plan_module, "load_plan", counting_load)
    reused = _record_every_entry_twice(path)
    assert len(parsed) == 1  # the first update; each later one finds the bytes it wrote, and their document
    path.write_bytes(original)
    plan_module._written.clear()
    monkeypatch.setattr(plan_module, "_remember_written", lambda *_args: None)
    assert _record_every_entry_twice(path) == reused  # parsed afresh every time: the same bytes
    assert len(parsed) == 1 + 6


def test_a_plan_changed_on_disk_is_parsed_again(shop: Path) -> None:
    path = shop / "migration_plan.yaml"
    plan = record_status(load_plan(path), "shop/service.py", FileStatus.MIGRATED, {"event": "apply"})
    path.write_text(path.read_text().replace("effort_minutes: 10, risk: low", "effort_minutes: 77, risk: low", 1))
    plan = record_status(plan, "shop/handlers.py", FileStatus.MIGRATED, {"event": "apply"})
    handlers = plan.entry("shop/handlers.py")
    assert handlers is not None and handlers.effort_minutes == 77
