"""The guarantees of ``apply`` (issue 4, item 3), each a test that fails when the guarantee breaks.

* the output always parses and compiles, and a change that would not is refused with nothing written;
* applying twice changes nothing the second time;
* a file with no facade call is byte-identical, and so is every file the change does not touch;
* CRLF line endings, tab indentation, a UTF-8 BOM and a coding cookie (latin-1, non-ASCII text) survive.

Crash/kill mid-apply and the apply lock are tested in test_transaction.py. The fixture codebase is
``tests/assets/library``; the encoding cases use a small project written here.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from libcst.metadata import PositionProvider

import asyncmigrate.codemods.apply_edits as apply_edits
import asyncmigrate.codemods.replay_rewrites as replay_rewrites
import asyncmigrate.workflow.apply as apply_module
from asyncmigrate.codemods.propagate_async import PropagateAsyncCommand, _token
from asyncmigrate.codemods.replay_rewrites import ReplayRewritesCommand
from asyncmigrate.codemods.rewrite_facade_calls import RewriteFacadeCallsCommand
from asyncmigrate.config.plan import Plan, load_plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.migration.propagate import AWAIT, CallEdit, PropagationPlan
from asyncmigrate.types import FileStatus
from asyncmigrate.workflow.apply import ApplyResult, apply_files, compute_change

ASSETS = Path(__file__).parent / "assets"
TARGETS = ["library/api.py", "library/catalog.py", "library/loans.py"]
# What applying the three targets touches: the targets, their callers (cli.py), the tests awaiting them.
TOUCHED = {"library/api.py", "library/catalog.py", "library/cli.py", "library/loans.py", "tests/test_catalog.py"}


def fingerprints(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".asyncmigrate" not in p.parts and "__pycache__" not in p.parts
    }


@pytest.fixture
def library(tmp_path: Path) -> Path:
    target = tmp_path / "library"
    shutil.copytree(ASSETS / "library", target)
    return target


@dataclass(frozen=True)
class Migrated:
    root: Path
    before: dict[str, str]  # fingerprints before the first apply
    plan: Plan
    results: list[ApplyResult]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Migrated:
    """The library applied file by file in plan order, each apply tested. One run, shared by the tests
    that take it; none of them writes."""
    root = tmp_path_factory.mktemp("migrated") / "library"
    shutil.copytree(ASSETS / "library", root)
    # The plan's ``python`` is whatever is on PATH: run the tests with this interpreter, and make an
    # un-awaited coroutine fail them.
    plan_file = root / "migration_plan.yaml"
    plan_file.write_text(
        plan_file.read_text().replace(
            "test_command: [python, -m, pytest, -q, -p, no:cacheprovider]",
            f"test_command: [{sys.executable}, -W, 'error::RuntimeWarning', -m, pytest, -q, -p, no:cacheprovider]",
        )
    )
    before = fingerprints(root)
    plan, results = apply_files(load_plan(plan_file), TARGETS)
    return Migrated(root, before, plan, results)


def test_library_migrates_file_by_file_with_its_tests_green(migrated: Migrated) -> None:
    assert [r.change.blockers for r in migrated.results] == [[], [], []]
    assert [r.test_passed for r in migrated.results] == [True, True, True], [r.test_output for r in migrated.results]
    assert [migrated.plan.entry(t).status for t in TARGETS] == [FileStatus.VERIFIED] * 3  # type: ignore[union-attr]


# -- output parses; a change that would not is refused -------------------------------------------------


def test_every_written_file_parses_and_compiles(migrated: Migrated) -> None:
    for result in migrated.results:
        for edit in result.change.changed:
            ast.parse(edit.after)
            compile(edit.after, edit.path, "exec", dont_inherit=True)


def test_output_that_does_not_compile_is_refused_and_nothing_is_written(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = apply_edits.transform_file

    def broken(tree: cst.Module, path: str, *args: Any, **kwargs: Any) -> tuple[cst.Module, Any]:
        output, outcome = real(tree, path, *args, **kwargs)
        if path == "library/catalog.py":  # an ``await`` left in a plain def: parses, but does not compile
            output = cst.parse_module(output.code.replace("async def", "def"))
        return output, outcome

    monkeypatch.setattr(apply_edits, "transform_file", broken)
    before = fingerprints(library)
    with pytest.raises(AsyncMigrateError, match=r"library/catalog\.py:\d+: the rewrite produced code that does not"):
        apply_files(load_plan(library / "migration_plan.yaml"), ["library/catalog.py"], run_tests=False)
    assert fingerprints(library) == before


@pytest.mark.parametrize(
    ("output", "line", "problem"),
    [
        (b"def f():\n    return 1\n\n\ndef g():\n    await f()\n", 6, "'await' outside async function"),
        (b"async def f():\n    return (1\n", 2, "was never closed"),
    ],
)
def test_output_that_does_not_parse_or_compile_is_named_with_its_line(output: bytes, line: int, problem: str) -> None:
    """One compile refuses both: a parse error, and an ``await`` that only the compiler refuses."""
    with pytest.raises(AsyncMigrateError, match=rf"^pkg/mod\.py:{line}: .*\(.*{problem}\); nothing was written"):
        apply_module._check_output("pkg/mod.py", output)


def test_output_that_compiles_passes_the_check() -> None:
    apply_module._check_output("pkg/mod.py", b"async def f():\n    return 1\n\n\nasync def g():\n    await f()\n")


def test_blocked_change_writes_nothing(library: Path) -> None:
    (library / "library" / "catalog.py").write_text(
        (library / "library" / "catalog.py").read_text()
        + "\n\ndef sorted_titles(isbns: list[str]) -> list[str]:\n"
        + "    return sorted(isbns, key=lambda isbn: Catalog().title_of(isbn) or '')\n"
    )
    before = fingerprints(library)
    plan, [result] = apply_files(load_plan(library / "migration_plan.yaml"), ["library/catalog.py"], run_tests=False)
    assert [(b.kind, b.path) for b in result.change.blockers] == [("lambda", "library/catalog.py")]
    assert result.status is FileStatus.BLOCKED and not result.written
    changed = {path for path, digest in fingerprints(library).items() if before.get(path) != digest}
    assert changed == {"migration_plan.yaml"}  # the plan records the blocker; no source file moved


# -- every planned edit is applied, or nothing is written (issue 10, item 4) ------------------------------


def test_a_planned_edit_the_code_does_not_have_stops_the_apply(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = apply_module.propagate

    def with_a_phantom_edit(*args: Any, **kwargs: Any) -> PropagationPlan:
        plan = real(*args, **kwargs)
        # an await at a position where there is no call: the codemod cannot apply it
        plan.call_edits.append(CallEdit("library/catalog.py", 1, 0, AWAIT, "library.catalog.Catalog.title_of"))
        return plan

    monkeypatch.setattr(apply_module, "propagate", with_a_phantom_edit)
    before = fingerprints(library)
    plan, [result] = apply_files(load_plan(library / "migration_plan.yaml"), ["library/catalog.py"], run_tests=False)
    assert [(b.kind, b.path, b.line) for b in result.change.blockers] == [("edit_not_applied", "library/catalog.py", 1)]
    assert "await of library.catalog.Catalog.title_of" in result.change.blockers[0].message
    assert result.status is FileStatus.BLOCKED and not result.written
    changed = {path for path, digest in fingerprints(library).items() if before.get(path) != digest}
    assert changed == {"migration_plan.yaml"}


def test_a_dropped_await_is_caught_though_the_output_compiles(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = PropagateAsyncCommand.leave_Call

    def dropping(self: PropagateAsyncCommand, original_node: Any, updated_node: Any) -> Any:
        key = self._key(_token(original_node.func))
        edit = self.calls.get(key) if key else None
        if edit is not None and edit.kind == AWAIT and edit.path == "library/cli.py":
            return updated_node  # a codemod bug: the await is silently left out
        return real(self, original_node, updated_node)

    monkeypatch.setattr(PropagateAsyncCommand, "leave_Call", dropping)
    change = compute_change(load_plan(library / "migration_plan.yaml"), ["library/catalog.py"], use_cache=False)
    dropped = [e for e in change.propagation.call_edits if e.path == "library/cli.py" and e.kind == AWAIT]
    assert dropped
    assert sorted((b.kind, b.path, b.line) for b in change.blockers) == sorted(
        ("edit_not_applied", e.path, e.line) for e in dropped
    )
    for edit in change.changed:  # it all still compiles: compiling proves nothing
        compile(edit.after, edit.path, "exec", dont_inherit=True)


def test_a_facade_call_the_deciding_pass_left_alone_stops_the_apply(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = RewriteFacadeCallsCommand.transform_module

    def forgetful(self: RewriteFacadeCallsCommand, tree: cst.Module) -> cst.Module:
        output = real(self, tree)
        if self.record:  # the pass that decides the rewrites on the propagated tree
            self.outcome.rewritten.pop()  # as if the last planned call had been skipped
        return output

    monkeypatch.setattr(RewriteFacadeCallsCommand, "transform_module", forgetful)
    change = compute_change(load_plan(library / "migration_plan.yaml"), ["library/catalog.py"], use_cache=False)
    _only_blocker_is_the_rewrite_of(change, [c for c in change.rewritten if c.path == "library/catalog.py"][-1])


def _only_blocker_is_the_rewrite_of(change: Any, call: Any) -> None:
    assert [(b.kind, b.path, b.line) for b in change.blockers] == [("edit_not_applied", call.path, call.line)]
    assert f"rewrite of {call.receiver}.{call.method}()" in change.blockers[0].message


def test_a_recorded_rewrite_the_replay_cannot_find_stops_the_apply(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ReplayRewritesCommand._found
    skipped: list[int] = []

    def blind(self: ReplayRewritesCommand, table: Any, node: cst.CSTNode, kind: str) -> Any:
        found = real(self, table, node, kind)
        if found is not None and isinstance(node, cst.Call) and not skipped:
            skipped.append(self.get_metadata(PositionProvider, node).start.line)
            self._made.discard(next(key for key, value in table.items() if value is found))
            return None  # as if the recorded node were not in the tree
        return found

    monkeypatch.setattr(ReplayRewritesCommand, "_found", blind)
    change = compute_change(load_plan(library / "migration_plan.yaml"), ["library/catalog.py"], use_cache=False)
    assert skipped
    _only_blocker_is_the_rewrite_of(change, [c for c in change.rewritten if c.path == "library/catalog.py"][0])


def test_a_replay_that_writes_other_code_than_the_decision_is_refused(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = replay_rewrites.parse_expression_text

    def garbled(text: str, module: cst.Module, indent: str) -> cst.BaseExpression:
        return real(text.replace("await ", "await  "), module, indent)  # a replay bug: other spacing

    monkeypatch.setattr(replay_rewrites, "parse_expression_text", garbled)
    before = fingerprints(library)
    with pytest.raises(AsyncMigrateError, match=r"library/catalog\.py: replaying the recorded call rewrites gives"):
        apply_files(load_plan(library / "migration_plan.yaml"), ["library/catalog.py"], run_tests=False)
    assert fingerprints(library) == before


# -- idempotence ------------------------------------------------------------------------------------------


def test_applying_twice_changes_nothing_the_second_time(migrated: Migrated) -> None:
    after_first = fingerprints(migrated.root)
    for target in TARGETS:
        change = compute_change(migrated.plan, [target])
        assert [e.path for e in change.changed] == [], target
        assert change.blockers == [] and change.rewritten == []
    plan, results = apply_files(migrated.plan, TARGETS, run_tests=False)
    assert [r.written for r in results] == [False, False, False]
    assert fingerprints(migrated.root) == after_first


# -- untouched files are byte-identical -------------------------------------------------------------------


def test_files_the_change_does_not_touch_are_byte_identical(migrated: Migrated) -> None:
    touched = {e.path for r in migrated.results for e in r.change.changed}
    assert touched == TOUCHED
    after = fingerprints(migrated.root)
    moved = {p for p in migrated.before if migrated.before[p] != after[p]}
    assert moved == TOUCHED | {"migration_plan.yaml"}
    for result in migrated.results:
        for edit in result.change.edits:
            assert edit.changed or edit.after == edit.before


def test_target_without_facade_calls_is_byte_identical(library: Path) -> None:
    odd = b"# odd   spacing, trailing space \nimport os ;  x=1\n\n\n\ndef f( a ):\treturn os.sep*a   \n"
    (library / "library" / "plain.py").write_bytes(odd)
    change = compute_change(load_plan(library / "migration_plan.yaml"), ["library/plain.py"])
    assert change.changed == [] and change.blockers == []
    assert [e.after for e in change.edits if e.path == "library/plain.py"] == [odd]


# -- line endings, indentation, encodings -----------------------------------------------------------------

PLAN = """
version: 1
source: app
tests: app
exclude: [app/db.py, app/repos.py]
facade:
  factories: [app.db.get_db]
  classes: [app.db.Database]
