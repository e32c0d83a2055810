"""Propagation: which functions turn async, which calls gain ``await``, and every blocker.

Most cases build a small project in a temporary directory, seed one function (as if its facade calls
had just been rewritten into awaits) and inspect the ``PropagationPlan``; a few go through
``compute_change`` on a project with a plan, where the seeds come from the rewrite itself.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from asyncmigrate.analysis.callgraph import Project, build_project
from asyncmigrate.config.plan import load_plan
from asyncmigrate.migration.propagate import (
    ASYNC_COMP,
    ASYNC_FOR,
    ASYNC_WITH,
    ASYNCIO_RUN,
    AWAIT,
    GENEXP_LIST,
    UNWRAP_RUN,
    Blocker,
    PropagationPlan,
    Seed,
    propagate,
)
from asyncmigrate.workflow.apply import compute_change


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"))


def project(root: Path, files: dict[str, str]) -> Project:
    write(root, {"app/__init__.py": "", **files})
    return build_project(root, sorted({"app/__init__.py", *files}), use_cache=False)


def run(proj: Project, *seeds: str, async_callbacks: tuple[str, ...] = (), auto: bool = True) -> PropagationPlan:
    return propagate(
        proj,
        [Seed(proj.functions[s], "test seed") for s in seeds],
        async_callbacks=async_callbacks,
        pytest_auto_mode=auto,
    )


def line_of(root: Path, path: str, needle: str, nth: int = 0) -> int:
    lines = [n for n, text in enumerate((root / path).read_text().splitlines(), start=1) if needle in text]
    return lines[nth]


def edits(plan: PropagationPlan, path: str) -> list[tuple[int, str]]:
    return sorted((e.line, e.kind) for e in plan.call_edits if e.path == path)


LEAF = """
    def load(key):
        return key
