from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import jsonschema
import pytest

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.reach import FileSummary, FunctionSummary, summarize
from asyncmigrate.analysis.scan import check_encoding, scan
from asyncmigrate.config.plan import Plan, load_plan
from asyncmigrate.types import CallSite, Resolution

SCHEMAS = Path(__file__).parents[1] / "asyncmigrate" / "schemas"


def _scan(shop: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    plan = load_plan(shop / "migration_plan.yaml")
    return scan(shop, FacadeSpec.from_plan(plan), plan=plan, **kwargs)  # type: ignore[arg-type]


def test_finds_every_call_through_every_alias(shop: Path) -> None:
    result = _scan(shop)
    found = {(c.path, c.line, c.method, c.resolution) for c in result.calls}
    assert found == {
        ("shop/handlers.py", 8, "fetch_user", Resolution.FACTORY_ASSIGNMENT),  # aliased factory import
        ("shop/handlers.py", 17, "vacuum", Resolution.FACTORY_CALL),  # module attribute factory
        ("shop/service.py", 9, "fetch_user", Resolution.SELF_ATTRIBUTE),
        ("shop/service.py", 13, "store_user", Resolution.SELF_ATTRIBUTE),
        ("shop/service.py", 18, "all_users", Resolution.ANNOTATION),
        ("tests/test_service.py", 7, "store_user", Resolution.FACTORY_ASSIGNMENT),
        ("tests/test_service.py", 9, "fetch_user", Resolution.FACTORY_ASSIGNMENT),
    }


def test_flags_sync_calls_inside_async_def_as_blocking(shop: Path) -> None:
    result = _scan(shop)
    blocking = [(c.path, c.line, c.function) for c in result.calls if c.blocks_event_loop]
    assert blocking == [("shop/handlers.py", 8, "show_user")]


def test_reports_targets_unmapped_methods_and_plan_state(shop: Path) -> None:
    files = {f.path: f for f in _scan(shop).files}
    handlers = files["shop/handlers.py"]
    assert handlers.unmapped == ("vacuum",)
    assert handlers.repositories == ("user",)
    assert handlers.phase == 1 and handlers.status is not None and handlers.status.value == "pending"
    service = files["shop/service.py"]
    # rename and count_users turn async, then their callers rename_user and test_rename
    assert service.async_reach == 4
    assert {c.target for c in service.calls} == {"user.find", "user.put", "user.everyone"}


def test_receiver_names_are_only_a_last_resort(shop: Path) -> None:
    (shop / "shop" / "late.py").write_text(
        "def touch(holder):\n    return holder.db.fetch_user(3)\n\ndef other(cache):\n    return cache.fetch_user(3)\n"
    )
    calls = [c for c in _scan(shop).calls if c.path == "shop/late.py"]
    assert [(c.line, c.resolution) for c in calls] == [(2, Resolution.RECEIVER_NAME)]


def test_receiver_names_never_override_a_binding_the_scan_sees(shop: Path) -> None:
    (shop / "shop" / "doubles.py").write_text(
        "from unittest.mock import MagicMock\n"
        "from shop.gateway import Gateway\n"
        "\n"
        "def mocked():\n"
        "    db = MagicMock(spec=Gateway)\n"
        "    return db.fetch_user(1)\n"  # 6: another class's double
        "\n"
        "def typed(db: Gateway):\n"
        "    return db.fetch_user(2)\n"  # 9: annotated as something else
        "\n"
        "def untyped(db):\n"
        "    return db.fetch_user(3)\n"  # 12: an untyped parameter: the name is all there is
        "\n"
        "class Holder:\n"
        "    def __init__(self):\n"
        "        self.db = Gateway()\n"
        "\n"
        "    def read(self):\n"
        "        return self.db.fetch_user(4)\n"  # 19: self.db is visibly a Gateway
    )
    calls = [c for c in _scan(shop).calls if c.path == "shop/doubles.py"]
    assert [(c.line, c.resolution) for c in calls] == [(12, Resolution.RECEIVER_NAME)]


def test_files_without_hints_are_not_parsed(shop: Path) -> None:
    result = _scan(shop, use_cache=False)
    assert result.stats.files_seen == 5  # db.py and repos.py are excluded by the plan
    assert result.stats.files_prefiltered_out == 2  # shop/__init__.py and shop/noise.py
    assert result.stats.files_parsed == 3


def test_warm_rescan_parses_nothing_and_edits_invalidate(shop: Path) -> None:
    cold = _scan(shop)
    warm = _scan(shop)
    assert cold.stats.files_parsed == 3 and warm.stats.files_parsed == 0 and warm.stats.cache_hits == 3
    assert warm.calls == cold.calls
    assert [f.async_reach for f in warm.files] == [f.async_reach for f in cold.files]
    service = shop / "shop" / "service.py"
    service.write_text(service.read_text() + "\n\ndef again(db: Database) -> None:\n    db.vacuum()\n")
    edited = _scan(shop)
    assert edited.stats.files_parsed == 1
    assert any(c.method == "vacuum" and c.path == "shop/service.py" for c in edited.calls)
    assert (shop / ".asyncmigrate" / ".gitignore").read_text() == "*\n"


def test_unreadable_files_are_reported_and_the_scan_goes_on(shop: Path) -> None:
    (shop / "shop" / "latin.py").write_bytes(b"from shop.db import get_db\nname = '\xe9t\xe9'\n")
    (shop / "shop" / "cookie.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom shop.db import get_db\nname = '\xe9t\xe9'\nget_db().vacuum()\n"
    )
    (shop / "shop" / "broken.py").write_text("from shop.db import get_db\ndef f(:\n    pass\n")
    result = _scan(shop)
    errors = {f.path: f.error for f in result.errors}
    assert "not UTF-8" in (errors["shop/latin.py"] or "")
    assert "syntax error at line 2" in (errors["shop/broken.py"] or "")
    assert "shop/cookie.py" not in errors  # a coding cookie makes latin-1 legitimate
    assert any(c.path == "shop/cookie.py" and c.method == "vacuum" for c in result.calls)
    assert any(c.path == "shop/service.py" for c in result.calls)


def test_python_312_syntax_parses_on_older_interpreters(shop: Path) -> None:
    (shop / "shop" / "modern.py").write_text(
        "from shop.db import get_db\n\ntype UserId = int\n\n"
        "def first[T](items: list[T]) -> T:\n    return items[0]\n\n"
        'def load(uid: UserId):\n    db = get_db()\n    return f"{db.fetch_user(uid)!r:>{10}}"\n'
    )
    result = _scan(shop)
    assert not result.errors
    assert [(c.line, c.method) for c in result.calls if c.path == "shop/modern.py"] == [(10, "fetch_user")]


def test_parallel_and_inline_parsing_agree(shop: Path) -> None:
    service = (shop / "shop" / "service.py").read_text()
    padding = "\n".join(f"LIMIT_{i} = {i}  # {'x' * 60}" for i in range(300))
    for index in range(16):  # enough bytes to cross the inline threshold, few calls to parse
        (shop / "shop" / f"copy_{index}.py").write_text(service + padding)
    parallel = _scan(shop, use_cache=False, jobs=2)
    inline = _scan(shop, use_cache=False, jobs=1)
    assert parallel.stats.files_parsed == inline.stats.files_parsed == 3 + 16
    assert parallel.calls == inline.calls
    assert len(parallel.calls) == 7 + 16 * 3


def test_check_encoding() -> None:
    assert check_encoding(b"x = 1\n") is None
    assert check_encoding("x = 'é'\n".encode()) is None
    assert "not UTF-8" in (check_encoding(b"x = '\xff'\n") or "")
    assert "coding cookie" in (check_encoding(b"# coding: klingon\nx = 1\n") or "")


def test_json_document_matches_the_schema(shop: Path) -> None:
    from asyncmigrate.render import scan_json

    document = json.loads(json.dumps(scan_json(_scan(shop))))
    schema = json.loads((SCHEMAS / "scan.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["summary"]["call_sites"] == 7


@pytest.mark.parametrize("bad", ["shop/missing.py", "nowhere"])
def test_missing_paths_are_input_errors(shop: Path, bad: str) -> None:
    from asyncmigrate.errors import AsyncMigrateError

    plan = load_plan(shop / "migration_plan.yaml")
    with pytest.raises(AsyncMigrateError, match="no such file"):
        scan(shop, FacadeSpec.from_plan(plan), paths=[bad], plan=plan)


def test_settled_files_are_known_by_their_stat_and_not_read(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncmigrate.workspace.cache as cache_module

    monkeypatch.setattr(cache_module, "SETTLED_NS", 0)  # the files were written before the scan
    plan = load_plan(shop / "migration_plan.yaml")
    spec = FacadeSpec.from_plan(plan)  # reads the facade's module to learn its methods
    cold = scan(shop, spec, plan=plan)

    def no_reading(self: Path) -> bytes:
        raise AssertionError(f"read {self}")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    warm = scan(shop, spec, plan=plan)
    assert warm.calls == cold.calls and warm.stats.files_prefiltered_out == cold.stats.files_prefiltered_out
    assert [f.async_reach for f in warm.files] == [f.async_reach for f in cold.files]


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncmigrate.workspace.cache as cache_module

    monkeypatch.setattr(cache_module, "SETTLED_NS", 0)
    service = shop / "shop" / "service.py"
    before = _scan(shop)
    assert ("shop/service.py", 9, "fetch_user") in {(c.path, c.line, c.method) for c in before.calls}
    status = service.stat()
    service.write_text(service.read_text().replace("self.db.fetch_user(", "self.db.store_user(", 1))
    os.utime(service, ns=(status.st_atime_ns, status.st_mtime_ns))  # as `cp -p` or a checkout might
    assert service.stat().st_size == status.st_size
    after = _scan(shop)
    assert ("shop/service.py", 9, "store_user") in {(c.path, c.line, c.method) for c in after.calls}
    assert after.stats.files_parsed == 1


def test_files_still_settling_are_not_known_by_their_stat(shop: Path) -> None:
    from asyncmigrate.analysis.scan import ScanCache

    plan = load_plan(shop / "migration_plan.yaml")
    spec = FacadeSpec.from_plan(plan)
    scan(shop, spec, plan=plan)  # every file was written moments ago, as a checkout or an editor would
    assert ScanCache(shop, spec).files == {}


def _plain_reach(
    spec: FacadeSpec, summaries: dict[str, FileSummary], path: str, calls: tuple[CallSite, ...], cap: int
) -> int:
    """The reach as a plain walk of the callers counts it: function by function, every file searched."""
    functions = {f.qualname: f for f in summaries[path].functions}
    roots = {functions[c.function] for c in calls if c.function in functions}
    roots = {
        f
        for f in roots
        if any(spec.is_async_target(c.method) and not c.awaited for c in calls if c.function == f.qualname)
    }
    seen: set[tuple[str, str]] = set()
    pending: list[tuple[str, FunctionSummary]] = [(path, f) for f in roots if not f.is_async]
    while pending and len(seen) < cap:
        where, function = pending.pop()
        if (where, function.qualname) in seen:
            continue
        seen.add((where, function.qualname))
        for other, summary in summaries.items():
            for caller in summary.functions:
                called = function.name in caller.attr_calls or (
                    not function.is_method and function.name in caller.name_calls
                )
                if called and not caller.is_async and (other, caller.qualname) not in seen:
                    pending.append((other, caller))
    return len(seen)


def _server_summaries() -> tuple[FacadeSpec, Plan, dict[str, FileSummary]]:
    from asyncmigrate.analysis.scan import default_paths, discover

    repo = Path(__file__).parents[1]
    plan = load_plan(repo / "migration_plan.yaml")
    spec = FacadeSpec.from_plan(plan)
    summaries: dict[str, FileSummary] = {}
    for path in discover(repo, default_paths(plan), plan.exclude):
        summary = summarize(path, (repo / path).read_bytes(), spec)
        if summary is not None:
            summaries[path] = summary
    return spec, plan, summaries


def test_reach_matches_a_plain_walk_of_the_callers() -> None:
    """The estimate's walk expands each (name, kind) once; a plain walk must count the same."""
    spec, plan, summaries = _server_summaries()
    result = scan(plan.root, spec, plan=plan, use_cache=False)
    reaches = {f.path: f.async_reach for f in result.files if f.calls}
    assert sum(reaches.values()) > 0
    assert reaches == {f.path: _plain_reach(spec, summaries, f.path, f.calls, 1000) for f in result.files if f.calls}


@pytest.mark.parametrize("cap", [1, 2, 5, 12, 30])
def test_reach_under_a_cap_is_the_plain_walks_count(cap: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The estimate stops at the cap wherever its walk has got to: the count must still be the plain walk's."""
    from asyncmigrate.analysis import reach

    spec, plan, summaries = _server_summaries()
    result = scan(plan.root, spec, plan=plan, use_cache=False)
    calls = {f.path: f.calls for f in result.files if f.calls}
    monkeypatch.setattr(reach, "_MAX_REACH", cap)
    capped = reach.estimate_reach(calls, summaries, spec)
    assert capped == {path: _plain_reach(spec, summaries, path, found, cap) for path, found in calls.items()}
    assert cap in capped.values()  # some walks stopped at the cap


def test_discovery_skips_tool_directories_and_linked_directories(tmp_path: Path) -> None:
    from asyncmigrate.analysis.scan import discover

    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    for relative in ("pkg/a.py", "pkg/sub/b.py", "pkg/notes.txt", "outside.py"):
        (tmp_path / relative).write_text("x = 1\n")
    for skipped in (".venv", "__pycache__", "node_modules", ".hidden"):
        (tmp_path / "pkg" / skipped).mkdir()
        (tmp_path / "pkg" / skipped / "c.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "linked_dir").symlink_to(tmp_path / "pkg" / "sub")
    (tmp_path / "pkg" / "linked.py").symlink_to(tmp_path / "outside.py")
    assert discover(tmp_path, ["pkg"], []) == ["outside.py", "pkg/a.py", "pkg/sub/b.py"]
    assert discover(tmp_path, ["."], ["pkg/sub"]) == ["outside.py", "pkg/a.py"]
    assert discover(tmp_path / "pkg", ["sub"], []) == ["sub/b.py"]


def test_call_forms_of_async_code_and_mock_configuration(tmp_path: Path) -> None:
    """Thread hops and awaited async twins are call sites that do not block the event loop; a mock's
    configuration on a facade method (``.return_value``, ``.assert_called_once_with(...)``, …) is none."""
    forge = tmp_path / "forge"
    shutil.copytree(Path(__file__).parent / "assets" / "forge", forge)
    (forge / "tests" / "test_doubles.py").write_text(
        "from unittest.mock import MagicMock\n"
        "\n"
        "from forge.vault import Vault\n"
        "\n"
        "\n"
        "def configure(vault: Vault) -> None:\n"
        "    vault.fetch_blueprint.return_value = None\n"
        "    vault.forge_item.side_effect = KeyError\n"
        "    vault.fetch_blueprint.assert_called_once_with('sword')\n"
        "    assert vault.move_item.call_args is None and not vault.bench_of.called\n"
        "    vault.items_owned.reset_mock()\n"
        "    vault.bench_of(1)  # the one call\n"
        "    getattr(vault, 'move_item').assert_not_called()\n"
    )
    (forge / "forge" / "lookup.py").write_text(
        "from forge.vault import open_vault\n\n\nasync def fetch(kind):\n"
        "    return getattr(open_vault(), 'fetch_blueprint')(kind)\n"
    )
    plan = load_plan(forge / "migration_plan.yaml")
    for jobs in (1, 2):
        result = scan(forge, FacadeSpec.from_plan(plan), plan=plan, use_cache=False, jobs=jobs)
        calls = {(c.path, c.line): c for c in result.calls}
        assert [key for key in calls if key[0] == "tests/test_doubles.py"] == [("tests/test_doubles.py", 12)]
        workshop = {
            c.line: (c.method, c.wrapper, c.awaited, c.is_reference, c.blocks_event_loop)
            for c in result.calls
            if c.path == "forge/workshop.py"
        }
        assert workshop == {
            17: ("fetch_blueprint", "to_thread", False, False, False),
            20: ("forge_item", "to_thread", False, False, False),
            26: ("move_item", "run_in_executor", False, False, False),  # through functools.partial
            27: ("bench_of", None, False, False, True),  # the one sync call left in async code
            31: ("fetch_blueprint_async", None, True, False, False),  # the facade's own async twin
            36: ("label_async", None, True, False, False),
            41: ("items_owned", None, False, True, False),  # a bound method (rewritten where it is called)
            46: ("forge_item", None, False, False, False),
        }
        lookup = [
            (c.line, c.column, c.method, c.receiver, c.blocks_event_loop)
            for c in result.calls
            if c.path == "forge/lookup.py"
        ]
        assert lookup == [(5, 11, "fetch_blueprint", "open_vault()", True)]  # getattr with a literal name


def test_a_files_collection_runs_once_its_tree_is_gone() -> None:
    """The collection after each parsed file (``run_task``) walks what the file's work left, not its syntax
    tree: a tree still referenced when it runs is walked whole (7% of the per-file work on the 200,000-line
    benchmark tree, measured)."""
    import ast
    import gc

    from asyncmigrate.analysis.scan import run_task

    spec = FacadeSpec.from_options(Path("."), ["app.get_persistence"], [], ["persistence"])
    source = b"def load(player_id):\n    return persistence.get_player(player_id)\n" * 40
    trees_alive: list[int] = []

    def count(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            trees_alive.append(sum(isinstance(thing, ast.AST) for thing in gc.get_objects(0)))

    gc.collect()
    gc.callbacks.append(count)
    try:
        parsed, _ = run_task("app/load.py", source, spec, True)
    finally:
        gc.callbacks.remove(count)
    assert len(parsed.calls) == 40
    assert trees_alive and trees_alive[-1] == 0
