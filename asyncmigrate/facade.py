"""What the facade is, from the plan: ``FacadeSpec``, in the shape the scanner and codemods need.

Kept free of LibCST so that a warm scan, which parses nothing, does not pay for importing it.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from asyncmigrate.plan import Plan


@dataclass(frozen=True)
class FacadeSpec:
    factories: frozenset[str]
    classes: frozenset[str]
    receiver_names: frozenset[str]
    methods: frozenset[str]  # the facade's public methods; empty when unknown
    targets: Mapping[str, str] = field(default_factory=dict)  # facade method -> "repo.method"
    sync_repositories: frozenset[str] = frozenset()  # repositories whose methods are not awaited
    depends: frozenset[str] = frozenset({"fastapi.Depends", "fastapi.params.Depends"})

    @classmethod
    def from_plan(cls, plan: Plan) -> FacadeSpec:
        methods = set(plan.facade.methods)
        if not methods:
            methods = discover_methods(plan.root, plan.facade.classes)
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
            ]
        )
        return hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()

    def is_async_target(self, method: str) -> bool:
        """True when the facade method maps to an awaited repository method."""
        target = self.targets.get(method)
        return target is not None and target.split(".", 1)[0] not in self.sync_repositories

    def is_facade_method(self, name: str) -> bool:
        if self.methods:
            return name in self.methods
        return not name.startswith("_")


def module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def discover_methods(root: Path, classes: Iterable[str]) -> set[str]:
    """Public method names of the facade classes defined in the tree, following re-exports."""
    methods: set[str] = set()
    for qualified in classes:
        module, _, name = qualified.rpartition(".")
        methods |= _class_methods(root, module, name, depth=0)
    return methods


def _class_methods(root: Path, module: str, name: str, depth: int) -> set[str]:
    path = module_file(root, module) if module else None
    if path is None or depth > 5:
        return set()
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            found = {
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and not item.name.startswith("_")
            }
            for base in node.bases:  # bases defined in the same module count too
                if isinstance(base, ast.Name):
                    found |= _class_methods(root, module, base.id, depth + 1)
            return found
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    source = absolute_module(module, node.module, node.level, path.name == "__init__.py")
                    return _class_methods(root, source, alias.name, depth + 1)
    return set()


def absolute_module(current: str, target: str | None, level: int, is_package: bool) -> str:
    if level == 0:
        return target or ""
    parts = current.split(".")
    keep = len(parts) - level + (1 if is_package else 0)
    prefix = parts[: max(keep, 0)]
    return ".".join([*prefix, target] if target else prefix)


def module_name_for(path: str) -> tuple[str, bool]:
    """``server/api/players.py`` -> (``server.api.players``, False); packages -> (``pkg``, True)."""
    parts = Path(path).with_suffix("").parts
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package