"""


# -- the walk ---------------------------------------------------------------------------------------


def test_chain_across_three_files(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/c.py": LEAF,
            "app/b.py": """
                from app.c import load

                def helper(key):
                    return load(key) + 1
            """,
            "app/a.py": """
                from app import b

                def top(key):
                    return b.helper(key) * 2
            """,
        },
    )
    plan = run(proj, "app.c.load")
    assert plan.async_functions == {
        "app.c.load": ("app.c.load",),
        "app.b.helper": ("app.c.load", "app.b.helper"),
        "app.a.top": ("app.c.load", "app.b.helper", "app.a.top"),
    }
    assert edits(plan, "app/b.py") == [(4, AWAIT)]
    assert edits(plan, "app/a.py") == [(4, AWAIT)]
    assert {e.path for e in plan.function_edits} == {"app/a.py", "app/b.py", "app/c.py"}
    assert plan.blockers == [] and plan.accepted_doubts == []


def test_call_through_an_import_alias(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {"app/c.py": LEAF, "app/b.py": "from app.c import load as fetch\n\ndef helper(key):\n    return fetch(key)\n"},
    )
    plan = run(proj, "app.c.load")
    assert "app.b.helper" in plan.async_functions
    assert edits(plan, "app/b.py") == [(4, AWAIT)]


def test_call_edit_is_keyed_by_the_callee_name_token(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/c.py": LEAF,
            "app/b.py": """
                from app import c

                def helper(key):
                    return (c
                        .load(key))
            """,
        },
    )
    plan = run(proj, "app.c.load")
    [edit] = plan.call_edits
    assert (edit.line, edit.col) == (5, 9)  # where LibCST puts the ``load`` of ``.load(key)``


@pytest.mark.parametrize(
    ("setup", "use"),
    [
        ("self.service = Service()", "self.service.load(1)"),
        ("self.service: Service = make()", "self.service.load(1)"),
        ("self.service = service", "self.service.load(1)"),
        ("self.other = Service()", "Service().load(1)"),
    ],
    ids=["constructed", "annotated", "parameter-annotation", "constructor-call-receiver"],
)
def test_attributes_and_receivers_whose_class_is_known(tmp_path: Path, setup: str, use: str) -> None:
    proj = project(
        tmp_path,
        {
            "app/service.py": """
                class Service:
                    def load(self, key):
                        return key
            """,
            "app/game.py": f"""
                from app.service import Service

                def make():
                    return object()

                class Game:
                    def __init__(self, service: Service) -> None:
                        {setup}

                    def play(self):
                        return {use}
            """,
        },
    )
    plan = run(proj, "app.service.Service.load")
    assert "app.game.Game.play" in plan.async_functions
    assert edits(plan, "app/game.py") == [(11, AWAIT)]


@pytest.mark.parametrize(
    "annotation", ["Service", "Service | None", "Optional[Service]", '"Service"', "Annotated[Service, 1]"]
)
def test_parameter_annotations(tmp_path: Path, annotation: str) -> None:
    proj = project(
        tmp_path,
        {
            "app/service.py": """
                class Service:
                    def load(self, key):
                        return key
            """,
            "app/use.py": f"""
                from typing import Annotated, Optional

                from app.service import Service

                def use(service: {annotation}):
                    return service.load(1)
            """,
        },
    )
    assert "app.use.use" in run(proj, "app.service.Service.load").async_functions


def test_class_level_annotation_and_local_variable(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/service.py": """
                class Service:
                    def load(self, key):
                        return key

                class Holder:
                    service: Service

                    def first(self):
                        return self.service.load(1)

                def local():
                    service = Service()
                    return service.load(2)
            """,
        },
    )
    plan = run(proj, "app.service.Service.load")
    assert {"app.service.Holder.first", "app.service.local"} <= set(plan.async_functions)


def test_callers_already_async_or_awaiting_stop_the_walk(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/c.py": LEAF,
            "app/use.py": """
                from app.c import load

                async def handler(key):
                    return load(key)

                async def careful(key):
                    return await load(key)

                def outer(key):
                    return handler(key)
            """,
        },
    )
    plan = run(proj, "app.c.load")
    assert set(plan.async_functions) == {"app.c.load"}
    assert edits(plan, "app/use.py") == [(4, AWAIT)]  # the sync call in ``async def handler`` only


def test_seed_already_async_propagates_nothing(tmp_path: Path) -> None:
    proj = project(tmp_path, {"app/c.py": "async def load(key):\n    return key\n\ndef use():\n    return load(1)\n"})
    plan = run(proj, "app.c.load")
    assert plan.async_functions == {} and plan.call_edits == []


def test_overriding_methods_turn_async_together(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/shapes.py": """
                class Shape:
                    def area(self):
                        return 0

                class Square(Shape):
                    def area(self):
                        return 4

                class Tile(Square):
                    def area(self):
                        return 1

                class Other:
                    def area(self):
                        return 9

                def total(shape: Shape):
                    return shape.area()
            """,
        },
    )
    plan = run(proj, "app.shapes.Square.area")
    assert set(plan.async_functions) == {
        "app.shapes.Shape.area",
        "app.shapes.Square.area",
        "app.shapes.Tile.area",
        "app.shapes.total",
    }
    assert plan.async_functions["app.shapes.Shape.area"] == ("app.shapes.Square.area", "app.shapes.Shape.area")


def test_unresolved_call_spelled_like_an_async_function_is_a_doubt_that_blocks(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/service.py": """
                class Service:
                    def load(self, key):
                        return key
            """,
            "app/use.py": """
                def use(thing, items):
                    a = thing.load(1)
                    b = [x.load(2) for x in items]
                    c = load(3)  # a bare unknown name: some other function, not reported
                    return a, b, c
            """,
        },
    )
    plan = run(proj, "app.service.Service.load")
    assert [(b.path, b.line, b.kind, b.chain) for b in plan.blockers] == [
        ("app/use.py", 2, "doubt_unknown_receiver", ("app.service.Service.load", "app.use.use")),
        ("app/use.py", 3, "doubt_unknown_receiver", ("app.service.Service.load", "app.use.use")),
    ]
    assert 'accepted_doubts: [{at: "app/use.py:2", reason: "..."}]' in plan.blockers[0].fix
    assert set(plan.async_functions) == {"app.service.Service.load"}


# -- tests and fixtures -----------------------------------------------------------------------------------

SERVICE = """
    class Service:
        def load(self, key):
            return key
"""

CONFTEST = """
    import pytest

    from app.service import Service

    @pytest.fixture
    def service() -> Service:
        return Service()

    @pytest.fixture
    def loader(service):
        def load(key):
            return service.load(key)

        return load
"""

TESTS = """
    def test_direct(service):
        assert service.load(1) == 1

    def test_factory(loader):
        assert loader(2) == 2

    def test_untouched():
        assert True
