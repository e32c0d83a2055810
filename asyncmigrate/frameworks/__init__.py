"""Framework knowledge, one adapter module per framework, and the registry the plan switches them in.

Each adapter (``fastapi``, ``pytest``, ``unittest``, ``mock``) holds what its framework means for a
migration: its names, predicates and advice text. The other layers import the adapters and never spell
a framework's names themselves. The plan's top-level ``frameworks:`` key lists the adapters a migration
uses (absent: all of them); ``Frameworks`` bundles what the enabled ones know, so a layer asks it
(``frameworks.async_callbacks``) and gets nothing from a switched-off adapter.

Switching an adapter off never makes the tool less safe: what only that adapter could migrate (a test
case turning async, a fixture, a double) becomes a blocker naming the plan's ``frameworks`` key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from asyncmigrate.config.plan import FRAMEWORK_NAMES, Plan
from asyncmigrate.frameworks import fastapi, mock, pytest, unittest

ADAPTERS = {module.NAME: module for module in (fastapi, pytest, unittest, mock)}
assert tuple(ADAPTERS) == FRAMEWORK_NAMES, "the plan's frameworks and the adapters are one list"

FRAMEWORK_OFF = "framework_off"  # the blocker kind of a change only a switched-off adapter could make


@dataclass(frozen=True)
class Frameworks:
    """What the enabled adapters know, in the shape analysis, migration and the codemods ask for it."""

    enabled: frozenset[str]
    depends_callables: frozenset[str] = field(init=False)
    async_callbacks: frozenset[str] = field(init=False)
    async_aware_decorators: frozenset[str] = field(init=False)
    async_aware_decorator_prefixes: tuple[str, ...] = field(init=False)
    fixture_decorators: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        unknown = sorted(self.enabled - set(ADAPTERS))
        if unknown:
            raise ValueError(f"unknown frameworks {unknown} (known: {', '.join(ADAPTERS)})")
        on = self.enabled.__contains__
        set_ = object.__setattr__  # frozen: the derived fields are set once, here
        set_(self, "depends_callables", fastapi.DEPENDS_CALLABLES if on(fastapi.NAME) else frozenset())
        set_(self, "async_callbacks", fastapi.ASYNC_CALLBACKS if on(fastapi.NAME) else frozenset())
        aware: set[str] = set()
        prefixes: list[str] = []
        if on(pytest.NAME):
            aware |= pytest.FIXTURE_DECORATORS
            prefixes.append(pytest.MARK_PREFIX)
        if on(mock.NAME):
            aware |= mock.PATCH_DECORATORS
        if on(fastapi.NAME):
            prefixes.extend(fastapi.ASYNC_AWARE_DECORATOR_PREFIXES)
        set_(self, "async_aware_decorators", frozenset(aware))
        set_(self, "async_aware_decorator_prefixes", tuple(prefixes))
        set_(self, "fixture_decorators", pytest.FIXTURE_DECORATORS if on(pytest.NAME) else frozenset())

    @classmethod
    def of(cls, names: Iterable[str]) -> Frameworks:
        return cls(frozenset(names))

    @classmethod
    def of_plan(cls, plan: Plan | None) -> Frameworks:
        """The plan's ``frameworks:`` (every adapter when the key is absent, or without a plan)."""
        return ALL if plan is None else cls.of(plan.frameworks)

    @property
    def fastapi(self) -> bool:
        return fastapi.NAME in self.enabled

    @property
    def pytest(self) -> bool:
        return pytest.NAME in self.enabled

    @property
    def unittest(self) -> bool:
        return unittest.NAME in self.enabled

    @property
    def mock(self) -> bool:
        return mock.NAME in self.enabled

    def fingerprint(self) -> list[str]:
        """What a cache keyed on this knowledge must change with."""
        return sorted(self.enabled)


ALL = Frameworks.of(FRAMEWORK_NAMES)


def switched_off_fix(name: str) -> str:
    """The advice of a blocker only the adapter ``name`` could lift."""
    return f"add {name} to the plan's `frameworks:` list (or remove the key to enable every framework)"
