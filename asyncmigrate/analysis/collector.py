"""The LibCST visitor that finds every place a module reaches the facade."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import libcst as cst
from libcst.metadata import (
    CodeRange,
    MetadataWrapper,
    PositionProvider,
    Scope,
    ScopeProvider,
)

from asyncmigrate.analysis.facade import THREAD_HOPS as THREAD_HOPS  # the codemods read it here
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.resolver import FacadeResolver
from asyncmigrate.analysis.slicing import Anchor
from asyncmigrate.config.modules import nested_qualname
from asyncmigrate.frameworks import mock
from asyncmigrate.types import CallSite, Resolution


@dataclass
class _Function:
    name: str
    is_async: bool
    class_name: str | None  # the class this function is a method of (directly or by closure)
    self_name: str | None  # the name bound to the instance ("self"), if any


@dataclass
class _Candidate:
    attribute: cst.Attribute | cst.Call  # ``receiver.method``, or ``getattr(receiver, "method")``
    is_call: bool
    awaited: bool
    function: _Function | None
    in_lambda: bool
    index: int  # among the module's facade-method attributes, in visiting order
    wrapper: str | None = None  # the thread hop the bound method is handed to


def getattr_method(node: cst.CSTNode) -> tuple[cst.BaseExpression, str] | None:
    """``getattr(receiver, "name")`` -> (receiver, name); None for anything else."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "getattr"):
        return None
    if len(node.args) < 2 or any(arg.keyword is not None or arg.star for arg in node.args[:2]):
        return None
    name = node.args[1].value
    if not isinstance(name, cst.SimpleString) or not isinstance(name.evaluated_value, str):
        return None
    return node.args[0].value, name.evaluated_value