"""


@pytest.mark.parametrize("auto", [True, False], ids=["auto-mode", "strict-mode"])
def test_tests_through_fixtures_and_factory_fixtures(tmp_path: Path, auto: bool) -> None:
    proj = project(tmp_path, {"app/service.py": SERVICE, "tests/conftest.py": CONFTEST, "tests/test_service.py": TESTS})
    plan = run(proj, "app.service.Service.load", auto=auto)
    assert set(plan.async_functions) == {
        "app.service.Service.load",
        "tests.conftest.loader.<locals>.load",
        "tests.test_service.test_direct",
        "tests.test_service.test_factory",
    }
    marks = {e.function: e.add_asyncio_mark for e in plan.function_edits}
    assert marks["tests.test_service.test_direct"] is not auto
    assert marks["tests.test_service.test_factory"] is not auto
    assert marks["tests.conftest.loader.<locals>.load"] is False  # not a test: never marked
    assert edits(plan, "tests/test_service.py") == [(2, AWAIT), (5, AWAIT)]
    assert plan.blockers == []


@pytest.mark.parametrize("auto", [True, False], ids=["auto-mode", "strict-mode"])
def test_fixture_turning_async(tmp_path: Path, auto: bool) -> None:
    proj = project(
        tmp_path,
        {
            "app/service.py": SERVICE,
            "tests/test_service.py": """
                import pytest

                from app.service import Service

                @pytest.fixture
                def loaded():
                    return Service().load(1)

                def test_loaded(loaded):
                    assert loaded == 1
            """,
        },
    )
    plan = run(proj, "app.service.Service.load", auto=auto)
    if auto:  # pytest-asyncio awaits async fixtures; the test receives the value
        assert "tests.test_service.loaded" in plan.async_functions
        assert "tests.test_service.test_loaded" not in plan.async_functions
        assert plan.blockers == []
    else:
        [blocker] = plan.blockers
        assert (blocker.kind, blocker.path, blocker.line) == ("fixture", "tests/test_service.py", 6)
        assert "asyncio_mode = auto" in blocker.fix
        assert "tests.test_service.loaded" not in plan.async_functions


# -- automatic resolutions ------------------------------------------------------------------------------


def test_context_manager_and_generator_resolutions(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/jobs.py": """
                from contextlib import contextmanager

                @contextmanager
                def session():
                    yield load()

                def rows():
                    yield load()

                def load():
                    return 1

                def use():
                    with session() as s:
                        pass
                    for row in rows():
                        pass
                    return [r for r in rows()], s
            """,
        },
    )
    plan = run(proj, "app.jobs.load")
    kinds = {e.function: (e.to_async_context_manager, e.to_async_generator) for e in plan.function_edits}
    assert kinds["app.jobs.session"] == (True, False)
    assert kinds["app.jobs.rows"] == (False, True)
    assert kinds["app.jobs.use"] == (False, False)
    assert edits(plan, "app/jobs.py") == [(5, AWAIT), (8, AWAIT), (14, ASYNC_WITH), (16, ASYNC_FOR), (18, ASYNC_COMP)]
    assert plan.resolutions == [
        "app/jobs.py:4: @contextmanager -> @asynccontextmanager",
        "app/jobs.py:7: generator -> async generator",
    ]


def test_entry_point_under_main_guard_runs_with_asyncio_run(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/cli.py": """
                import sys

                def main():
                    return 0

                if __name__ == "__main__":
                    sys.exit(main())
            """,
        },
    )
    plan = run(proj, "app.cli.main")
    assert edits(plan, "app/cli.py") == [(7, ASYNCIO_RUN)]
    assert plan.resolutions == ["app/cli.py:7: sync entry point runs main with asyncio.run"]
    assert plan.blockers == []


LOCKED = """
    import threading

    def load():
        return 1

    _LOCK = threading.Lock()

    class Counter:
        def __init__(self):
            self.lock = threading.Lock()

        def bump(self):
            with self.lock:
                return load()

        {peek}

    def guarded():
        with _LOCK:
            return load()
