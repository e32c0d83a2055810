"""The LibCST visitor that finds every place a module reaches the facade."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import libcst as cst
from libcst.metadata import CodeRange, PositionProvider, Scope, ScopeProvider

from asyncmigrate.facade import FacadeSpec, module_name_for
from asyncmigrate.resolver import FacadeResolver
from asyncmigrate.types import CallSite, Resolution


@dataclass
class _Function:
    name: str
    is_async: bool
    class_name: str | None  # the class this function is a method of (directly or by closure)
    self_name: str | None  # the name bound to the instance ("self"), if any


@dataclass
class _Candidate:
    attribute: cst.Attribute
    is_call: bool
    awaited: bool
    function: _Function | None
    in_lambda: bool


def _is_staticmethod(node: cst.FunctionDef) -> bool:
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)


class FacadeCallCollector(cst.CSTVisitor):
    """Collects facade call sites; resolution runs once the whole module (and every assignment in
    it) has been seen, so a use before its assignment in source order still resolves."""

    METADATA_DEPENDENCIES = (ScopeProvider, PositionProvider)

    def __init__(self, spec: FacadeSpec, path: str) -> None:
        super().__init__()
        self.spec = spec
        self.path = path
        self.module_name, self.is_package = module_name_for(path)
        self.calls: list[CallSite] = []
        self._resolver: FacadeResolver | None = None
        self._frames: list[str | _Function] = []  # class qualnames and functions, innermost last
        self._lambda_depth = 0
        self._awaited: set[int] = set()
        self._call_funcs: set[int] = set()
        self._stores: set[int] = set()
        self._candidates: list[_Candidate] = []

    # --- scope bookkeeping ------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        scopes = cast(Mapping[cst.CSTNode, Scope | None], self.metadata[ScopeProvider])
        self._resolver = FacadeResolver(self.spec, scopes, self.module_name, self.is_package)

    @property
    def resolver(self) -> FacadeResolver:
        assert self._resolver is not None
        return self._resolver

    @property
    def _function(self) -> _Function | None:
        """The innermost enclosing function, if any."""
        return next((f for f in reversed(self._frames) if isinstance(f, _Function)), None)

    def _qualname(self, name: str) -> str:
        if not self._frames:
            return name
        top = self._frames[-1]
        if isinstance(top, _Function):
            return f"{top.name}.<locals>.{name}"
        return f"{top}.{name}"

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = self._qualname(node.name.value)
        self.resolver.class_bases[qualname] = [arg.value.value for arg in node.bases if isinstance(arg.value, cst.Name)]
        self._frames.append(qualname)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._frames.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        top = self._frames[-1] if self._frames else None
        class_name: str | None = None
        self_name: str | None = None
        if isinstance(top, str):  # a method: its first parameter is the instance (or the class)
            class_name = top
            params = node.params.posonly_params or node.params.params
            if params and not _is_staticmethod(node):
                self_name = params[0].name.value
        elif isinstance(top, _Function):  # a closure sees the enclosing method's self
            class_name, self_name = top.class_name, top.self_name
        function = _Function(self._qualname(node.name.value), node.asynchronous is not None, class_name, self_name)
        self._frames.append(function)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._lambda_depth += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._lambda_depth -= 1

    # --- values assigned to names and to self attributes ----------------------------------------
    def _record_target(
        self, target: cst.BaseExpression, value: cst.BaseExpression | None, annotation: cst.BaseExpression | None = None
    ) -> None:
        resolver = self.resolver
        if isinstance(target, cst.Name):
            if value is not None:
                resolver.assigned[target] = value
            if annotation is not None:
                resolver.annotated[target] = annotation
                top = self._frames[-1] if self._frames else None
                if isinstance(top, str):  # a class-level annotation
                    resolver.class_annotations.setdefault(top, {})[target.value] = annotation
            return
        if isinstance(target, cst.Attribute):
            self._stores.add(id(target))
            function = self._function
            owner = target.value
            if (
                function is not None
                and function.class_name
                and function.self_name
                and isinstance(owner, cst.Name)
                and owner.value == function.self_name
            ):
                attr = target.attr.value
                if value is not None:
                    resolver.class_attributes.setdefault(function.class_name, {}).setdefault(attr, []).append(value)
                if annotation is not None:
                    resolver.class_annotations.setdefault(function.class_name, {})[attr] = annotation

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._record_target(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._record_target(node.target, node.value, node.annotation.annotation)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Attribute):
            self._stores.add(id(node.target))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._record_target(node.target, node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self._record_target(node.asname.name, node.item)

    def visit_Del(self, node: cst.Del) -> None:
        if isinstance(node.target, cst.Attribute):
            self._stores.add(id(node.target))

    # --- candidate facade accesses -------------------------------------------------------------
    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_Call(self, node: cst.Call) -> None:
        self._call_funcs.add(id(node.func))
        if isinstance(node.func, cst.Attribute) and id(node) in self._awaited:
            self._awaited.add(id(node.func))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if id(node) in self._stores or not self.spec.is_facade_method(node.attr.value):
            return
        is_call = id(node) in self._call_funcs
        if not is_call and not self.spec.methods:
            return  # without the facade's method list, a bare attribute is not evidence of a method
        self._candidates.append(
            _Candidate(
                attribute=node,
                is_call=is_call,
                awaited=id(node) in self._awaited,
                function=self._function,
                in_lambda=self._lambda_depth > 0,
            )
        )

    def leave_Module(self, original_node: cst.Module) -> None:
        positions = cast(Mapping[cst.CSTNode, CodeRange], self.metadata[PositionProvider])
        module = original_node
        for candidate in self._candidates:
            function = candidate.function
            resolution = self.resolver.resolve(
                candidate.attribute.value,
                function.class_name if function else None,
                function.self_name if function else None,
            )
            if resolution is None:
                continue
            method = candidate.attribute.attr.value
            start = positions[candidate.attribute].start
            self.calls.append(
                CallSite(
                    path=self.path,
                    line=start.line,
                    column=start.column,
                    method=method,
                    receiver=module.code_for_node(candidate.attribute.value),
                    function=function.name if function else "<module>",
                    function_is_async=bool(function and function.is_async),
                    awaited=candidate.awaited,
                    target=self.spec.targets.get(method),
                    resolution=Resolution(resolution),
                    is_reference=not candidate.is_call,
                    in_lambda=candidate.in_lambda,
                )
            )
