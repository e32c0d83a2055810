"""Whole results cached under a key over all they are computed from: ``apply``'s change, ``check``'s
un-awaited calls. A hit gives what computing again gives; anything the result depends on misses."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from asyncmigrate.checks.check import UNAWAITED_ASYNC_CALL, check
from asyncmigrate.config.plan import load_plan, record_status
from asyncmigrate.types import FileStatus
from asyncmigrate.workflow import apply as apply_module
from asyncmigrate.workflow.apply import compute_change
from asyncmigrate.workspace import cache
from asyncmigrate.workspace.cache import KeyedResults


def test_keyed_results_read_back_keep_the_newest_and_treat_garbage_as_misses(tmp_path: Path) -> None:
    results = KeyedResults(tmp_path, "things", "v1", limit=2)
    assert results.get(b"a") is None
    for key, value in ((b"a", [1]), (b"b", [2]), (b"c", [3])):
        assert results.put(key, value)
        time.sleep(0.01)  # distinct modification times: the oldest goes
    again = KeyedResults(tmp_path, "things", "v1", limit=2)
    assert (again.get(b"a"), again.get(b"b"), again.get(b"c")) == (None, [2], [3])
    again._entry(b"c").path.write_bytes(b"not a pickle")
    assert KeyedResults(tmp_path, "things", "v1").get(b"c") is None
    assert KeyedResults(tmp_path, "things", "v2").get(b"b") is None  # another format version


class _Computed(Exception):
    """Raised by a spy in place of computing a change: the cache was missed."""


def _forbid_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    def spy(*_args: object, **_kwargs: object) -> None:
        raise _Computed

    monkeypatch.setattr(apply_module, "_compute_change", spy)


def test_a_change_is_computed_once_per_tree_and_plan(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = load_plan(shop / "migration_plan.yaml")
    first = compute_change(plan, ["shop/service.py"])
    assert first.changed  # something to cache
    _forbid_computing(monkeypatch)
    again = compute_change(load_plan(shop / "migration_plan.yaml"), ["shop/service.py"])
    assert again.to_json() == first.to_json()
    assert [(e.path, e.before, e.after) for e in again.edits] == [(e.path, e.before, e.after) for e in first.edits]
    assert again.step.to_json() == first.step.to_json()
    # the plan's record of what was done is read by no analysis: still a hit
    record_status(plan, "shop/handlers.py", FileStatus.PENDING, {"event": "note"})
    compute_change(load_plan(shop / "migration_plan.yaml"), ["shop/service.py"])
    with pytest.raises(_Computed):  # another target
        compute_change(load_plan(shop / "migration_plan.yaml"), ["shop/handlers.py"])


def test_a_copy_of_the_tree_with_its_cache_hits(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = compute_change(load_plan(shop / "migration_plan.yaml"), ["shop/service.py"])
    copy = shop.parent / "elsewhere"
    shutil.copytree(shop, copy)
    _forbid_computing(monkeypatch)
    again = compute_change(load_plan(copy / "migration_plan.yaml"), ["shop/service.py"])
    assert again.to_json() == first.to_json()


@pytest.mark.parametrize(
    "edit",
    [
        # a file the change does not touch, but whose calls propagation reads
        lambda shop: (shop / "shop" / "noise.py").write_text(
            (shop / "shop" / "noise.py").read_text() + "\n\ndef extra():\n    return 1\n"
        ),
        # a test file
        lambda shop: (shop / "tests" / "test_service.py").write_text(
            (shop / "tests" / "test_service.py").read_text() + "\n"
        ),
        # the repository module the rewrite reads the signatures of
        lambda shop: (shop / "shop" / "repos.py").write_text((shop / "shop" / "repos.py").read_text() + "\n"),
        # the plan's settings
        lambda shop: (shop / "migration_plan.yaml").write_text(
            (shop / "migration_plan.yaml").read_text().replace("receiver_names: [db]", "receiver_names: [db, store]")
        ),
        # the pytest settings
        lambda shop: (shop / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n"),
    ],
    ids=["other-source", "test", "repository", "plan", "pytest-settings"],
)
def test_anything_a_change_reads_invalidates_it(shop: Path, monkeypatch: pytest.MonkeyPatch, edit: object) -> None:
    compute_change(load_plan(shop / "migration_plan.yaml"), ["shop/service.py"])
    edit(shop)  # type: ignore[operator]
    _forbid_computing(monkeypatch)
    with pytest.raises(_Computed):
        compute_change(load_plan(shop / "migration_plan.yaml"), ["shop/service.py"])


def test_without_the_cache_nothing_is_stored(shop: Path) -> None:
    compute_change(load_plan(shop / "migration_plan.yaml"), ["shop/service.py"], use_cache=False)
    directory = cache.cache_dir(shop)
    assert not directory.exists() or not any(p.name.startswith("changes-") for p in directory.iterdir())


JOBS = """\
import asyncio