"""


def test_threading_locks_guarding_only_async_code_become_asyncio_locks(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/locks.py": LOCKED.replace(
                "{peek}", "async def peek(self):\n            with self.lock:\n                return 0"
            )
        },
    )
    plan = run(proj, "app.locks.load")
    assert sorted((e.line, e.lock) for e in plan.lock_edits) == [(6, "app.locks._LOCK"), (10, "app.locks.Counter.lock")]
    # every ``with`` of the lock, the already-async peek included, becomes ``async with``
    assert [line for line, kind in edits(plan, "app/locks.py") if kind == ASYNC_WITH] == [13, 17, 21]
    assert plan.blockers == []


def test_threading_lock_also_held_in_sync_code_is_a_blocker(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/locks.py": LOCKED.replace(
                "{peek}", "def peek(self):\n            with self.lock:\n                return 0"
            )
        },
    )
    plan = run(proj, "app.locks.load")
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.path, blocker.line) == ("threading_lock", "app/locks.py", 14)
    assert "app/locks.py:17 holds it in sync Counter.peek" in blocker.message
    assert blocker.chain == ("app.locks.load", "app.locks.Counter.bump")
    assert [e.lock for e in plan.lock_edits] == ["app.locks._LOCK"]  # the other lock still settles


@pytest.mark.parametrize(
    ("constructor", "use", "problem"),
    [
        ("threading.RLock()", "with _LOCK:\n        return load()", "an RLock is re-entrant"),
        ("threading.Lock()", "_LOCK.acquire()\n    with _LOCK:\n        return load()", "outside a `with`"),
    ],
    ids=["rlock", "acquired-by-hand"],
)
def test_lock_that_cannot_simply_become_an_asyncio_lock(
    tmp_path: Path, constructor: str, use: str, problem: str
) -> None:
    proj = project(
        tmp_path,
        {
            "app/locks.py": f"import threading\n\n_LOCK = {constructor}\n\n"
            f"def load():\n    return 1\n\ndef f():\n    {use}\n"
        },
    )
    plan = run(proj, "app.locks.load")
    [blocker] = plan.blockers
    assert blocker.kind == "threading_lock" and problem in blocker.message
    assert plan.lock_edits == []


def test_callback_handed_to_an_api_that_awaits_it(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/bus.py": """
                class Bus:
                    def subscribe(self, handler):
                        self.handler = handler
            """,
            "app/use.py": """
                from fastapi import Depends

                from app.bus import Bus

                def handle(event):
                    return event

                def wire(bus: Bus):
                    bus.subscribe(handle)
                    bus.subscribe(lambda event: handle(event))

                async def endpoint(value=Depends(handle)):
                    return value
            """,
        },
    )
    plan = run(proj, "app.use.handle", async_callbacks=("app.bus.Bus.subscribe",))
    assert plan.blockers == []
    assert set(plan.resolutions) == {
        "app/use.py:9: handle handed to bus.subscribe, which accepts coroutine functions (async_callbacks)",
        "app/use.py:10: lambda handed to bus.subscribe returns the coroutine, which it awaits",
        "app/use.py:12: handle handed to Depends, which accepts coroutine functions (async_callbacks)",
    }
    assert set(plan.async_functions) == {"app.use.handle"}  # wire itself stays sync


# -- blockers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["__init__", "__enter__", "__exit__", "__iter__", "__del__", "__len__"])
def test_sync_only_special_method(tmp_path: Path, method: str) -> None:
    proj = project(
        tmp_path,
        {
            "app/m.py": f"def load():\n    return 1\n\n"
            f"class Thing:\n    def {method}(self, *args):\n        return load()\n"
        },
    )
    plan = run(proj, "app.m.load")
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.path, blocker.line) == ("sync_only_method", "app/m.py", 5)
    assert blocker.chain == ("app.m.load", f"app.m.Thing.{method}")
    assert f"calls {method} synchronously" in blocker.message
    assert f"app.m.Thing.{method}" not in plan.async_functions


@pytest.mark.parametrize(
    ("decorator", "kind"),
    [
        ("property", "property"),
        ("functools.cached_property", "property"),
        ("functools.lru_cache", "cache"),
        ("functools.lru_cache(maxsize=8)", "cache"),
        ("cache", "cache"),
    ],
)
def test_decorated_functions_that_cannot_turn_async(tmp_path: Path, decorator: str, kind: str) -> None:
    proj = project(
        tmp_path,
        {
            "app/m.py": f"""
                import functools
                from functools import cache

                def load():
                    return 1

                class Thing:
                    @{decorator}
                    def value(self):
                        return load()
            """,
        },
    )
    plan = run(proj, "app.m.load")
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.line) == (kind, 9)
    assert blocker.chain == ("app.m.load", "app.m.Thing.value")
    assert blocker.fix


def test_property_getter_with_a_setter_is_a_blocker(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/m.py": """
                def load():
                    return 1

                class Thing:
                    @property
                    def value(self):
                        return load()

                    @value.setter
                    def value(self, new):
                        self._value = new
            """,
        },
    )
    assert [(b.kind, b.line) for b in run(proj, "app.m.load").blockers] == [("property", 6)]


@pytest.mark.parametrize(
    ("body", "where", "fix"),
    [
        ("return sorted([1], key=load)", "sorted", "`sorted(xs, key=keys.__getitem__)`"),
        ("return list(map(load, [1]))", "map", "`[await load(x) for x in xs]`"),
        ("return list(filter(load, [1]))", "filter", "`[x for x in xs if await load(x)]`"),
        ("threading.Thread(target=load).start()", "threading.Thread", "`target=lambda: asyncio.run(load(...))`"),
        ("register(load)", "register", "list `register` under `async_callbacks`"),
        ("handlers = {'load': load}\n    return handlers", "a variable or container", "`await handler(...)`"),
        ("return load", "a variable or container", "`await handler(...)`"),
    ],
    ids=["sorted-key", "map", "filter", "thread-target", "library-callback", "stored", "returned"],
)
def test_function_passed_as_a_value(tmp_path: Path, body: str, where: str, fix: str) -> None:
    proj = project(
        tmp_path, {"app/m.py": f"import threading\n\ndef load(x=0):\n    return x\n\ndef wire():\n    {body}\n"}
    )
    plan = run(proj, "app.m.load")
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.line) == ("callback", 7)
    assert f"passed as a value to {where}" in blocker.message
    # a fix a person can apply: never "list sorted as an async callback"
    assert fix in blocker.fix
    assert ("async_callbacks" in blocker.fix) == (where == "register")
    assert blocker.chain == ("app.m.load", "app.m.wire")


@pytest.mark.parametrize(
    ("source", "kind", "line"),
    [
        ("def load():\n    return 1\n\ndef f():\n    return lambda: load()\n", "lambda", 5),
        (
            "def load():\n    return 1\n\ndef f():\n    return iter(load() for _ in range(3))\n",
            "generator_expression",
            5,
        ),
        (
            "def load():\n    return 1\n\ndef f():\n    return sum(sum(load() for _ in y) for y in [[1]])\n",
            "generator_expression",
            5,
        ),
        ("def load():\n    yield 1\n\ndef f():\n    return list(load())\n", "generator", 5),
        (
            "from contextlib import contextmanager\n\n@contextmanager\ndef load():\n    yield 1\n\n"
            "def f():\n    return load()\n",
            "context_manager",
            8,
        ),
        ("def load():\n    return 1\n\nVALUE = load()\n", "module_level", 4),
    ],
    ids=[
        "lambda",
        "generator-expression",
        "nested-generator-expression",
        "generator-without-for",
        "context-manager-without-with",
        "module-level",
    ],
)
def test_call_sites_that_cannot_await(tmp_path: Path, source: str, kind: str, line: int) -> None:
    proj = project(tmp_path, {"app/m.py": source})
    plan = run(proj, "app.m.load")
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.path, blocker.line) == (kind, "app/m.py", line)
    assert blocker.chain[0] == "app.m.load" and blocker.fix
    assert "app.m.f" not in plan.async_functions


def test_outermost_iterable_of_a_generator_expression_can_await(tmp_path: Path) -> None:
    proj = project(
        tmp_path, {"app/m.py": "def load():\n    return [1]\n\ndef f():\n    return sum(x for x in load())\n"}
    )
    plan = run(proj, "app.m.load")
    assert plan.blockers == []
    assert edits(plan, "app/m.py") == [(5, AWAIT)]


def test_blocker_json_and_description() -> None:
    blocker = Blocker("app/m.py", 7, "lambda", "load() is called in a lambda", ("app.m.load", "app.m.f"), "use def")
    assert blocker.describe() == "app/m.py:7: lambda: load() is called in a lambda"
    assert blocker.to_json() == {
        "path": "app/m.py",
        "line": 7,
        "kind": "lambda",
        "message": "load() is called in a lambda",
        "chain": ["app.m.load", "app.m.f"],
        "fix": "use def",
    }


# -- through compute_change: seeds come from the rewrite ---------------------------------------------------

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
      - {path: app/m.py}
"""
DB = "class Database:\n    def fetch(self, key):\n        return key\n\ndef get_db():\n    return Database()\n"
REPOS = (
    "class ItemRepo:\n    async def get(self, key):\n        return key\n\n"
    "def get_item_repo():\n    return ItemRepo()\n"
)


