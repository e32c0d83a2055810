"""Is this expression the facade, and how do we know? Answered from LibCST scope metadata.

``FacadeResolver`` works on one module through LibCST's ``ScopeProvider``: assignments, parameters,
imports and qualified names, never text matching (the plan's receiver names are only the last resort,
and call sites found that way say so).
"""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst
from libcst.metadata import Assignment, BaseAssignment, ImportAssignment, Scope

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.config.modules import absolute_name
from asyncmigrate.frameworks import fastapi
from asyncmigrate.types import Resolution

_MAX_DEPTH = 6  # alias chains longer than this (p = q = r = ...) are not followed
_STRENGTH = list(Resolution)  # declared strongest first


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
        package = self.module_name if self.is_package else self.module_name.rpartition(".")[0]
        return absolute_name(package, name)

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
        """``Depends(get_persistence)`` for any of the plan's factories (never with the fastapi adapter off)."""
        if not isinstance(node, cst.Call) or not node.args or not self.spec.depends:
            return False
        func_names = self.qualified_names(node.func)
        if not (func_names & self.spec.depends or fastapi.is_depends_name(_last(node.func))):
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
            # A scope's assignments come as a set, in no stable order: of the bindings that reach
            # the facade, report the strongest evidence, so every run (and every slice) agrees.
            found = [
                resolution
                for assignment in scope[expr.value]
                if (resolution := self._resolve_assignment(assignment, class_name, self_name, depth)) is not None
            ]
            if found:
                return min(found, key=_STRENGTH.index)
            # the plan's names are a last resort, never above a binding the scan can see
            # (``gw = MagicMock(spec=Gateway)``, ``gw: Gateway``): that object is something else
            if any(self._binds_something_else(assignment) for assignment in scope[expr.value]):
                return None
        if expr.value in self.spec.receiver_names:
            return Resolution.RECEIVER_NAME
        return None

    def _binds_something_else(self, assignment: BaseAssignment) -> bool:
        if not isinstance(assignment, Assignment):
            return False
        node = assignment.node
        if isinstance(node, cst.Param):
            return node.annotation is not None or isinstance(node.default, cst.Call)
        if node in self.annotated:
            return True
        value = self.assigned.get(node)
        return value is not None and _is_other_object(value)

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
            if self._class_binds_something_else(class_name, attr):
                return None
        if attr in self.spec.receiver_names:
            # request.app.state.persistence / app.state.persistence: FastAPI's application state
            state = self.spec.app_state
            if state is not None and isinstance(owner, cst.Attribute) and owner.attr.value == state:
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

    def _class_binds_something_else(self, class_name: str, attr: str) -> bool:
        """``self.<attr>`` is assigned or annotated as some other object in the class."""
        if attr in self.class_annotations.get(class_name, {}):
            return True
        return any(_is_other_object(value) for value in self.class_attributes.get(class_name, {}).get(attr, []))


def _is_other_object(value: cst.BaseExpression) -> bool:
    """A value that visibly is not the facade (it did not resolve to it): a call, a literal, a lambda."""
    return isinstance(
        value,
        cst.Call
        | cst.Lambda
        | cst.BaseNumber
        | cst.BaseString
        | cst.List
        | cst.Tuple
        | cst.Dict
        | cst.Set
        | cst.ListComp
        | cst.DictComp
        | cst.SetComp,
    )


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
