"""An ``await`` the rewrite puts in a ``finally:`` block can be cut short by a cancellation: reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from asyncmigrate.config.plan import load_plan
from asyncmigrate.migration import cautions
from asyncmigrate.migration.cautions import new_cleanup_awaits
from asyncmigrate.workflow.apply import compute_change
from tests.test_apply_guarantees import DB, PLAN, REPOS


def _cautions(before: str, after: str) -> list[tuple[int, str]]:
    found = new_cleanup_awaits("m.py", textwrap.dedent(before).encode(), textwrap.dedent(after).encode())
    return [(c.line, c.message.split("`")[1]) for c in found]


def test_a_new_await_in_finally_is_reported_with_its_line() -> None:
    before = """
    def f(db):
        try:
            work()
        finally:
            db.touch()
    """
    after = """
    async def f(repo):
        try:
            work()
        finally:
            await repo.touch()
    """
    assert _cautions(before, after) == [(6, "await repo.touch()")]


def test_awaits_outside_finally_and_in_nested_functions_are_not() -> None:
    after = """
    async def f(repo):
        try:
            await repo.read()
        except KeyError:
            await repo.undo()
        finally:
            async def later():
                await repo.touch()
            register(later)
    """
    assert _cautions("", after) == []


def test_an_await_the_finally_block_had_already_is_not_new_even_when_it_moved() -> None:
    before = """
    async def f(repo):
        try:
            pass
        finally:
            await repo.close()
    """
    after = """
    # a comment that moves everything down a line

    async def f(repo):
        try:
            pass
        finally:
            await repo.close()
            await repo.touch()
    """
    assert _cautions(before, after) == [(9, "await repo.touch()")]


def test_except_star_and_nested_try_blocks_count() -> None:
    after = """
    async def f(repo):
        try:
            try:
                pass
            finally:
                x = [await repo.one()]
        except* ValueError:
            pass
        finally:
            await repo.two()
    """
    assert [line for line, _ in _cautions("", after)] == [7, 11]


def test_a_try_finally_inside_a_finally_block_reports_its_await_once() -> None:
    after = """
    async def f(repo):
        try:
            pass
        finally:
            try:
                pass
            finally:
                await repo.close()
    """
    assert _cautions("", after) == [(9, "await repo.close()")]


def test_code_the_interpreter_cannot_parse_gives_no_caution_rather_than_a_guess() -> None:
    assert _cautions("def f(:\n", "async def f():\n    try: pass\n    finally: await g()\n") == []


# the small codebase of the apply guarantees, with its facade call and its caller in cleanup code
FILES = {
    "app/__init__.py": "",
    "app/db.py": DB,
    "app/repos.py": REPOS,
    "app/svc.py": (
        "from app.db import get_db\n\n\n"
        "def load(key):\n    db = get_db()\n    try:\n        pass\n    finally:\n        db.fetch(key)\n"
    ),
    "app/caller.py": (
        "from app.svc import load\n\n\ndef use(key):\n    try:\n        return key\n    finally:\n        load(key)\n"
    ),
}


def test_apply_reports_the_awaits_it_puts_in_finally_blocks_and_records_them(tmp_path: Path) -> None:
    for path, text in FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "migration_plan.yaml").write_text(PLAN)
    change = compute_change(load_plan(tmp_path / "migration_plan.yaml"), ["app/svc.py"], use_cache=False)
    assert change.blockers == []
    # the rewritten facade call and the call site that propagation awaited, both in cleanup code
    assert [(c.path, c.line) for c in change.cautions] == [("app/caller.py", 8), ("app/svc.py", 9)]
    assert all("asyncio.shield" in c.fix for c in change.cautions)
    assert change.to_json()["cautions"][1]["line"] == 9


def test_a_file_without_finally_or_await_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(cautions.ast, "parse", refuse)
    before = b"def f():\n    try:\n        pass\n    finally:\n        close()\n"
    assert new_cleanup_awaits("m.py", before, before.replace(b"close()", b"close2()")) == []
    assert new_cleanup_awaits("m.py", b"x = 1\n", b"async def f():\n    await g()\n") == []