def dynamic_getattr_receiver(node: cst.CSTNode) -> cst.BaseExpression | None:
    """``getattr(receiver, name)`` whose name is not a string literal -> receiver; None otherwise."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "getattr"):
        return None
    if len(node.args) < 2 or any(arg.keyword is not None or arg.star for arg in node.args[:2]):
        return None
    name = node.args[1].value
    if isinstance(name, cst.SimpleString | cst.ConcatenatedString):
        return None
    return node.args[0].value


def access_parts(node: cst.Attribute | cst.Call) -> tuple[cst.BaseExpression, str]:
    """The receiver and method name of a facade-method access."""
    if isinstance(node, cst.Attribute):
        return node.value, node.attr.value
    parts = getattr_method(node)
    assert parts is not None
    return parts


def callee_name(func: cst.BaseExpression) -> str | None:
    """``asyncio.to_thread`` and ``to_thread`` both name ``to_thread``."""
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def hopped_callable(call: cst.Call) -> cst.Attribute | None:
    """The attribute handed to a thread hop: ``to_thread(x.m, …)``, ``run_in_executor(None, x.m, …)``,
    or the same through ``functools.partial(x.m, …)``; None for any other call."""
    index = THREAD_HOPS.get(callee_name(call.func) or "")
    if index is None or len(call.args) <= index:
        return None
    if any(arg.keyword is not None or arg.star for arg in call.args[: index + 1]):
        return None
    handed = call.args[index].value
    if isinstance(handed, cst.Call) and callee_name(handed.func) == "partial" and handed.args:
        first = handed.args[0]
        handed = first.value if first.keyword is None and not first.star else handed
    return handed if isinstance(handed, cst.Attribute) else None


_Hook = Callable[[cst.CSTVisitor, cst.CSTNode], object] | None
_HOOKS: dict[tuple[type[cst.CSTVisitor], type[cst.CSTNode], str], _Hook] = {}


def _hook(visitor: cst.CSTVisitor, node: cst.CSTNode, name: str) -> _Hook:
    key = (type(visitor), type(node), name)
    try:
        return _HOOKS[key]
    except KeyError:
        method = name.format(type(node).__name__)
        hook = getattr(type(visitor), method, None)
        if hook is not None and hook is getattr(cst.CSTVisitor, method, None):
            hook = None  # not overridden: one of CSTVisitor's do-nothing stubs for every node and field
        _HOOKS[key] = hook
        return hook


def _is_field_hook(cls: type[cst.CSTVisitor], name: str) -> bool:
    """Is ``name`` a ``visit_<Type>_<field>`` or ``leave_<Type>_<field>`` that ``cls`` overrides?"""
    if not name.startswith(("visit_", "leave_")) or name.count("_") < 2:
        return False
    return getattr(cls, name) is not getattr(cst.CSTVisitor, name, None)


def _no_field_hook(_visitor: cst.CSTVisitor, _node: cst.CSTNode, _attribute: str) -> None:
    return None


class _CachedDispatch(cst.CSTVisitor):
    """``CSTVisitor`` looks up ``visit_<Type>`` and, for every field of every node,
    ``visit_<Type>_<field>`` with an f-string and ``getattr`` on each call: half the cost of a walk.
    Here each lookup is made once per visitor class and node type."""

    def on_visit(self, node: cst.CSTNode) -> bool:
        hook = _hook(self, node, "visit_{}")
        return hook is None or hook(self, node) is not False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        hook = _hook(self, original_node, "leave_{}")
        if hook is not None:
            hook(self, original_node)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A visitor with no ``visit_<Type>_<field>`` or ``leave_<Type>_<field>`` of its own is called for
        # every field of every node for nothing: those calls then return at once.
        hooked = any(_is_field_hook(cls, name) for name in dir(cls))
        visit: Callable[..., None] = _CachedDispatch.on_visit_attribute if hooked else _no_field_hook
        leave: Callable[..., None] = _CachedDispatch.on_leave_attribute if hooked else _no_field_hook
        cls.on_visit_attribute = visit  # type: ignore[method-assign]
        cls.on_leave_attribute = leave  # type: ignore[method-assign]

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        hook = _hook(self, node, "visit_{}_" + attribute)
        if hook is not None:
            hook(self, node)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        hook = _hook(self, original_node, "leave_{}_" + attribute)
        if hook is not None:
            hook(self, original_node)


def _is_staticmethod(node: cst.FunctionDef) -> bool:
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)


class FacadeCallCollector(_CachedDispatch):
    """Collects facade call sites; resolution runs once the whole module (and every assignment in
    it) has been seen, so a use before its assignment in source order still resolves.

    Positions come from ``PositionProvider``, or, when ``anchors`` are given (the module is a slice,
    see ``slicing.py``), from the anchor of the same index; each anchor is checked against the node
    it is matched to, and any disagreement sets ``anchor_mismatch`` and yields no call sites.
    """

    METADATA_DEPENDENCIES = (ScopeProvider, PositionProvider)

    def __init__(self, spec: FacadeSpec, path: str, anchors: Sequence[Anchor] | None = None) -> None:
        super().__init__()
        self.anchors = anchors
        self.anchor_mismatch = False
        self._facade_attributes = 0
        self.spec = spec
        self.path = path
        self.module_name, self.is_package = spec.layout.module_name(path)
        self.calls: list[CallSite] = []
        self._resolver: FacadeResolver | None = None
        self._frames: list[str | _Function] = []  # class qualnames and functions, innermost last
        self._lambda_depth = 0
        self._awaited: set[int] = set()
        self._call_funcs: set[int] = set()
        self._stores: set[int] = set()
        self._candidates: list[_Candidate] = []
        self._mock_config: set[int] = set()  # facade-method attributes whose mock attribute is used
        self._hops: dict[int, str] = {}  # attribute handed to a thread hop -> the hop's name
        self._dynamic: list[tuple[cst.Call, _Function | None]] = []  # getattr(x, <not a literal>)
        # getattr(facade, <not a literal>): (line, column, receiver, function). Which method it reaches is
        # known only at run time, so no call site is made of it; the rewrite refuses a file holding one.
        self.dynamic_getattrs: list[tuple[int, int, str, str]] = []

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
            return nested_qualname(None, False, name)
        top = self._frames[-1]
        if isinstance(top, _Function):
            return nested_qualname(top.name, True, name)
        return nested_qualname(top, False, name)

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
        if isinstance(node.func, cst.Attribute | cst.Call) and id(node) in self._awaited:
            self._awaited.add(id(node.func))
        handed = hopped_callable(node)
        if handed is not None:
            self._hops[id(handed)] = callee_name(node.func) or ""
        parts = getattr_method(node)
        if parts is not None and self.spec.is_facade_method(parts[1]):
            self._access(node, parts[1])
        elif self.anchors is None and dynamic_getattr_receiver(node) is not None:
            self._dynamic.append((node, self._function))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in mock.OWN_ATTRIBUTES and isinstance(node.value, cst.Attribute | cst.Call):
            self._mock_config.add(id(node.value))  # the outer attribute is visited first
        if not self.spec.is_facade_method(node.attr.value):
            return
        self._access(node, node.attr.value)

    def _access(self, node: cst.Attribute | cst.Call, method: str) -> None:
        """A facade-method access: ``receiver.method``, or ``getattr(receiver, "method")``."""
        index = self._facade_attributes
        self._facade_attributes += 1
        if self.anchors is not None:
            function = self._function
            if (
                index >= len(self.anchors)
                or self.anchors[index].attr != method
                or self.anchors[index].function != (function.name if function else "<module>")
            ):
                self.anchor_mismatch = True
        if id(node) in self._stores or id(node) in self._mock_config:
            return
        is_call = id(node) in self._call_funcs
        wrapper = self._hops.get(id(node))
        if not is_call and wrapper is None and not self.spec.methods:
            return  # without the facade's method list, a bare attribute is not evidence of a method
        self._candidates.append(
            _Candidate(
                attribute=node,
                is_call=is_call,
                awaited=id(node) in self._awaited,
                function=self._function,
                in_lambda=self._lambda_depth > 0,
                index=index,
                wrapper=wrapper,
            )
        )

    def _position(self, candidate: _Candidate) -> tuple[int, int]:
        if self.anchors is not None:
            anchor = self.anchors[candidate.index]
            return anchor.line, anchor.column
        positions = cast(Mapping[cst.CSTNode, CodeRange], self.metadata[PositionProvider])
        start = positions[candidate.attribute].start
        return start.line, start.column

    def leave_Module(self, original_node: cst.Module) -> None:
        if self.anchors is not None and self._facade_attributes != len(self.anchors):
            self.anchor_mismatch = True
        if self.anchor_mismatch:
            return
        module = original_node
        self._resolve_dynamic(module)
        for candidate in self._candidates:
            function = candidate.function
            receiver, method = access_parts(candidate.attribute)
            resolution = self.resolver.resolve(
                receiver,
                function.class_name if function else None,
                function.self_name if function else None,
            )
            if resolution is None:
                continue
            line, column = self._position(candidate)
            self.calls.append(
                CallSite(
                    path=self.path,
                    line=line,
                    column=column,
                    method=method,
                    receiver=module.code_for_node(receiver),
                    function=function.name if function else "<module>",
                    function_is_async=bool(function and function.is_async),
                    awaited=candidate.awaited,
                    target=self.spec.targets.get(method),
                    resolution=Resolution(resolution),
                    is_reference=not candidate.is_call and candidate.wrapper is None,
                    in_lambda=candidate.in_lambda,
                    wrapper=candidate.wrapper,
                )
            )

    def _resolve_dynamic(self, module: cst.Module) -> None:
        if not self._dynamic:
            return
        positions = cast(Mapping[cst.CSTNode, CodeRange], self.metadata[PositionProvider])
        for node, function in self._dynamic:
            receiver = dynamic_getattr_receiver(node)
            assert receiver is not None
            class_name, self_name = (function.class_name, function.self_name) if function else (None, None)
            if self.resolver.resolve(receiver, class_name, self_name) is None:
                continue
            start = positions[node].start
            name = function.name if function else "<module>"
            self.dynamic_getattrs.append((start.line, start.column, module.code_for_node(receiver), name))


class _ScopeProvider(ScopeProvider):
    """``ScopeProvider``, resolved without a costly step of the batched walk that runs it.

    ``MetadataWrapper`` asks each batchable provider for its visitor methods with
    ``BatchableCSTVisitor.get_visitors``, which looks them up with ``inspect.getmembers`` on every
    run (a few milliseconds a file, more than the scope analysis of a small slice). All of this
    provider's work happens in ``visit_Module``: name that one method.
    """

    def get_visitors(self) -> Mapping[str, Callable[[cst.CSTNode], None]]:
        return {"visit_Module": cast(Callable[[cst.CSTNode], None], self.visit_Module)}


def scope_metadata(module: cst.Module) -> Mapping[cst.CSTNode, Scope | None]:
    """``ScopeProvider``'s answer for ``module``, through LibCST's public ``MetadataWrapper``."""
    return MetadataWrapper(module, unsafe_skip_copy=True).resolve(_ScopeProvider)


def collect_calls(
    module: cst.Module, spec: FacadeSpec, path: str, anchors: Sequence[Anchor] | None = None
) -> list[CallSite] | None:
    """The facade call sites of a freshly parsed ``module`` (its nodes must be unique, as the
    parser makes them); None when ``anchors`` were given and do not match the module."""
    collector = FacadeCallCollector(spec, path, anchors)
    metadata: dict[type[object], Mapping[cst.CSTNode, object]] = {ScopeProvider: scope_metadata(module)}
    if anchors is None:
        metadata[PositionProvider] = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    collector.metadata = metadata  # type: ignore[assignment]
    module.visit(collector)
    return None if collector.anchor_mismatch else collector.calls