repositories:
  item: {class: app.repos.ItemRepo, provider: app.repos.get_item_repo, attribute: item_repo}
mappings:
  fetch: item.get
phases:
  - id: 1
    files:
      - {path: app/svc.py}
"""
DB = "class Database:\n    def fetch(self, key):\n        return key\n\n\ndef get_db():\n    return Database()\n"
REPOS = (
    "class ItemRepo:\n    async def get(self, key):\n        return key\n\n\n"
    "def get_item_repo():\n    return ItemRepo()\n"
)
SERVICE = """
from app.db import get_db


def load(key):
    \"\"\"Read it.\"\"\"
    db = get_db()
    return db.fetch(key)
"""
CALLER = """
from app.svc import load


def use(key):
    return ("{text}", load(key))
"""
SERVICE_AFTER = """
from app.repos import get_item_repo


async def load(key):
    \"\"\"Read it.\"\"\"
    item_repo = get_item_repo()
    return await item_repo.get(key)
"""
CALLER_AFTER = """
from app.svc import load


async def use(key):
    return ("{text}", await load(key))
"""


def encoded(text: str, *, newline: str = "\n", tabs: bool = False, header: str = "", encoding: str = "utf-8") -> bytes:
    body = textwrap.dedent(text).lstrip("\n")
    if tabs:
        body = body.replace("    ", "\t")
    return (header + body).replace("\n", newline).encode(encoding)


def migrate(root: Path, service: bytes, caller: bytes) -> dict[str, bytes]:
    for path, data in {
        "app/__init__.py": b"",
        "app/db.py": DB.encode(),
        "app/repos.py": REPOS.encode(),
        "app/svc.py": service,
        "app/caller.py": caller,
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    (root / "migration_plan.yaml").write_text(PLAN)
    change = compute_change(load_plan(root / "migration_plan.yaml"), ["app/svc.py"], use_cache=False)
    assert change.blockers == []
    return {e.path: e.after for e in change.changed}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("tabs", [False, True], ids=["spaces", "tabs"])
def test_line_endings_and_indentation_survive(tmp_path: Path, newline: str, tabs: bool) -> None:
    service = encoded(SERVICE, newline=newline, tabs=tabs)
    caller = encoded(CALLER.format(text="x"), newline=newline, tabs=tabs)
    assert migrate(tmp_path, service, caller) == {
        "app/svc.py": encoded(SERVICE_AFTER, newline=newline, tabs=tabs),
        "app/caller.py": encoded(CALLER_AFTER.format(text="x"), newline=newline, tabs=tabs),
    }


def test_utf8_bom_and_non_ascii_before_the_call_survive(tmp_path: Path) -> None:
    bom, text = "\ufeff", "déjà vu → €"
    after = migrate(tmp_path, encoded(SERVICE, header=bom), encoded(CALLER.format(text=text), header=bom))
    assert after == {
        "app/svc.py": encoded(SERVICE_AFTER, header=bom),
        "app/caller.py": encoded(CALLER_AFTER.format(text=text), header=bom),
    }


def test_coding_cookie_and_latin1_text_survive(tmp_path: Path) -> None:
    cookie = "# -*- coding: latin-1 -*-\n"
    service = encoded(SERVICE.replace("Read it.", "Lire la clé."), header=cookie, encoding="latin-1")
    after = migrate(tmp_path, service, encoded(CALLER.format(text="x"), header=cookie, encoding="latin-1"))
    assert after == {
        "app/svc.py": encoded(SERVICE_AFTER.replace("Read it.", "Lire la clé."), header=cookie, encoding="latin-1"),
        "app/caller.py": encoded(CALLER_AFTER.format(text="x"), header=cookie, encoding="latin-1"),
    }


def test_latin1_caller_with_non_ascii_before_the_call(tmp_path: Path) -> None:
    cookie = "# -*- coding: latin-1 -*-\n"
    after = migrate(tmp_path, encoded(SERVICE), encoded(CALLER.format(text="clé"), header=cookie, encoding="latin-1"))
    assert after["app/caller.py"] == encoded(CALLER_AFTER.format(text="clé"), header=cookie, encoding="latin-1")
