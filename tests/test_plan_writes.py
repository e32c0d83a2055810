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


_PLANS = sorted(Path(__file__).parent.joinpath("assets").glob("*/migration_plan.yaml")) + [
    Path(__file__).parents[1] / "migration_plan.yaml"
]
_EVENTS: list[dict[str, Any]] = [
    {"event": "apply", "call_sites": 3, "files_touched": ["a.py", "b/c.py"], "transaction": "t1"},
    {"event": "test", "output_tail": "E   assert 1 == 2\nFAILED tests/x.py::t - 'quoted': yes\n\ttab", "passed": False},
    {"event": "mark", "reason": 'déjà vu: ümlauts, "quotes", # not a comment, {braces}, [brackets]'},
    {"event": "test", "output_tail": "x" * 5000 + " y" * 3000},  # past the dump's line width
    {"event": "apply", "blockers": [{"path": "a.py", "line": 3, "message": "m: n", "fix": "- f"}]},
]


@pytest.mark.parametrize("plan_file", _PLANS, ids=lambda p: p.parent.name)
def test_an_update_of_entries_writes_what_dumping_the_whole_document_writes(
    plan_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entry-only updates of a document this process wrote splice the entries' lines into the text
    written; after every update the file must hold exactly the dump of the whole document."""
    from asyncmigrate.config import plan as plan_module

    path = tmp_path / "migration_plan.yaml"
    path.write_bytes(plan_file.read_bytes())
    monkeypatch.setattr(plan_module, "_check_size", lambda _path: None)
    plan = plan_module.parse_plan(plan_module._yaml().load(path.read_text()), path, check_files=False)
    spliced = 0
    real_splice = plan_module._splice_entries

    def counting_splice(*args: Any) -> Any:
        nonlocal spliced
        found = real_splice(*args)
        spliced += found is not None
        return found

    monkeypatch.setattr(plan_module, "_splice_entries", counting_splice)
    plan_module._written.clear()
    paths = [entry.path for entry in plan.entries()]
    order = paths[::-1] + paths[:3] + paths[-2:]  # the last entry first: it holds the document's end
    statuses = [FileStatus.MIGRATED, FileStatus.FAILED, FileStatus.VERIFIED, FileStatus.BLOCKED]
    for number, entry in enumerate(order):
        event = _EVENTS[number % len(_EVENTS)]
        reason = "needs a look" if number % 3 == 0 else None
        repositories = sorted(plan.repositories)[:1] if number % 4 == 1 else None
        plan = record_status(plan, entry, statuses[number % 4], event, reason=reason, repositories=repositories)
        remembered = plan_module._written[path]
        assert path.read_text() == plan_module.dump_document(remembered[1]), (entry, number)
    assert spliced == len(order) - 1  # all but the first update, which parses the file as the user wrote it
    reread = load_plan(path, check_files=False)
    assert [entry.path for entry in reread.entries()] == paths
    assert reread.entry(order[-1]) is not None and reread.entry(order[-1]).status is statuses[(len(order) - 1) % 4]


def test_one_event_recorded_for_several_entries_is_written_out_for_each(shop: Path) -> None:
    """A step of several entries records one event in each; a list shared between the records would be
    dumped as an anchor and an alias, which reading the plan refuses."""
    from asyncmigrate.config.plan import set_status

    path = shop / "migration_plan.yaml"
    event = {"event": "recover", "files_restored": ["shop/service.py", "shop/handlers.py"]}
    entries = ["shop/service.py", "shop/handlers.py"]

    def change(document: Any) -> None:
        for entry in entries:
            set_status(document, entry, FileStatus.PENDING, event)

    update_plan(load_plan(path), change, entries=entries)
    assert "&id" not in path.read_text()
    reread = load_plan(path)
    assert all(reread.entry(e) is not None for e in entries)


def test_a_comment_under_a_key_survives_every_update(tmp_path: Path) -> None:
    """A comment between a key and its mapping's first key (``room:`` then ``# ...``) is one that ruamel's
    deep copy drops: the document handed from one update to the next is never copied."""
    bundled = Path(__file__).parents[1] / "migration_plan.yaml"
    text = bundled.read_text()
    comment = "    # The room cache is loaded at start-up; its reads stay synchronous.\n"
    assert "  room:\n" + comment in text
    path = tmp_path / "migration_plan.yaml"
    path.write_text(text)
    plan = load_plan(path, check_files=False)
    for entry in [e.path for e in plan.entries()][:3]:
        plan = record_status(plan, entry, FileStatus.MIGRATED, {"event": "apply"})
        assert "  room:\n" + comment in path.read_text()
