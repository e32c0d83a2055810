"""What the facade is, from the plan: ``FacadeSpec``, in the shape the scanner and codemods need.

Kept free of LibCST so that a warm scan, which parses nothing, does not pay for importing it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asyncmigrate.config.modules import DEFAULT_LAYOUT, ModuleLayout, default_roots, plan_layout, resolve_relative
from asyncmigrate.config.plan import Plan
from asyncmigrate.frameworks import Frameworks, fastapi, mock

# A mock's own attributes: ``facade.m.return_value = …`` configures a test double, it calls nothing.
MOCK_ATTRIBUTES = mock.OWN_ATTRIBUTES
# Callables that run a sync callable on a worker thread: name -> index of the callable among the arguments.
THREAD_HOPS = {"to_thread": 0, "run_in_executor": 1}


@dataclass(frozen=True)
class FacadeSpec:
    factories: frozenset[str]
    classes: frozenset[str]
    receiver_names: frozenset[str]
    methods: frozenset[str]  # the facade's public methods; empty when unknown
    targets: Mapping[str, str] = field(default_factory=dict)  # facade method -> "repo.method"
    sync_repositories: frozenset[str] = frozenset()  # repositories whose methods are not awaited
    unawaited_methods: frozenset[str] = frozenset()  # mapped facade methods whose rewrite is not awaited
    depends: frozenset[str] = fastapi.DEPENDS_CALLABLES  # empty: the fastapi adapter is off
    app_state: str | None = fastapi.APP_STATE  # None: the fastapi adapter is off
    layout: ModuleLayout = DEFAULT_LAYOUT  # how paths map to module names (the plan's import roots)

    @classmethod
    def from_plan(cls, plan: Plan) -> FacadeSpec:
        layout = plan_layout(plan)
        frameworks = Frameworks.of_plan(plan)
        methods = set(plan.facade.methods)
        if not methods:
            methods = discover_methods(layout, plan.facade.classes)
        if methods:
            # what a received facade hands out to migrated code — a repository property, a repository
            # method on the object itself (``from_received: itself``) — is not a facade call to migrate
            methods -= {m.method for m in plan.mappings.values() if plan.repositories[m.repository].received_path == ()}
            methods -= {path[0] for r in plan.repositories.values() if (path := r.received_path)}
            # a mapped method is a facade method even when the class hides it
            methods |= set(plan.mappings) | set(plan.unmapped)
        return cls(
            factories=frozenset(plan.facade.factories),
            classes=frozenset(plan.facade.classes),
            receiver_names=frozenset(plan.facade.receiver_names),
            methods=frozenset(methods),
            targets={name: m.target for name, m in plan.mappings.items()},
            sync_repositories=frozenset(n for n, r in plan.repositories.items() if not r.awaitable),
            unawaited_methods=frozenset(m for m in plan.mappings if not plan.awaits(m)),
            depends=frameworks.depends_callables,
            app_state=fastapi.APP_STATE if frameworks.fastapi else None,
            layout=layout,
        )

    @classmethod
    def from_options(
        cls,
        root: Path,
        factories: Iterable[str],
        classes: Iterable[str],
        receiver_names: Iterable[str],
        source: Sequence[str] = (),
    ) -> FacadeSpec:
        """The facade given on the command line (no plan yet): its methods are discovered from its
        classes exactly as ``from_plan`` does, so a scan without a plan finds what one with a plan finds."""
        classes = frozenset(classes)
        layout = ModuleLayout.of(default_roots(root, source), root)
        return cls(
            factories=frozenset(factories),
            classes=classes,
            receiver_names=frozenset(receiver_names),
            methods=frozenset(discover_methods(layout, classes)),
            layout=layout,
        )

    def hint_tokens(self) -> tuple[bytes, ...]:
        """Byte strings at least one of which every file reaching the facade must contain."""
        tokens = {q.rsplit(".", 1)[-1] for q in self.factories | self.classes}
        tokens |= set(self.receiver_names)
        return tuple(sorted(t.encode() for t in tokens if t))

    def fingerprint(self) -> str:
        payload = json.dumps(
            [
                sorted(self.factories),
                sorted(self.classes),
                sorted(self.receiver_names),
                sorted(self.methods),
                sorted(self.targets.items()),
                sorted(self.depends),
                sorted(self.sync_repositories),
                self.layout.fingerprint(),
                sorted(self.unawaited_methods),
                self.app_state,
            ]
        )
        return hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()

    def is_async_target(self, method: str) -> bool:
        """True when the facade method maps to an awaited repository method."""
        return method in self.targets and method not in self.unawaited_methods

    def is_facade_method(self, name: str) -> bool:
        if self.methods:
            return name in self.methods
        return not name.startswith("_")


def discover_methods(layout: ModuleLayout, classes: Iterable[str]) -> set[str]:
    """Public method names of the facade classes defined in the tree, following re-exports."""
    methods: set[str] = set()
    for qualified in classes:
        module, _, name = qualified.rpartition(".")
        methods |= _class_methods(layout, module, name, depth=0)
    return methods


def _class_methods(layout: ModuleLayout, module: str, name: str, depth: int) -> set[str]:
    path = layout.module_file(module) if module else None
    if path is None or depth > 5:
        return set()
    try:
        outline = _module_outline(path.read_bytes())
    except OSError:
        return set()
    found = outline.get(name) if outline is not None else None
    if isinstance(found, _ClassOutline):
        methods = set(found.methods)
        for base in found.bases:  # bases defined in the same module count too
            methods |= _class_methods(layout, module, base, depth + 1)
        return methods
    if isinstance(found, _ImportOutline):
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        source = resolve_relative(package, found.level, found.module) or ""
        return _class_methods(layout, source, found.name, depth + 1)
    return set()


@dataclass(frozen=True)
class _ClassOutline:
    methods: frozenset[str]  # public methods defined in the class body
    bases: tuple[str, ...]  # bases given by a plain name


@dataclass(frozen=True)
class _ImportOutline:
    level: int
    module: str | None
    name: str  # the name imported, before any ``as``


@functools.lru_cache(maxsize=64)
def _module_outline(data: bytes) -> dict[str, _ClassOutline | _ImportOutline] | None:
    """A module's top-level classes and ``from`` imports by the name they bind, the first binding of a
    name winning (as the search of the module's statements in order would find it); None if it does not
    parse. Kept by content: every codemod context asks for the facade's methods, and the facade's module
    does not change while ``apply`` runs its steps."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return None
    outline: dict[str, _ClassOutline | _ImportOutline] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            methods = frozenset(
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and not item.name.startswith("_")
            )
            bases = tuple(base.id for base in node.bases if isinstance(base, ast.Name))
            outline.setdefault(node.name, _ClassOutline(methods, bases))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                outline.setdefault(alias.asname or alias.name, _ImportOutline(node.level, node.module, alias.name))
    return outline
