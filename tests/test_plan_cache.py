"""The parsed plan kept in the cache: the same bytes at the same path give the same plan without YAML,
any other bytes are parsed again, and what depends on the file system is still checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from asyncmigrate.config import plan as plan_module
from asyncmigrate.config.plan import dump_document, load_plan, record_status, settings_fingerprint
from asyncmigrate.errors import PlanError
from asyncmigrate.types import FileStatus
from asyncmigrate.workspace.cache import cache_dir, prepare


@pytest.fixture(autouse=True)
def _cache_directory(shop: Path) -> None:
    """The plan is kept where a command that analyses the tree has made the cache directory."""
    prepare(shop)


def _no_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("the plan was parsed as YAML")

    monkeypatch.setattr(plan_module, "_yaml", refuse)


def test_the_same_bytes_give_the_same_plan_without_parsing_yaml(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = shop / "migration_plan.yaml"
    first = load_plan(path)
    fingerprint = settings_fingerprint(first)
    with monkeypatch.context() as patched:
        _no_yaml(patched)
        second = load_plan(path)
        assert settings_fingerprint(second) == fingerprint
    assert second == first
    assert second is not first
    # The round-trip document is parsed from the text when something needs it, comments and all.
    assert dump_document(second.document) == path.read_text()


def test_other_bytes_are_parsed_again(shop: Path) -> None:
    path = shop / "migration_plan.yaml"
    load_plan(path)
    path.write_text(path.read_text().replace("source: shop", "source: shop\nasync_aware_decorators: [a.b]"))
    assert load_plan(path).async_aware_decorators == ("a.b",)
    path.write_text(path.read_text().replace("async_aware_decorators: [a.b]", "sorce: shop"))
    with pytest.raises(PlanError, match=r"migration_plan.yaml:4: sorce: unknown key"):
        load_plan(path)


def test_a_cached_plan_whose_source_directory_went_away_is_refused_with_its_line(shop: Path) -> None:
    path = shop / "migration_plan.yaml"
    load_plan(path)
    shutil.rmtree(shop / "shop")
    with pytest.raises(PlanError, match=r"migration_plan.yaml:\d+: source\[0\]: directory 'shop' does not exist"):
        load_plan(path)
    assert load_plan(path, check_files=False).source == ("shop",)


def test_a_damaged_cache_entry_is_a_miss(shop: Path) -> None:
    path = shop / "migration_plan.yaml"
    expected = load_plan(path)
    entries = [p for p in cache_dir(shop).iterdir() if p.name.startswith("plan-")]
    assert entries
    for entry in entries:
        entry.write_bytes(b"\x80not a pickle")
    assert load_plan(path) == expected


def test_a_recorded_status_is_seen_by_the_next_load(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = shop / "migration_plan.yaml"
    plan = load_plan(path)
    record_status(plan, "shop/service.py", FileStatus.MIGRATED, {"by": "test"})
    reloaded = load_plan(path)
    assert reloaded.entry("shop/service.py").status is FileStatus.MIGRATED  # type: ignore[union-attr]
    with monkeypatch.context() as patched:
        _no_yaml(patched)
        assert load_plan(path) == reloaded


def test_reading_a_plan_adds_no_directory_to_a_tree(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    shutil.copytree(Path(__file__).parent / "assets" / "shop", fresh)
    load_plan(fresh / "migration_plan.yaml")
    load_plan(fresh / "migration_plan.yaml")
    assert not (fresh / ".asyncmigrate").exists()


@pytest.mark.parametrize("command", ["scan", "check", "apply"])
def test_the_command_that_makes_the_cache_directory_keeps_the_plan_it_loaded(
    shop: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A tree's first scan (or check, or dry run) loads its plan before the cache directory exists, then
    makes it: the plan is kept then, so the next command reads no YAML."""
    from asyncmigrate.analysis.facade import FacadeSpec
    from asyncmigrate.analysis.scan import scan
    from asyncmigrate.checks.check import check
    from asyncmigrate.workflow.apply import apply_files

    shutil.rmtree(shop / ".asyncmigrate")
    path = shop / "migration_plan.yaml"
    plan = load_plan(path)
    assert not cache_dir(shop).is_dir()
    if command == "scan":
        scan(shop, FacadeSpec.from_plan(plan), plan=plan)
    elif command == "check":
        check(plan)
    else:
        apply_files(plan, ["shop/service.py"], dry_run=True)
    with monkeypatch.context() as patched:
        _no_yaml(patched)
        assert load_plan(path) == plan


def test_a_plan_changed_since_it_was_loaded_is_not_kept_for_the_new_bytes(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asyncmigrate.analysis.facade import FacadeSpec
    from asyncmigrate.analysis.scan import scan

    shutil.rmtree(shop / ".asyncmigrate")
    path = shop / "migration_plan.yaml"
    plan = load_plan(path)
    path.write_text(path.read_text().replace("source: shop", "source: shop\nasync_aware_decorators: [a.b]"))
    scan(shop, FacadeSpec.from_plan(plan), plan=plan)
    assert load_plan(path).async_aware_decorators == ("a.b",)