async def refresh(user_id: int) -> int:
    return user_id


def nightly() -> None:
    refresh(1)
"""


def _unawaited(shop: Path) -> list[tuple[str, int]]:
    result = check(load_plan(shop / "migration_plan.yaml"), use_cache=True)
    return [(f.path, f.line) for f in result.findings if f.kind == UNAWAITED_ASYNC_CALL]


def test_check_reuses_findings_until_a_file_or_the_plan_changes(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from asyncmigrate.checks import unawaited

    (shop / "shop" / "jobs.py").write_text(JOBS)
    assert _unawaited(shop) == [("shop/jobs.py", 9)]
    analyses: list[object] = []
    real = unawaited._Analysis.findings

    def counted(self: unawaited._Analysis) -> object:
        analyses.append(self)
        return real(self)

    monkeypatch.setattr(unawaited._Analysis, "findings", counted)
    assert _unawaited(shop) == [("shop/jobs.py", 9)]
    assert analyses == []  # a hit
    # another file calls it too: that file's content is part of the key
    (shop / "shop" / "cron.py").write_text("from shop.jobs import refresh\n\n\ndef run():\n    refresh(2)\n")
    assert _unawaited(shop) == [("shop/cron.py", 5), ("shop/jobs.py", 9)]
    assert len(analyses) == 1
    # the plan's coroutine consumers decide what runs a coroutine: a change of them is a miss
    plan = shop / "migration_plan.yaml"
    plan.write_text(plan.read_text().replace("mappings:", "coroutine_consumers: [shop.cron.run]\nmappings:"))
    _unawaited(shop)
    assert len(analyses) == 2


def test_checks_in_processes_hashing_strings_differently_share_the_findings(shop: Path) -> None:
    """The key holds the facade call sites in the scan's order (files by path, calls by position), never a
    set's iteration order, which string hashing makes differ from one process to the next: a second
    ``check`` under another hash seed is a hit (one entry of findings), and the facade's calls are in it
    (a receiver name that makes another call site a facade call: another entry)."""
    import os
    import subprocess
    import sys

    # ``store`` becomes a receiver name of the facade below: its call is a facade call site only then
    (shop / "shop" / "jobs.py").write_text(JOBS + "\n\ndef sweep(store) -> None:\n    store.fetch_user(1)\n")
    command = [sys.executable, "-m", "asyncmigrate", "check", "--format", "json"]
    for seed in ("1", "2"):
        subprocess.run(command, cwd=shop, env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, check=False)
    entries = lambda: sorted(p.name for p in cache.cache_dir(shop).glob("unawaited-*"))  # noqa: E731
    assert len(entries()) == 1
    plan = shop / "migration_plan.yaml"
    plan.write_text(plan.read_text().replace("receiver_names: [db]", "receiver_names: [db, store]"))
    subprocess.run(command, cwd=shop, env={**os.environ, "PYTHONHASHSEED": "3"}, capture_output=True, check=False)
    assert len(entries()) == 2


def test_a_warm_check_reads_no_module_summary_nor_index(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from asyncmigrate.analysis import callgraph
    from asyncmigrate.checks import unawaited

    (shop / "shop" / "jobs.py").write_text(JOBS)
    first = check(load_plan(shop / "migration_plan.yaml"), use_cache=True)

    def fail(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("read although the findings are cached")

    # the call graph's module indexes and summaries (from the cache or from a file), and the analysis
    monkeypatch.setattr(callgraph._GraphCache, "indexes", fail)
    monkeypatch.setattr(cache.PackFile, "get", fail)
    monkeypatch.setattr(callgraph, "read_module", fail)
    monkeypatch.setattr(unawaited._Analysis, "findings", fail)
    again = check(load_plan(shop / "migration_plan.yaml"), use_cache=True)
    assert again.findings == first.findings
    assert [(f.path, f.line) for f in again.findings if f.kind == UNAWAITED_ASYNC_CALL] == [("shop/jobs.py", 9)]