def planned(tmp_path: Path, source: str) -> Path:
    write(tmp_path, {"app/__init__.py": "", "app/db.py": DB, "app/repos.py": REPOS, "app/m.py": source})
    (tmp_path / "migration_plan.yaml").write_text(PLAN)
    return tmp_path / "migration_plan.yaml"


def test_lock_held_across_a_rewritten_facade_call(tmp_path: Path) -> None:
    plan = load_plan(
        planned(
            tmp_path,
            """
            import threading

            from app.db import get_db

            class Counter:
                def __init__(self):
                    self.lock = threading.Lock()
                    self.db = get_db()

                def bump(self, key):
                    with self.lock:
                        return self.db.fetch(key)

                def peek(self):
                    with self.lock:
                        return 0
            """,
        )
    )
    change = compute_change(plan, ["app/m.py"], use_cache=False)
    assert [(b.kind, b.line) for b in change.blockers] == [("threading_lock", 12)]


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (
            "from app.db import get_db\n\ndef load(k):\n    return get_db().fetch(k)\n\n"
            "class Thing:\n    @property\n    def value(self):\n        return load(1)\n",
            "property",
        ),
        (
            "from app.db import get_db\n\ndef load(k):\n    return get_db().fetch(k)\n\n"
            "class Thing:\n    def __len__(self):\n        return load(1)\n",
            "sync_only_method",
        ),
        (
            "from app.db import get_db\n\nclass Thing:\n    def __init__(self):\n        self.v = get_db().fetch(1)\n",
            "sync_only_method",
        ),
    ],
    ids=["property", "special-method", "facade-call-in-init"],
)
def test_blocked_caller_is_reported_not_raised(tmp_path: Path, source: str, kind: str) -> None:
    plan = load_plan(planned(tmp_path, source))
    change = compute_change(plan, ["app/m.py"], use_cache=False)
    assert [b.kind for b in change.blockers] == [kind]


