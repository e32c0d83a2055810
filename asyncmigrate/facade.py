"""What the facade is (from the plan) and how code reaches it (from LibCST scope metadata).

``FacadeSpec`` is the plan's facade section in the shape the scanner and codemods need.
``FacadeResolver`` answers "is this expression the facade, and how do we know?" for one module, using
LibCST's ``ScopeProvider``: assignments, parameters, imports and qualified names, never text matching
(the plan's receiver names are only the last resort, and call sites found that way say so).
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import Assignment, BaseAssignment, ImportAssignment, Scope

from asyncmigrate.plan import Plan
from asyncmigrate.types import Resolution

_MAX_DEPTH = 6  # alias chains longer than this (p = q = r = ...) are not followed


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
        if methods:  # a mapped method is a facade method even when the class hides it
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
                    source = _absolute_module(module, node.module, node.level, path.name == "__init__.py")
                    return _class_methods(root, source, alias.name, depth + 1)
    return set()


def _absolute_module(current: str, target: str | None, level: int, is_package: bool) -> str:
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


class FacadeResolver:
    """Decides whether expressions in one module evaluate to the facade.

    ``assigned`` maps each assignment target ``Name`` node to the value assigned to it, and
    ``class_attributes`` maps a class's qualified name to ``self.<attr>`` values, both gathered by the
    visitor that owns this resolver (the scope provider records targets but not values).
    """

    def __init__(
        self,
        spec: FacadeSpec,
        scopes: Mapping[cst.CSTNode, Scope | None],
        module_name: str,
        is_package: bool,
    ) -> None:
        self.spec = spec
        self.scopes = scopes
        self.module_name = module_name
        self.is_package = is_package
        self.assigned: dict[cst.CSTNode, cst.BaseExpression] = {}
        self.annotated: dict[cst.CSTNode, cst.BaseExpression] = {}
        self.class_attributes: dict[str, dict[str, list[cst.BaseExpression]]] = {}
        self.class_annotations: dict[str, dict[str, cst.BaseExpression]] = {}
        self.class_bases: dict[str, list[str]] = {}

    # --- qualified names ------------------------------------------------------------------
    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        scope = self.scopes.get(node)
        if scope is None:
            return set()
        return {self._absolute(q.name) for q in scope.get_qualified_names_for(node)}

    def _absolute(self, name: str) -> str:
        if not name.startswith("."):
            return name
        level = len(name) - len(name.lstrip("."))
        return _absolute_module(self.module_name, name[level:], level, self.is_package)

    def is_factory(self, node: cst.BaseExpression) -> bool:
        return bool(self.qualified_names(node) & self.spec.factories)

    def is_factory_call(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and self.is_factory(node.func)

    def is_facade_annotation(self, annotation: cst.BaseExpression, context: cst.CSTNode) -> bool:
        if isinstance(annotation, cst.SimpleString | cst.ConcatenatedString):
            text = annotation.evaluated_value if isinstance(annotation, cst.SimpleString) else None
            if not isinstance(text, str):
                return False
            try:
                parsed = cst.parse_expression(text)
            except cst.ParserSyntaxError:
                return False
            return self._annotation_names(parsed, context)
        return self._annotation_names(annotation, annotation)

    def _annotation_names(self, annotation: cst.BaseExpression, context: cst.CSTNode) -> bool:
        if isinstance(annotation, cst.BinaryOperation):  # PersistenceLayer | None
            return self._annotation_names(annotation.left, context) or self._annotation_names(annotation.right, context)
        if isinstance(annotation, cst.Subscript):  # Optional[X], Annotated[X, Depends(...)]
            names = self._names_of(annotation.value, context)
            wrapper = {n.rsplit(".", 1)[-1] for n in names}
            if wrapper & {"Optional", "Annotated", "Union"}:
                for element in annotation.slice:
                    index = element.slice
                    if isinstance(index, cst.Index):
                        if self._annotation_names(index.value, context):
                            return True
                        if "Annotated" in wrapper and self.is_depends(index.value):
                            return True
            return False
        return bool(self._names_of(annotation, context) & self.spec.classes)

    def _names_of(self, node: cst.BaseExpression, context: cst.CSTNode) -> set[str]:
        if node in self.scopes:
            return self.qualified_names(node)
        # A node parsed out of a string annotation has no metadata: resolve its text in the scope
        # the annotation was written in.
        scope = self.scopes.get(context)
        dotted = _dotted(node)
        if scope is None or dotted is None:
            return set()
        return {self._absolute(q.name) for q in scope.get_qualified_names_for(dotted)}

    def is_depends(self, node: cst.BaseExpression) -> bool:
        """``Depends(get_persistence)`` for any of the plan's factories."""
        if not isinstance(node, cst.Call) or not node.args:
            return False
        func_names = self.qualified_names(node.func)
        if not (func_names & self.spec.depends or _last(node.func) == "Depends"):
            return False
        return self.is_factory(node.args[0].value)

    # --- receivers ------------------------------------------------------------------------
    def resolve(
        self, expr: cst.BaseExpression, class_name: str | None, self_name: str | None, depth: int = 0
    ) -> Resolution | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Call):
            return Resolution.FACTORY_CALL if self.is_factory_call(expr) else None
        if isinstance(expr, cst.BooleanOperation):  # persistence or get_persistence()
            return self.resolve(expr.left, class_name, self_name, depth + 1) or self.resolve(
                expr.right, class_name, self_name, depth + 1
            )
        if isinstance(expr, cst.IfExp):
            return self.resolve(expr.body, class_name, self_name, depth + 1) or self.resolve(
                expr.orelse, class_name, self_name, depth + 1
            )
        if isinstance(expr, cst.Name):
            return self._resolve_name(expr, class_name, self_name, depth)
        if isinstance(expr, cst.Attribute):
            return self._resolve_attribute(expr, class_name, self_name, depth)
        return None

    def _resolve_name(
        self, expr: cst.Name, class_name: str | None, self_name: str | None, depth: int
    ) -> Resolution | None:
        scope = self.scopes.get(expr)
        if scope is not None:
            for assignment in scope[expr.value]:
                found = self._resolve_assignment(assignment, class_name, self_name, depth)
                if found is not None:
                    return found
        if expr.value in self.spec.receiver_names:
            return Resolution.RECEIVER_NAME
        return None

    def _resolve_assignment(
        self, assignment: BaseAssignment, class_name: str | None, self_name: str | None, depth: int
    ) -> Resolution | None:
        if isinstance(assignment, ImportAssignment) or not isinstance(assignment, Assignment):
            return None
        node = assignment.node
        if isinstance(node, cst.Param):
            if node.annotation is not None and self.is_facade_annotation(node.annotation.annotation, node):
                return Resolution.ANNOTATION
            if node.default is not None and self.is_depends(node.default):
                return Resolution.DEPENDS
            return None
        annotation = self.annotated.get(node)
        if annotation is not None and self.is_facade_annotation(annotation, node):
            return Resolution.ANNOTATION
        value = self.assigned.get(node)
        if value is None:
            return None
        if self.is_factory_call(value):
            return Resolution.FACTORY_ASSIGNMENT
        found = self.resolve(value, class_name, self_name, depth + 1)
        if found is Resolution.FACTORY_CALL:
            return Resolution.FACTORY_ASSIGNMENT
        return found

    def _resolve_attribute(
        self, expr: cst.Attribute, class_name: str | None, self_name: str | None, depth: int
    ) -> Resolution | None:
        attr = expr.attr.value
        owner = expr.value
        if (
            self_name is not None
            and class_name is not None
            and isinstance(owner, cst.Name)
            and owner.value == self_name
        ):
            found = self.resolve_class_attribute(class_name, attr, depth)
            if found is not None:
                return found
        if attr in self.spec.receiver_names:
            # request.app.state.persistence / app.state.persistence: FastAPI's application state
            if isinstance(owner, cst.Attribute) and owner.attr.value == "state":
                return Resolution.APP_STATE
            return Resolution.RECEIVER_NAME
        return None

    def resolve_class_attribute(self, class_name: str, attr: str, depth: int = 0) -> Resolution | None:
        seen: set[str] = set()
        pending = [class_name]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            annotation = self.class_annotations.get(current, {}).get(attr)
            if annotation is not None and self.is_facade_annotation(annotation, annotation):
                return Resolution.SELF_ATTRIBUTE
            for value in self.class_attributes.get(current, {}).get(attr, []):
                if self.resolve(value, current, None, depth + 1) is not None:
                    return Resolution.SELF_ATTRIBUTE
            pending.extend(self.class_bases.get(current, []))
        return None


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr.value}" if owner else None
    return None


def _last(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None
