"""What is a doubt (``asyncmigrate/migration/doubts.py``) and what accepting one does, on small projects.

Each project seeds ``app.store.Store.save`` (as if its facade calls had just become awaits) and looks
at the blockers and accepted doubts the propagation reports for the calls around it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from asyncmigrate.analysis.callgraph import build_project
from asyncmigrate.config.plan import AcceptedDoubt
from asyncmigrate.migration.propagate import PropagationPlan, Seed, propagate

STORE = """
    class Store:
        def save(self, item):
            return item


    class Cache:
        def save(self, item):
            return None
"""


def run(root: Path, caller: str, accepted: tuple[AcceptedDoubt, ...] = ()) -> PropagationPlan:
    files = {"app/__init__.py": "", "app/store.py": STORE, "app/use.py": caller}
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(text).lstrip("\n"))
    project = build_project(root, sorted(files), use_cache=False)
    seed = Seed(project.functions["app.store.Store.save"], "test seed")
    return propagate(project, [seed], accepted_doubts=accepted)


def kinds(plan: PropagationPlan) -> list[tuple[int, str]]:
    return [(b.line, b.kind) for b in plan.blockers if b.path == "app/use.py"]


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        # a parameter annotated Any says nothing about the receiver
        ("from typing import Any\n\ndef f(x: Any):\n    return x.save(1)\n", [(4, "doubt_unknown_receiver")]),
        # an attribute set from nothing the graph can follow
        (
            "class Job:\n    def __init__(self, sink):\n        self.sink = sink\n\n"
            "    def run(self):\n        return self.sink.save(1)\n",
            [(6, "doubt_unknown_receiver")],
        ),
        # a variable that holds a Store on one branch and a Cache on the other
        (
            "from app.store import Cache, Store\n\ndef f(flag):\n    if flag:\n        sink = Cache()\n"
            "    else:\n        sink = Store()\n    return sink.save(1)\n",
            [(8, "doubt_several_candidates")],
        ),
        ('def f(x):\n    return getattr(x, "save")(1)\n', [(2, "doubt_getattr")]),
        # a receiver of a known library type is not the project's Store: no doubt
        ("from unittest.mock import Mock\n\ndef f():\n    return Mock().save(1)\n", []),
        ("from unittest.mock import Mock\n\ndef f():\n    m = Mock()\n    return m.save(1)\n", []),
        # a bare unknown name is some other function; an awaited call needs nothing
        ("def f(save):\n    return save(1)\n", []),
        ("async def f(x):\n    return await x.save(1)\n", []),
        # followed: annotated with the class, the call is awaited, not doubted
        ("from app.store import Store\n\ndef f(x: Store):\n    return x.save(1)\n", []),
    ],
)
def test_what_is_a_doubt(tmp_path: Path, caller: str, expected: list[tuple[int, str]]) -> None:
    assert kinds(run(tmp_path, caller)) == expected


def test_a_union_whose_methods_all_turn_async_is_no_doubt(tmp_path: Path) -> None:
    caller = (
        "from app.store import Store\n\nclass Sub(Store):\n    pass\n\ndef f(x: Store | Sub):\n    return x.save(1)\n"
    )
    plan = run(tmp_path, caller)
    assert kinds(plan) == []
    assert "app.use.f" in plan.async_functions


def test_an_accepted_doubt_is_recorded_and_its_call_left_alone(tmp_path: Path) -> None:
    caller = "def f(x):\n    return x.save(1)\n"
    by_site = AcceptedDoubt("f is given caches only", at="app/use.py:2")
    plan = run(tmp_path, caller, (by_site,))
    assert plan.blockers == []
    assert [(u.doubt.site, u.doubt.kind, u.acceptance.reason) for u in plan.accepted_doubts] == [
        ("app/use.py:2", "doubt_unknown_receiver", "f is given caches only")
    ]
    assert [e for e in plan.call_edits if e.path == "app/use.py"] == []
    by_pattern = AcceptedDoubt("f is given caches only", pattern="app.use.* -> app.store.Store.save")
    assert run(tmp_path, caller, (by_pattern,)).blockers == []
    elsewhere = AcceptedDoubt("another call", pattern="app.other.* -> app.store.Store.save")
    assert kinds(run(tmp_path, caller, (elsewhere,))) == [(2, "doubt_unknown_receiver")]