# -- issue 10: the constructs real code is made of ----------------------------------------------------


def test_super_calls_are_awaited_and_the_hierarchy_turns_together_across_modules(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/base.py": """
                class Base:
                    def load(self, key):
                        return key
            """,
            "app/child.py": """
                from app.base import Base

                class Child(Base):
                    def __init__(self):
                        super().__init__()

                    def load(self, key):
                        return super().load(key) + 1

                class GrandChild(Child):
                    def load(self, key):
                        return super(GrandChild, self).load(key)
            """,
        },
    )
    plan = run(proj, "app.base.Base.load")
    assert plan.blockers == [] and plan.accepted_doubts == []
    assert set(plan.async_functions) == {"app.base.Base.load", "app.child.Child.load", "app.child.GrandChild.load"}
    assert edits(plan, "app/child.py") == [(8, AWAIT), (12, AWAIT)]


def test_protocol_implementations_nominal_and_structural_and_callers_typed_with_it(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/ports.py": """
                from abc import ABC, abstractmethod
                from typing import Protocol

                class Source(Protocol):
                    def level(self, sku): ...
                    def name(self): ...

                class Sink(ABC):
                    @abstractmethod
                    def put(self, sku): ...
            """,
            "app/impl.py": """
                from app.ports import Sink

                class DbSource:  # a Source by shape
                    def level(self, sku):
                        return 1
                    def name(self):
                        return "db"

                class Fixed:  # a Source by shape too
                    def level(self, sku):
                        return 2
                    def name(self):
                        return "fixed"

                class HalfSource:  # no name(): not a Source
                    def level(self, sku):
                        return 3

                class DbSink(Sink):
                    def put(self, sku):
                        return DbSource().level(sku)

                class MemorySink(Sink):
                    def put(self, sku):
                        return None
            """,
            "app/use.py": """
                from app.ports import Sink, Source

                def total(source: Source, skus):
                    return sum([source.level(s) for s in skus])

                def store(sink: Sink, sku):
                    return sink.put(sku)
            """,
        },
    )
    plan = run(proj, "app.impl.DbSource.level")
    assert plan.blockers == []
    assert set(plan.async_functions) == {
        "app.impl.DbSource.level",
        "app.ports.Source.level",
        "app.impl.Fixed.level",
        "app.use.total",
        "app.impl.DbSink.put",
        "app.ports.Sink.put",
        "app.impl.MemorySink.put",
        "app.use.store",
    }
    assert edits(plan, "app/use.py") == [(4, AWAIT), (7, AWAIT)]


PROJECT_DECORATORS = """
    import functools

    def timed(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)
            return result
        return wrapper

    def retry(times):
        def decorate(fn):
            @functools.wraps(fn)
            def wrapper(*args):
                return fn(*args)
            return wrapper
        return decorate

    def register(fn):
        HANDLERS.append(fn)
        return fn

    HANDLERS = []
"""


def test_wraps_decorator_around_only_async_functions_gets_an_async_wrapper(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/deco.py": PROJECT_DECORATORS,
            "app/m.py": """
                from app.deco import retry, timed

                def load():
                    return 1

                @timed
                def first():
                    return load()

                @retry(3)
                def second():
                    return load()
            """,
        },
    )
    plan = run(proj, "app.m.load")
    assert plan.blockers == []
    wrappers = {e.function for e in plan.function_edits if e.path == "app/deco.py"}
    assert wrappers == {"app.deco.timed.<locals>.wrapper", "app.deco.retry.<locals>.decorate.<locals>.wrapper"}
    assert edits(plan, "app/deco.py") == [(6, AWAIT), (14, AWAIT)]


@pytest.mark.parametrize(
    ("decorated", "kind", "where", "fix"),
    [
        (
            "@timed\ndef first():\n    return load()\n\n@timed\ndef other():\n    return 2\n",
            "decorator",
            ("app/deco.py", 3),
            "give the async functions their own decorator",
        ),
        ("@register\ndef first():\n    return load()\n", "decorator", ("app/m.py", 6), "functools.wraps-style"),
        (
            "import atexit\n\n@atexit.register\ndef first():\n    return load()\n",
            "decorator",
            ("app/m.py", 8),
            "list `atexit.register` under `async_aware_decorators`",
        ),
    ],
    ids=["project-decorator-on-both-kinds", "project-decorator-without-wrapper", "decorator-from-outside"],
)
def test_decorators_that_cannot_follow_are_blockers_at_the_decorator(
    tmp_path: Path, decorated: str, kind: str, where: tuple[str, int], fix: str
) -> None:
    proj = project(
        tmp_path,
        {
            "app/deco.py": PROJECT_DECORATORS,
            "app/m.py": "from app.deco import register, timed\n\ndef load():\n    return 1\n\n" + decorated,
        },
    )
    plan = run(proj, "app.m.load")
    [blocker] = plan.blockers
    assert (blocker.kind, (blocker.path, blocker.line)) == (kind, where)
    assert fix in blocker.fix
    assert blocker.chain[:2] == ("app.m.load", "app.m.first")
    assert not any(e.path == "app/deco.py" for e in plan.function_edits)


def test_a_decorator_the_plan_lists_as_async_aware_is_no_blocker(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {"app/m.py": "import atexit\n\ndef load():\n    return 1\n\n@atexit.register\ndef f():\n    return load()\n"},
    )
    seeds = [Seed(proj.functions["app.m.load"], "test seed")]
    plan = propagate(proj, seeds, async_aware_decorators=["atexit.register"])
    assert plan.blockers == [] and "app.m.f" in plan.async_functions


UNITTEST_CASE = """
    import unittest
    from unittest import TestCase

    from app.m import load

    class LoadTests(unittest.TestCase):
        def setUp(self):
            self.value = load()

        def tearDown(self):
            self.value = None

        def helper(self):
            return load()

        def test_load(self):
            self.assertEqual(self.helper(), 1)

        def test_plain(self):
            self.assertTrue(True)

    class OtherTests(TestCase):
        def test_other(self):
            self.assertEqual(load(), 1)
"""


@pytest.mark.parametrize("auto", [True, False], ids=["auto-mode", "strict-mode"])
def test_unittest_case_becomes_isolated_asyncio_with_async_hooks(tmp_path: Path, auto: bool) -> None:
    proj = project(tmp_path, {"app/m.py": LEAF, "tests/test_m.py": UNITTEST_CASE})
    plan = run(proj, "app.m.load", auto=auto)
    assert plan.blockers == []
    assert [(e.name, e.line, e.base) for e in plan.class_edits] == [
        ("LoadTests", 6, ("unittest", "TestCase")),
        ("OtherTests", 22, ("TestCase",)),
    ]
    made = {e.function.rsplit(".", 1)[-1]: e for e in plan.function_edits if e.path == "tests/test_m.py"}
    assert set(made) == {"setUp", "helper", "test_load", "test_other"}
    assert made["setUp"].rename == "asyncSetUp"
    # never a pytest mark on a unittest method: IsolatedAsyncioTestCase runs it
    assert not any(e.add_asyncio_mark for e in made.values())


def test_unittest_class_hook_that_would_await_is_a_blocker(tmp_path: Path) -> None:
    case = "import unittest\nfrom app.m import load\n\nclass T(unittest.TestCase):\n    @classmethod\n"
    case += "    def setUpClass(cls):\n        cls.value = load()\n\n    def test_it(self):\n        pass\n"
    proj = project(tmp_path, {"app/m.py": LEAF, "tests/test_m.py": case})
    plan = run(proj, "app.m.load")
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.path, blocker.line) == ("unittest_class_hook", "tests/test_m.py", 6)
    assert "asyncSetUp" in blocker.fix
    assert plan.class_edits == []


def test_asyncio_run_inside_a_function_turning_async_becomes_await(tmp_path: Path) -> None:
    proj = project(
        tmp_path,
        {
            "app/m.py": """
                import asyncio
                from asyncio import run

                async def remote():
                    return 1

                def load():
                    return 1

                def refresh():
                    a = asyncio.run(remote())
                    b = run(remote())
                    return a + b + load()

                def untouched():
                    return asyncio.run(remote())

                def starts():
                    return asyncio.run(load())
            """,
        },
    )
    plan = run(proj, "app.m.load")
    assert plan.blockers == []
    # refresh turns async: its asyncio.run calls become awaits; asyncio.run(load()) already runs the coroutine
    assert edits(plan, "app/m.py") == [(11, UNWRAP_RUN), (12, UNWRAP_RUN), (13, AWAIT)]
    assert "app.m.starts" not in plan.async_functions


@pytest.mark.parametrize("consumer", ["sum", "any", "all", "min", "max", "sorted", "list", "tuple", "set", "dict"])
def test_generator_expression_consumed_at_once_becomes_an_awaiting_list(tmp_path: Path, consumer: str) -> None:
    element = "(x, load(x))" if consumer == "dict" else "load(x)"
    source = f"def load(x):\n    return x\n\ndef f(xs):\n    return {consumer}({element} for x in xs)\n"
    proj = project(tmp_path, {"app/m.py": source})
    plan = run(proj, "app.m.load")
    assert plan.blockers == []
    kinds = sorted((e.line, e.col, e.kind) for e in plan.call_edits)
    assert kinds == sorted([(5, 11, GENEXP_LIST), (5, 11 + len(consumer) + 1 + element.index("load"), AWAIT)])


def test_str_join_over_a_generator_expression(tmp_path: Path) -> None:
    source = 'def load(x):\n    return x\n\ndef f(xs):\n    return ", ".join(load(x) for x in xs)\n'
    plan = run(project(tmp_path, {"app/m.py": source}), "app.m.load")
    assert plan.blockers == []
    assert edits(plan, "app/m.py") == [(5, AWAIT), (5, GENEXP_LIST)]


@pytest.mark.parametrize(
    "body",
    ["return (load(x) for x in xs)", "g = (load(x) for x in xs)\n    return g", "return zip(load(x) for x in xs)"],
    ids=["returned", "stored", "lazy-consumer"],
)
def test_any_other_generator_expression_stays_a_blocker(tmp_path: Path, body: str) -> None:
    source = f"def load(x):\n    return x\n\ndef f(xs):\n    {body}\n"
    plan = run(project(tmp_path, {"app/m.py": source}), "app.m.load")
    assert [b.kind for b in plan.blockers] == ["generator_expression"]
    assert not any(e.kind == GENEXP_LIST for e in plan.call_edits)


def test_test_case_outside_a_test_named_module_still_becomes_isolated_asyncio(tmp_path: Path) -> None:
    case = "import unittest\nfrom app.m import load\n\nclass Checks(unittest.TestCase):\n"
    case += "    def test_it(self):\n        self.assertEqual(load(), 1)\n"
    proj = project(tmp_path, {"app/m.py": LEAF, "app/checks.py": case})
    plan = run(proj, "app.m.load")
    assert [(e.path, e.name) for e in plan.class_edits] == [("app/checks.py", "Checks")]
    assert "app.checks.Checks.test_it" in plan.async_functions


def test_a_lambda_handed_to_a_builtin_gets_a_fix_that_works_with_the_builtin(tmp_path: Path) -> None:
    source = "def load(x):\n    return x\n\ndef f(xs):\n    return sorted(xs, key=lambda x: load(x))\n"
    [blocker] = run(project(tmp_path, {"app/m.py": source}), "app.m.load").blockers
    assert blocker.kind == "lambda"
    assert "`keys = {x: await load(x) for x in xs}`" in blocker.fix and "async def" not in blocker.fix
