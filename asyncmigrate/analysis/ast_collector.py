"""The facade call sites of a module, from CPython's ``ast``: what the LibCST collector finds, faster.

``collector.py`` runs LibCST's parser, its ``ScopeProvider`` and ``FacadeResolver`` over a module;
this module computes the same ``CallSite`` tuples from the ``ast.Module`` the scan already holds.
Its scope model is LibCST's, not Python's, ported to ``ast`` nodes as LibCST's ``ScopeVisitor``
builds it (the resolver's answers come from that model, quirks included):

* scopes: module, function (lambda too), class (never visible from the scopes inside it) and
  comprehension (the first iterable is evaluated outside it); ``global`` and ``nonlocal`` redirect
  a name's assignments and lookups;
* a lookup returns every assignment of the name in the nearest scope that has one, in any order
  and wherever it is in that scope; ``del`` and ``match`` captures bind nothing (they are accesses);
  a walrus binds in the scope it is written in, a comprehension's included;
* qualified names follow LibCST's ``Scope.get_qualified_names_for``: a name's own access knows only
  the assignments before it in its scope, a dotted expression consults all of them.

Anything this port does not reproduce exactly makes it *refuse* the module (``collect`` returns
None) and the scan falls back to LibCST: star imports, a facade method in an import's dotted name,
``nonlocal`` at module level, PEP 695 syntax, a receiver position or text ``ast`` cannot vouch for,
a string inside an annotation, a string annotation outside the plain grammar below.
"""

from __future__ import annotations

import ast
import builtins
import io
import re
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate

from asyncmigrate.analysis.facade import MOCK_ATTRIBUTES, THREAD_HOPS, FacadeSpec
from asyncmigrate.analysis.reach import FileSummary, FunctionSummary, is_facade_receiver, summarize_tree
from asyncmigrate.config.modules import absolute_name, nested_qualname
from asyncmigrate.frameworks import fastapi
from asyncmigrate.types import CallSite, Resolution

_MAX_DEPTH = 6  # as FacadeResolver: alias chains longer than this are not followed
_STRENGTH = list(Resolution)
_BOM = b"\xef\xbb\xbf"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
# String annotations this port parses with ``ast`` knowing LibCST's expression parser agrees.
_PLAIN_ANNOTATION = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\], |]*")
# LibCST's scope visitor parses a string in an annotation or a type hint as a module and visits it:
# a string that could hold a binding or a statement could change its scopes (a superset is refused).
_BINDING_TEXT = re.compile(r"[=:;]|\b(?:import|def|class|global|nonlocal|for|with|except|lambda)\b")
_INDENT = re.compile(rb"^[ \t\f]+", re.MULTILINE)
_TYPE_HINT_CALLS = frozenset({"cast", "TypeVar", "NewType"})
_READS_ARGUMENTS = frozenset({*THREAD_HOPS, "getattr"})  # callees whose arguments the collector inspects
# Expression kinds visited field by field in source order, with nothing to record of their own.
_SIMPLE_CHILDREN: dict[type[ast.AST], tuple[str, ...]] = {
    ast.BinOp: ("left", "right"),
    ast.Compare: ("left", "comparators"),
    ast.BoolOp: ("values",),
    ast.UnaryOp: ("operand",),
    ast.Tuple: ("elts",),
    ast.List: ("elts",),
    ast.Set: ("elts",),
    ast.Starred: ("value",),
    ast.FormattedValue: ("value", "format_spec"),
    ast.Slice: ("lower", "upper", "step"),
    ast.Yield: ("value",),
    ast.YieldFrom: ("value",),
}


# The statements that can have PEP 695 type parameters, on interpreters whose ``ast`` reads them.
_WITH_TYPE_PARAMS = frozenset(
    kind
    for kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, getattr(ast, "TypeAlias", ast.FunctionDef))
    if "type_params" in kind._fields
)


class Refused(Exception):
    """The module uses something this port does not model exactly: LibCST must scan it."""


# --- LibCST's scope model on ast nodes ---------------------------------------------------------------


class _Binding:
    """One of LibCST's assignments: ``kind`` is "local" (``Assignment``), "import" or "builtin"."""

    __slots__ = ("kind", "name", "scope", "node", "index")

    def __init__(self, kind: str, name: str, scope: _Scope, node: ast.AST | None, index: int) -> None:
        self.kind = kind
        self.name = name
        self.scope = scope
        self.node = node
        self.index = index

    def qualified_names(self, full_name: str, module_package: Callable[[], str]) -> set[str]:
        if self.kind == "builtin":
            return {f"builtins.{self.name}"}
        if self.kind == "local":
            prefix = self.scope.prefix
            return {f"{prefix}.{full_name}" if prefix else full_name}
        return _import_qualified_names(self.node, full_name)


def _import_qualified_names(node: ast.AST | None, full_name: str) -> set[str]:
    """``ImportAssignment.get_qualified_names_for``, line for line."""
    assert isinstance(node, ast.Import | ast.ImportFrom)
    module = ""
    if isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
    results: set[str] = set()
    for alias in node.names:
        parts = alias.name.split(".")
        for real_name in [".".join(parts[:i]) for i in range(len(parts), 0, -1)]:
            as_name = real_name
            if module and module.endswith("."):
                real_name = f"{module}{real_name}"
            elif module:
                real_name = f"{module}.{real_name}"
            if alias.asname:
                as_name = alias.asname
            if full_name.startswith(as_name):
                remaining = full_name.split(as_name, 1)[1]
                if remaining and not remaining.startswith("."):
                    continue
                remaining = remaining.lstrip(".")
                results.add(f"{real_name}.{remaining}" if remaining else real_name)
                break
    return results


class _Scope:
    __slots__ = ("kind", "parent", "globals", "assignments", "count", "overwrites", "prefix")

    def __init__(self, kind: str, parent: _Scope | None, name: str | None = None) -> None:
        self.kind = kind  # "builtin", "global", "function", "class", "comprehension"
        self.parent: _Scope = parent if parent is not None else self
        self.globals: _Scope = self if kind == "global" else (parent.globals if parent is not None else self)
        self.assignments: dict[str, list[_Binding]] = {}
        self.count = 0
        self.overwrites: dict[str, _Scope] = {}
        if parent is None or kind == "global":
            self.prefix = ""
        elif kind == "function":
            self.prefix = ".".join(p for p in (parent.prefix, name, "<locals>") if p)
        elif kind == "class":
            self.prefix = ".".join(p for p in (parent.prefix, name) if p)
        else:
            self.prefix = ".".join(p for p in (parent.prefix, "<comprehension>") if p)

    def visible_parent(self, first: _Scope | None = None) -> _Scope:
        # A class scope is visible only from PEP 695 annotation scopes, which this port refuses.
        parent = first if first is not None else self.parent
        while parent.kind == "class":
            parent = parent.parent
        return parent

    def target(self, name: str) -> _Scope:
        if self.kind in ("global", "builtin") or name not in self.overwrites:
            return self
        return self.visible_parent(self.overwrites[name]).target(name)

    def record(self, kind: str, name: str, node: ast.AST) -> None:
        target = self.target(name)
        target.assignments.setdefault(name, []).append(_Binding(kind, name, target, node, target.count))

    def contains(self, name: str) -> bool:
        if self.kind == "builtin":
            return hasattr(builtins, name)
        if self.kind != "global" and name in self.overwrites:
            return self.overwrites[name].contains(name)
        if self.assignments.get(name):
            return True
        return self.visible_parent().contains(name)

    def lookup(self, name: str, from_scope: _Scope | None = None) -> list[_Binding]:
        """``scope[name]``: LibCST's ``_resolve_scope_for_access``."""
        from_scope = from_scope or self
        if self.kind == "builtin":
            found = self.assignments.get(name)
            if found:
                return found
            if hasattr(builtins, name):
                found = self.assignments[name] = [_Binding("builtin", name, self, None, -1)]
                return found
            return []
        if self.kind == "global":
            found = self.assignments.get(name)
            if found:
                return found
            return self.visible_parent().lookup(name)
        if name in self.overwrites:
            return self.visible_parent(self.overwrites[name]).lookup(name, from_scope)
        found = self.assignments.get(name)
        if found:
            return found
        return self.visible_parent().lookup(name, from_scope)


# A name read: (its scope, the scope's count when read, LibCST's top-level attribute around the name if
# any). A tuple: one is made for every name the module reads.
_Access = tuple[_Scope, int, "ast.Attribute | None"]


@dataclass
class _Function:
    name: str
    is_async: bool
    class_name: str | None
    self_name: str | None


@dataclass
class _Candidate:
    node: ast.Attribute | ast.Call
    receiver: ast.expr
    method: str
    is_call: bool
    awaited: bool
    function: _Function | None
    in_lambda: bool
    wrapper: str | None
    in_fstring: bool


def _full_name(node: ast.AST | str) -> str | None:
    """LibCST's ``get_full_name_for_node`` (``None.attr`` for an unnamed owner, as it writes it)."""
    if isinstance(node, str):
        return node
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, bool)):
        return repr(node.value)  # a Name to LibCST
    if isinstance(node, ast.Attribute):
        return f"{_full_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _full_name(node.func)
    if isinstance(node, ast.Subscript):
        return _full_name(node.value)
    return None


def _dotted_names(node: ast.expr) -> Iterator[tuple[str, ast.expr]]:
    """LibCST's ``_gen_dotted_names`` for an attribute chain (its ``Call`` branch is unreachable
    from the scope visitor, which opens a fresh attribute context at every call)."""
    if isinstance(node, ast.Name):
        yield node.id, node
        return
    assert isinstance(node, ast.Attribute)
    value = node.value
    if isinstance(value, ast.Name | ast.Attribute):
        inner = _dotted_names(value)
        first = next(inner, None)
        if first is None:
            return
        yield f"{first[0]}.{node.attr}", node
        yield first
        yield from inner


# --- the walk ----------------------------------------------------------------------------------------


class _Walker:
    """One walk in the order LibCST's ``ScopeVisitor`` takes, gathering both the scope model and
    what ``FacadeCallCollector`` records (its frames as its own visit order has them)."""

    def __init__(self, spec: FacadeSpec) -> None:
        self.spec = spec
        self.builtin = _Scope("builtin", None)
        self.module_scope = _Scope("global", self.builtin)
        self.module_scope.parent = self.builtin
        self.scope = self.module_scope
        self.scope_of: dict[ast.AST, _Scope] = {}
        self.accesses: dict[ast.AST, _Access] = {}
        self.attribute_stack: list[ast.Attribute | None] = [None]
        self.dotted_imports = False
        # the collector's state
        self.frames: list[str | _Function] = []
        self.lambda_depth = 0
        self.in_fstring = 0
        # Where LibCST reads a string as code: anywhere in an annotation; in a type hint, which is a
        # subscript of a name (of ``typing``'s, a superset here) or a typing call's arguments, up to
        # the next call.
        self.annotation_depth = 0
        self.type_hint = False
        # node sets and maps: an ast node hashes and compares by identity
        self.awaited: set[ast.AST] = set()
        self.call_funcs: set[ast.AST] = set()
        self.stores: set[ast.AST] = set()
        self.mock_config: set[ast.AST] = set()
        self.hops: dict[ast.AST, str] = {}
        self.candidates: list[_Candidate] = []
        self.assigned: dict[ast.AST, ast.expr] = {}
        self.annotated: dict[ast.AST, ast.expr] = {}
        self.class_attributes: dict[str, dict[str, list[tuple[ast.expr, _Scope]]]] = {}
        self.class_annotations: dict[str, dict[str, ast.expr]] = {}
        self.class_bases: dict[str, list[str]] = {}
        self.param_info: dict[ast.AST, tuple[ast.expr | None, ast.expr | None]] = {}  # arg -> (annotation, default)
        self.source_text: Callable[[ast.AST], str | None] = lambda node: None  # the module's text of a node
        # the reach summary (``reach.py``), gathered on the same walk: each function's calls, the
        # innermost function's sets (None outside any function), the functions as their definitions end
        self.summary_functions: list[FunctionSummary] = []
        self.summary_calls: tuple[set[str], set[str]] | None = None
        self.walked = False  # the whole module was walked: the summary is complete
        self.scopes: list[_Scope] = [self.builtin, self.module_scope]

    def new_scope(self, kind: str, parent: _Scope, name: str | None = None) -> _Scope:
        scope = _Scope(kind, parent, name)
        self.scopes.append(scope)
        return scope

    def release(self) -> None:
        """Drop the bindings, whose scopes hold them as they hold their scopes: a cycle that keeps every
        node a binding names (a whole function, for a ``def``) alive until the cyclic collector finds it.
        Without it the module's tree goes back as soon as the file is done, and the collection that
        follows each file (``scan.run_task``) walks what the file left, not the whole tree."""
        for scope in self.scopes:
            scope.assignments.clear()

    # --- statements ---
    def body(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        kind = type(node)
        if kind in _WITH_TYPE_PARAMS and node.type_params:  # type: ignore[attr-defined]
            raise Refused("PEP 695 type parameters")
        if kind is ast.Expr:
            self.expr(node.value)  # type: ignore[attr-defined]
        elif kind is ast.Assign:
            self.assign(node)  # type: ignore[arg-type]
        elif kind in _DEFS:
            self.function(node)  # type: ignore[arg-type]
        elif kind is ast.Return:
            if node.value is not None:  # type: ignore[attr-defined]
                self.expr(node.value)  # type: ignore[attr-defined]
        elif kind is ast.If or kind is ast.While:
            self.expr(node.test)  # type: ignore[attr-defined]
            self.body(node.body)  # type: ignore[attr-defined]
            self.body(node.orelse)  # type: ignore[attr-defined]
        elif kind is ast.For or kind is ast.AsyncFor:
            self.target(node.target)  # type: ignore[attr-defined]
            self.scope.count += 1
            self.expr(node.iter)  # type: ignore[attr-defined]
            self.body(node.body)  # type: ignore[attr-defined]
            self.body(node.orelse)  # type: ignore[attr-defined]
        elif kind is ast.ClassDef:
            self.class_def(node)  # type: ignore[arg-type]
        elif kind is ast.Import or kind is ast.ImportFrom:
            self.import_(node)  # type: ignore[arg-type]
        elif kind is ast.AnnAssign:
            self.ann_assign(node)  # type: ignore[arg-type]
        elif kind is ast.AugAssign:
            target = node.target  # type: ignore[attr-defined]
            if isinstance(target, ast.Attribute):
                self.stores.add(target)
            self.target(target)
            self.expr(node.value)  # type: ignore[attr-defined]
            self.scope.count += 1
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in node.items:  # type: ignore[attr-defined]
                self.expr(item.context_expr)
                if item.optional_vars is not None:
                    if isinstance(item.optional_vars, ast.Name):
                        self.record_target(item.optional_vars, item.context_expr)
                    self.target(item.optional_vars)
                    self.scope.count += 1  # the ``as`` clause
                self.scope.count += 1  # the with item
            self.body(node.body)  # type: ignore[attr-defined]
        elif kind is ast.Try or kind.__name__ == "TryStar":
            self.body(node.body)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                if handler.type is not None:
                    self.expr(handler.type)
                if handler.name:
                    self.scope.record("local", handler.name, handler)
                    self.scope.count += 1
                self.body(handler.body)
            self.body(node.orelse)  # type: ignore[attr-defined]
            self.body(node.finalbody)  # type: ignore[attr-defined]
        elif kind is ast.Global or kind is ast.Nonlocal:
            scope = self.scope
            if scope.kind == "global" and kind is ast.Nonlocal:
                raise Refused("nonlocal at module level")
            if scope.kind != "global":
                for name in node.names:  # type: ignore[attr-defined]
                    scope.overwrites[name] = scope.globals if kind is ast.Global else scope.parent
            scope.count += 1
        elif kind is ast.Delete:
            targets = node.targets  # type: ignore[attr-defined]
            if len(targets) == 1 and isinstance(targets[0], ast.Attribute):
                self.stores.add(targets[0])
            for target in targets:
                self.expr(target)
        elif kind is ast.Raise:
            for part in (node.exc, node.cause):  # type: ignore[attr-defined]
                if part is not None:
                    self.expr(part)
        elif kind is ast.Assert:
            self.expr(node.test)  # type: ignore[attr-defined]
            if node.msg is not None:  # type: ignore[attr-defined]
                self.expr(node.msg)  # type: ignore[attr-defined]
        elif kind is ast.Match:
            self.expr(node.subject)  # type: ignore[attr-defined]
            for case in node.cases:  # type: ignore[attr-defined]
                self.pattern(case.pattern)
                if case.guard is not None:
                    self.expr(case.guard)
                self.body(case.body)
        elif kind in (ast.Pass, ast.Break, ast.Continue):
            return
        else:
            raise Refused(f"statement {kind.__name__}")

    def hint(self, node: ast.expr) -> None:
        """An annotation."""
        self.annotation_depth += 1
        self.expr(node)
        self.annotation_depth -= 1

    def pattern(self, node: ast.pattern) -> None:
        # LibCST binds nothing for a capture; values, classes and mapping keys are expressions.
        for child in ast.walk(node):
            if isinstance(child, ast.MatchValue):
                self.expr(child.value)
            elif isinstance(child, ast.MatchClass):
                self.expr(child.cls)
            elif isinstance(child, ast.MatchMapping):
                for key in child.keys:
                    self.expr(key)

    def _qualname(self, name: str) -> str:
        if not self.frames:
            return nested_qualname(None, False, name)
        top = self.frames[-1]
        if isinstance(top, _Function):
            return nested_qualname(top.name, True, name)
        return nested_qualname(top, False, name)

    @property
    def function_frame(self) -> _Function | None:
        return next((f for f in reversed(self.frames) if isinstance(f, _Function)), None)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer = self.scope
        outer.record("local", node.name, node)
        top = self.frames[-1] if self.frames else None
        class_name: str | None = None
        self_name: str | None = None
        if isinstance(top, str):
            class_name = top
            params = node.args.posonlyargs or node.args.args
            static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
            if params and not static:
                self_name = params[0].arg
        elif isinstance(top, _Function):
            class_name, self_name = top.class_name, top.self_name
        frame = _Function(self._qualname(node.name), isinstance(node, ast.AsyncFunctionDef), class_name, self_name)
        self.frames.append(frame)
        # the summary counts a def's parameters, decorators and return annotation as its own calls
        outer_calls = self.summary_calls
        calls = self.summary_calls = (set(), set())
        inner = self.scope = self.new_scope("function", outer, node.name)
        self.parameters(node.args, inner)
        self.body(node.body)
        self.scope = outer
        for decorator in node.decorator_list:
            self.expr(decorator)
        if node.returns is not None:
            self.hint(node.returns)
        self.frames.pop()
        self.summary_calls = outer_calls
        self.summary_functions.append(
            FunctionSummary(
                frame.name,
                node.name,
                frame.is_async,
                isinstance(top, str),
                node.lineno,
                frozenset(calls[0]),
                frozenset(calls[1]),
            )
        )
        outer.count += 1

    def parameters(self, arguments: ast.arguments, inner: _Scope) -> None:
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
        ordered: list[tuple[ast.arg, ast.expr | None]] = list(
            zip(positional, [*defaults, *arguments.defaults], strict=True)
        )
        if arguments.vararg is not None:
            ordered.append((arguments.vararg, None))
        ordered += list(zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True))
        if arguments.kwarg is not None:
            ordered.append((arguments.kwarg, None))
        for arg, default in ordered:
            inner.record("local", arg.arg, arg)
            self.scope_of[arg] = inner
            self.param_info[arg] = (arg.annotation, default)
            self.scope = inner.parent
            if default is not None:
                self.expr(default)
            if arg.annotation is not None:
                self.hint(arg.annotation)
            self.scope = inner
        inner.count += 1  # the parameter list

    def class_def(self, node: ast.ClassDef) -> None:
        outer = self.scope
        outer.record("local", node.name, node)
        qualname = self._qualname(node.name)
        bases: list[str] = []
        for base in node.bases:
            named = base.value if isinstance(base, ast.Starred) else base
            if isinstance(named, ast.Name):
                bases.append(named.id)
        self.class_bases[qualname] = bases
        self.frames.append(qualname)
        for decorator in node.decorator_list:
            self.expr(decorator)
        for base in node.bases:
            self.expr(base)
        for keyword in node.keywords:
            self.expr(keyword.value)
        self.scope = self.new_scope("class", outer, node.name)
        self.body(node.body)
        self.scope = outer
        self.frames.pop()
        outer.count += 1

    def import_(self, node: ast.Import | ast.ImportFrom) -> None:
        dotted = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        if any(self.spec.is_facade_method(part) for name in dotted for part in name.split(".")[1:]):
            raise Refused("a facade method in an import's dotted name (an Attribute to LibCST)")
        for alias in node.names:
            if alias.name == "*":
                raise Refused("star import")
            if alias.asname:
                self.scope.record("import", alias.asname, node)
            else:
                parts = alias.name.split(".")
                if len(parts) > 1:
                    self.dotted_imports = True
                for end in range(len(parts), 0, -1):
                    self.scope.record("import", ".".join(parts[:end]), node)
        self.scope.count += 1

    def assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.record_target(target, node.value)
            self.target(target)
        self.expr(node.value)
        self.scope.count += 1

    def ann_assign(self, node: ast.AnnAssign) -> None:
        self.record_target(node.target, node.value, node.annotation)
        self.target(node.target)
        self.hint(node.annotation)
        if node.value is not None:
            self.expr(node.value)
        self.scope.count += 1

    def record_target(self, target: ast.expr, value: ast.expr | None, annotation: ast.expr | None = None) -> None:
        """``FacadeCallCollector._record_target``."""
        if isinstance(target, ast.Name):
            if value is not None:
                self.assigned[target] = value
            if annotation is not None:
                self.annotated[target] = annotation
                top = self.frames[-1] if self.frames else None
                if isinstance(top, str):
                    self.class_annotations.setdefault(top, {})[target.id] = annotation
            return
        if isinstance(target, ast.Attribute):
            self.stores.add(target)
            function = self.function_frame
            owner = target.value
            if (
                function is not None
                and function.class_name
                and function.self_name
                and isinstance(owner, ast.Name)
                and owner.id == function.self_name
            ):
                attrs = self.class_attributes.setdefault(function.class_name, {})
                if value is not None:
                    attrs.setdefault(target.attr, []).append((value, self.scope))
                if annotation is not None:
                    self.class_annotations.setdefault(function.class_name, {})[target.attr] = annotation

    def target(self, node: ast.expr) -> None:
        """An assignment target: names bind, everything inside attributes and subscripts is read."""
        kind = type(node)
        if kind is ast.Name:
            self.scope_of[node] = self.scope
            self.scope.record("local", node.id, node)  # type: ignore[attr-defined]
        elif kind is ast.Tuple or kind is ast.List:
            self.scope_of[node] = self.scope
            for element in node.elts:  # type: ignore[attr-defined]
                self.target(element)
        elif kind is ast.Starred:
            self.scope_of[node] = self.scope
            self.target(node.value)  # type: ignore[attr-defined]
        else:
            self.expr(node)

    # --- expressions ---
    def expr(self, node: ast.expr) -> None:
        kind = type(node)
        scope = self.scope
        if kind is ast.Name:
            self.scope_of[node] = scope
            if type(node.ctx) is not ast.Store:  # type: ignore[attr-defined]
                self.accesses[node] = (scope, scope.count, self.attribute_stack[-1])
            else:
                scope.record("local", node.id, node)  # type: ignore[attr-defined]
            return
        if kind in _SIMPLE_CHILDREN:  # no scope, no binding, nothing the resolver asks about
            for field in _SIMPLE_CHILDREN[kind]:
                child = getattr(node, field)
                if child is None:
                    continue
                if type(child) is list:
                    for element in child:
                        self.expr(element)
                else:
                    self.expr(child)
            return
        # Only these kinds are ever asked their scope (a name, a call's callee, an annotation): for
        # any other the resolver's answer is the same with no scope (LibCST names nothing there).
        self.scope_of[node] = scope
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if (self.annotation_depth or self.type_hint) and isinstance(value, str) and _BINDING_TEXT.search(value):
                raise Refused("a string LibCST may parse as code in a type hint")
            return
        if kind is ast.Subscript:
            outer_hint = self.type_hint
            self.type_hint = isinstance(node.value, ast.Name)  # type: ignore[attr-defined]
            self.expr(node.value)  # type: ignore[attr-defined]
            self.expr(node.slice)  # type: ignore[attr-defined]
            self.type_hint = outer_hint
            return
        if kind is ast.Attribute:
            self.attribute(node)  # type: ignore[arg-type]
            return
        if kind is ast.Call:
            self.call(node)  # type: ignore[arg-type]
            return
        if kind is ast.Await:
            self.awaited.add(node.value)  # type: ignore[attr-defined]
            self.expr(node.value)  # type: ignore[attr-defined]
            return
        if kind is ast.Lambda:
            self.lambda_(node)  # type: ignore[arg-type]
            return
        if kind in _COMPREHENSIONS:
            self.comprehension(node)  # type: ignore[arg-type]
            return
        if kind is ast.NamedExpr:
            target = node.target  # type: ignore[attr-defined]
            self.record_target(target, node.value)  # type: ignore[attr-defined]
            self.target(target)
            self.expr(node.value)  # type: ignore[attr-defined]
            scope.count += 1
            return
        if kind is ast.IfExp:
            self.expr(node.body)  # type: ignore[attr-defined]
            self.expr(node.test)  # type: ignore[attr-defined]
            self.expr(node.orelse)  # type: ignore[attr-defined]
            return
        if kind is ast.Dict:
            for key, value in zip(node.keys, node.values, strict=True):  # type: ignore[attr-defined]
                if key is not None:
                    self.expr(key)
                self.expr(value)
            return
        if kind is ast.JoinedStr:
            self.in_fstring += 1
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)
            self.in_fstring -= 1
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)

    def attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr in MOCK_ATTRIBUTES and isinstance(node.value, ast.Attribute | ast.Call):
            self.mock_config.add(node.value)
        if self.spec.is_facade_method(attr):
            self.access(node, node.value, attr)
        stack = self.attribute_stack
        top = stack[-1] is None
        if top:
            stack[-1] = node
        self.expr(node.value)
        if top:
            stack[-1] = None

    def call(self, node: ast.Call) -> None:
        func = node.func
        self.call_funcs.add(func)
        if self.summary_calls is not None:
            func_kind = type(func)
            if func_kind is ast.Name:
                self.summary_calls[0].add(func.id)  # type: ignore[attr-defined]
            elif func_kind is ast.Attribute and not is_facade_receiver(func.value, self.spec.receiver_names):  # type: ignore[attr-defined]
                self.summary_calls[1].add(func.attr)  # type: ignore[attr-defined]
        if isinstance(func, ast.Attribute | ast.Call) and node in self.awaited:
            self.awaited.add(func)
        callee = _callee_name(func)
        # Arguments in source order: positional ones come first unless keywords are among them.
        arguments = _ordered_arguments(node) if node.keywords or callee in _READS_ARGUMENTS else None
        hop = THREAD_HOPS.get(callee or "")
        if hop is not None and arguments is not None and len(arguments) > hop:
            if not any(keyword for keyword, _ in arguments[: hop + 1]):
                handed = arguments[hop][1]
                if isinstance(handed, ast.Call) and _callee_name(handed.func) == "partial":
                    inner = _ordered_arguments(handed)
                    if inner and not inner[0][0]:
                        handed = inner[0][1]
                if isinstance(handed, ast.Attribute):
                    self.hops[handed] = callee or ""
        if arguments is not None and isinstance(func, ast.Name) and func.id == "getattr" and len(arguments) >= 2:
            if not any(keyword for keyword, _ in arguments[:2]):
                name = arguments[1][1]
                if (
                    isinstance(name, ast.Constant)
                    and isinstance(name.value, str)
                    and self.spec.is_facade_method(name.value)
                ):
                    self.access(node, arguments[0][1], name.value, literal=name)
        self.attribute_stack.append(None)
        outer_hint = self.type_hint
        self.type_hint = False
        self.expr(func)
        self.type_hint = callee in _TYPE_HINT_CALLS
        if arguments is None:
            for argument in node.args:
                self.expr(argument)  # a starred argument: its value (``Starred`` is visited through)
        else:
            for _, value in arguments:
                self.expr(value)
        self.type_hint = outer_hint
        self.attribute_stack.pop()

    def lambda_(self, node: ast.Lambda) -> None:
        self.lambda_depth += 1
        outer = self.scope
        inner = self.scope = self.new_scope("function", outer, None)
        self.parameters(node.args, inner)
        self.expr(node.body)
        self.scope = outer
        self.lambda_depth -= 1

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        first, *rest = node.generators
        self.expr(first.iter)
        outer = self.scope
        inner = self.scope = self.new_scope("comprehension", outer)
        self.target(first.target)
        inner.count += 1
        for condition in first.ifs:
            self.expr(condition)
        for generator in rest:
            self.target(generator.target)
            self.expr(generator.iter)
            for condition in generator.ifs:
                self.expr(condition)
        inner.count += len(rest)
        if isinstance(node, ast.DictComp):
            self.expr(node.key)
            self.expr(node.value)
        else:
            self.expr(node.elt)
        self.scope = outer

    def access(
        self, node: ast.Attribute | ast.Call, receiver: ast.expr, method: str, literal: ast.Constant | None = None
    ) -> None:
        """``FacadeCallCollector._access``."""
        if literal is not None and not _is_single_string(literal, self):
            return  # ``getattr(x, "fe" "tch")``: LibCST sees a concatenated string, no method name
        if node in self.stores or node in self.mock_config:
            return
        is_call = node in self.call_funcs
        wrapper = self.hops.get(node)
        if not is_call and wrapper is None and not self.spec.methods:
            return
        self.candidates.append(
            _Candidate(
                node=node,
                receiver=receiver,
                method=method,
                is_call=is_call,
                awaited=node in self.awaited,
                function=self.function_frame,
                in_lambda=self.lambda_depth > 0,
                wrapper=wrapper,
                in_fstring=self.in_fstring > 0,
            )
        )


def _ordered_arguments(call: ast.Call) -> list[tuple[bool, ast.expr]]:
    """A call's arguments in source order, as LibCST lists them: (keyword or starred, value)."""
    positional = [(isinstance(a, ast.Starred), a.value if isinstance(a, ast.Starred) else a) for a in call.args]
    if not call.keywords:
        return positional
    items: list[tuple[tuple[int, int], bool, ast.expr]] = [
        ((a.lineno, a.col_offset), isinstance(a, ast.Starred), a.value if isinstance(a, ast.Starred) else a)
        for a in call.args
    ]
    items += [((k.lineno, k.col_offset), True, k.value) for k in call.keywords]
    items.sort(key=lambda item: item[0])
    return [(flag, value) for _, flag, value in items]


def _callee_name(func: ast.expr) -> str | None:
    """``asyncio.to_thread`` and ``to_thread`` both name ``to_thread`` (the resolver's ``_last``, too)."""
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _is_single_string(node: ast.Constant, walker: _Walker) -> bool:
    """Is the constant one string literal (LibCST's ``SimpleString``), not an implicit concatenation?"""
    text = walker.source_text(node)
    if text is None:
        raise Refused("a string literal whose text cannot be read back")
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.STRING]
    except (tokenize.TokenError, SyntaxError):
        raise Refused("a string literal that does not tokenize") from None
    return len(tokens) == 1


# --- the source text, positions as LibCST counts them -------------------------------------------------


class _Source:
    """The module's text as UTF-8 (what ``ast`` offsets count), with each line's start."""

    def __init__(self, data: bytes, encoding: str) -> None:
        if data.startswith(_BOM):
            data = data[len(_BOM) :]
        if encoding not in ("utf-8", "utf-8-sig"):
            data = data.decode(encoding).encode("utf-8")
        self.data = data
        # where each line starts: after each \r\n, \r or \n, the line breaks ``bytes.splitlines``
        # knows (a last line with no break adds an entry past the end, for no line)
        self.starts = [0, *accumulate(map(len, data.splitlines(keepends=True)))]

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column

    def column(self, line: int, column: int) -> int:
        """Characters before ``column`` (a UTF-8 byte offset) on ``line``."""
        start = self.starts[line - 1]
        prefix = self.data[start : start + column]
        return column if prefix.isascii() else len(prefix.decode("utf-8", "replace"))

    def text(self, node: ast.AST) -> str | None:
        end_line, end_column = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if end_line is None or end_column is None:
            return None
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(end_line, end_column)
        try:
            return self.data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            return None


_GAP = re.compile(rb"(?:[ \t\f]|\\\r?\n|\\\r|\r\n|\r|\n|#[^\r\n]*)*")


def _closing_parentheses(data: bytes, position: int, stop: bytes) -> tuple[int, int]:
    """The ``)`` between an expression's end (``position``) and the ``stop`` byte after it, blanks and
    comments aside: (how many, the offset just past the last one, or ``position`` if none)."""
    count, end = 0, position
    while True:
        gap = _GAP.match(data, position)
        position = gap.end() if gap else position
        char = data[position : position + 1]
        if char == b")":
            count += 1
            position += 1
            end = position
        elif char == stop:
            return count, end
        else:
            raise Refused(f"cannot find {stop.decode()!r} after a receiver")


def _receiver_text(source: _Source, candidate: _Candidate) -> str:
    """``code_for_node(receiver)`` as LibCST writes it: the receiver with its own parentheses."""
    receiver = candidate.receiver
    end = source.offset(receiver.end_lineno or receiver.lineno, receiver.end_col_offset or 0)
    start = source.offset(receiver.lineno, receiver.col_offset)
    data = source.data
    if isinstance(candidate.node, ast.Attribute):
        # From the attribute's start (which includes the receiver's parentheses) to the last ``)``
        # before the dot; anything but parentheses and blanks between them is refused.
        attribute_start = source.offset(candidate.node.lineno, candidate.node.col_offset)
        closings, closing = _closing_parentheses(data, end, b".")
        opening = data[attribute_start:start]
        if opening.count(b"(") != closings or opening.strip(b"( \t\f\r\n\\"):
            raise Refused("a receiver whose parentheses cannot be matched")
        start, end = attribute_start, closing
    else:
        # getattr's first argument: count its own parentheses from the comma after it.
        closings, end = _closing_parentheses(data, end, b",")
        while closings:
            gap_end = start
            while gap_end > 0 and data[gap_end - 1 : gap_end] in (b" ", b"\t", b"\f", b"\n", b"\r"):
                gap_end -= 1
            if data[gap_end - 1 : gap_end] != b"(":
                raise Refused("a receiver whose parentheses cannot be matched")
            start = gap_end - 1
            closings -= 1
    text = data[start:end]
    if b"\n" in text or b"\r" in text or b"#" in text:
        # LibCST writes a detached node's continuation lines without its block's indentation
        raise Refused("a receiver over several lines")
    return text.decode("utf-8")


# --- the resolver ---------------------------------------------------------------------------------------


class _Resolver:
    """``FacadeResolver`` over the walk's scope model."""

    def __init__(self, walker: _Walker, spec: FacadeSpec, module: Callable[[], tuple[str, bool]]) -> None:
        self.walker = walker
        self.spec = spec
        self.module = module
        self._package: str | None = None
        self._access_nodes: dict[ast.AST, tuple[_Access, str]] | None = None

    def absolute(self, name: str) -> str:
        if not name.startswith("."):
            return name
        if self._package is None:
            module_name, is_package = self.module()
            self._package = module_name if is_package else module_name.rpartition(".")[0]
        return absolute_name(self._package, name)

    def package(self) -> str:
        self.absolute(".")
        return self._package or ""

    # --- qualified names ---
    def access_nodes(self) -> dict[ast.AST, tuple[_Access, str]]:
        """Accesses LibCST attaches to an attribute: ``a.b`` after ``import a.b``."""
        if self._access_nodes is None:
            self._access_nodes = {}
            if self.walker.dotted_imports:
                for name_node, access in self.walker.accesses.items():
                    scope, _, enclosing = access
                    if enclosing is None:
                        continue
                    for dotted, node in _dotted_names(enclosing):
                        if scope.contains(dotted):
                            if not isinstance(node, ast.Name):
                                self._access_nodes[node] = (access, dotted)
                                self._access_nodes[name_node] = (access, "")  # moved off the name
                            break
        return self._access_nodes

    def referents(self, access: _Access, name: str) -> list[_Binding]:
        """``Access.record_assignments``."""
        scope, index, _ = access
        bindings = scope.lookup(name)
        previous = [b for b in bindings if b.scope is not scope or b.index < index]
        if not previous and bindings and scope.parent is not scope:
            previous = scope.parent.lookup(name, scope)
        return previous

    def qualified_names(self, node: ast.AST) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            raise Refused("a string where LibCST may resolve a string annotation's names")
        scope = self.walker.scope_of.get(node)
        if scope is None:
            return set()
        found: tuple[_Access, str] | None = None
        moved = self.access_nodes().get(node)
        if moved is not None:
            found = moved if moved[1] else None
        elif isinstance(node, ast.Name) and node in self.walker.accesses:
            found = (self.walker.accesses[node], node.id)
        if found is not None:
            access, name = found
            return {
                self.absolute(q)
                for binding in self.referents(access, name)
                for q in binding.qualified_names(binding.name, self.package)
            }
        return {self.absolute(q) for q in self.scope_qualified_names(scope, node)}

    def scope_qualified_names(self, scope: _Scope, node: ast.AST | str) -> set[str]:
        full_name = _full_name(node)
        if full_name is None:
            return set()
        bindings: list[_Binding] = []
        prefix: str | None = full_name
        while prefix:
            if scope.contains(prefix):
                bindings = scope.lookup(prefix)
                break
            index = prefix.rfind(".")
            prefix = None if index == -1 else prefix[:index]
        if not isinstance(node, str):
            for binding in bindings:
                if binding.kind == "local" and binding.node is node:
                    return binding.qualified_names(full_name, self.package)
        results: set[str] = set()
        for binding in bindings:
            results |= binding.qualified_names(full_name, self.package)
        return results

    def is_factory(self, node: ast.AST) -> bool:
        return bool(self.qualified_names(node) & self.spec.factories)

    def is_factory_call(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and self.is_factory(node.func)

    def is_facade_annotation(self, annotation: ast.expr, context: ast.AST) -> bool:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str | bytes):
            if not isinstance(annotation.value, str):
                return False
            if not _is_single_string(annotation, self.walker):
                return False  # LibCST's ConcatenatedString: not read
            text = annotation.value
            if not _PLAIN_ANNOTATION.fullmatch(text):
                raise Refused("a string annotation outside the plain grammar")
            try:
                parsed = ast.parse(text, mode="eval").body
            except SyntaxError:
                return False
            return self.annotation_names(parsed, context, parsed_from_string=True)
        return self.annotation_names(annotation, annotation, parsed_from_string=False)

    def annotation_names(self, annotation: ast.expr, context: ast.AST, *, parsed_from_string: bool) -> bool:
        if isinstance(annotation, ast.BinOp):  # PersistenceLayer | None (LibCST: any binary operator)
            return self.annotation_names(
                annotation.left, context, parsed_from_string=parsed_from_string
            ) or self.annotation_names(annotation.right, context, parsed_from_string=parsed_from_string)
        if isinstance(annotation, ast.Subscript):
            names = self.names_of(annotation.value, context, parsed_from_string)
            wrapper = {n.rsplit(".", 1)[-1] for n in names}
            if wrapper & {"Optional", "Annotated", "Union"}:
                elements = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
                # a string holds no parentheses (the plain grammar), so only the module's text can
                if not parsed_from_string and isinstance(annotation.slice, ast.Tuple):
                    if _parenthesized_tuple(annotation.slice, self.walker):
                        raise Refused("a parenthesized tuple as a subscript")
                for element in elements:
                    if isinstance(element, ast.Slice):
                        continue  # LibCST's Slice, not an Index: not read
                    if isinstance(element, ast.Starred):
                        raise Refused("a starred subscript element")
                    if self.annotation_names(element, context, parsed_from_string=parsed_from_string):
                        return True
                    if "Annotated" in wrapper and not parsed_from_string and self.is_depends(element):
                        return True
                    if "Annotated" in wrapper and parsed_from_string and isinstance(element, ast.Call):
                        raise Refused("a dependency call inside a string annotation")
            return False
        return bool(self.names_of(annotation, context, parsed_from_string) & self.spec.classes)

    def names_of(self, node: ast.expr, context: ast.AST, parsed_from_string: bool) -> set[str]:
        if not parsed_from_string:
            return self.qualified_names(node)
        scope = self.walker.scope_of.get(context)
        dotted = _dotted(node)
        if scope is None or dotted is None:
            return set()
        return {self.absolute(q) for q in self.scope_qualified_names(scope, dotted)}

    def is_depends(self, node: ast.expr) -> bool:
        """``Depends(get_persistence)`` for any of the plan's factories (never with the fastapi adapter off)."""
        if not isinstance(node, ast.Call) or not self.spec.depends:
            return False
        arguments = _ordered_arguments(node)
        if not arguments:
            return False
        func_names = self.qualified_names(node.func)
        if not (func_names & self.spec.depends or fastapi.is_depends_name(_callee_name(node.func))):
            return False
        return self.is_factory(arguments[0][1])

    # --- receivers ---
    def resolve(
        self, expr: ast.expr, class_name: str | None, self_name: str | None, depth: int = 0
    ) -> Resolution | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Call):
            return Resolution.FACTORY_CALL if self.is_factory_call(expr) else None
        if isinstance(expr, ast.BoolOp):
            # LibCST nests ``a or b or c`` to the left: the last operand is one level down, the
            # first two are as deep as there are operators.
            count = len(expr.values)
            for index, value in enumerate(expr.values):
                found = self.resolve(value, class_name, self_name, depth + count - max(index, 1))
                if found is not None:
                    return found
            return None
        if isinstance(expr, ast.IfExp):
            return self.resolve(expr.body, class_name, self_name, depth + 1) or self.resolve(
                expr.orelse, class_name, self_name, depth + 1
            )
        if isinstance(expr, ast.Name):
            return self.resolve_name(expr, class_name, self_name, depth)
        if isinstance(expr, ast.Attribute):
            return self.resolve_attribute(expr, class_name, self_name, depth)
        return None

    def resolve_name(
        self, expr: ast.Name, class_name: str | None, self_name: str | None, depth: int
    ) -> Resolution | None:
        scope = self.walker.scope_of.get(expr)
        if scope is not None:
            bindings = scope.lookup(expr.id)
            found = [
                resolution
                for binding in bindings
                if (resolution := self.resolve_binding(binding, class_name, self_name, depth)) is not None
            ]
            if found:
                return min(found, key=_STRENGTH.index)
            if any(self.binds_something_else(binding) for binding in bindings):
                return None
        if expr.id in self.spec.receiver_names:
            return Resolution.RECEIVER_NAME
        return None

    def binds_something_else(self, binding: _Binding) -> bool:
        if binding.kind != "local":
            return False  # an import (LibCST reads neither an annotation nor a value for it), a builtin
        node = binding.node
        if isinstance(node, ast.arg):
            annotation, default = self.walker.param_info[node]
            return annotation is not None or isinstance(default, ast.Call)
        if node is None:
            return False
        if node in self.walker.annotated:
            return True
        value = self.walker.assigned.get(node)
        return value is not None and _is_other_object(value)

    def resolve_binding(
        self, binding: _Binding, class_name: str | None, self_name: str | None, depth: int
    ) -> Resolution | None:
        if binding.kind != "local":
            return None
        node = binding.node
        assert node is not None
        if isinstance(node, ast.arg):
            annotation, default = self.walker.param_info[node]
            if annotation is not None and self.is_facade_annotation(annotation, node):
                return Resolution.ANNOTATION
            if default is not None and self.is_depends(default):
                return Resolution.DEPENDS
            return None
        annotation = self.walker.annotated.get(node)
        if annotation is not None and self.is_facade_annotation(annotation, node):
            return Resolution.ANNOTATION
        value = self.walker.assigned.get(node)
        if value is None:
            return None
        if self.is_factory_call(value):
            return Resolution.FACTORY_ASSIGNMENT
        found = self.resolve(value, class_name, self_name, depth + 1)
        if found is Resolution.FACTORY_CALL:
            return Resolution.FACTORY_ASSIGNMENT
        return found

    def resolve_attribute(
        self, expr: ast.Attribute, class_name: str | None, self_name: str | None, depth: int
    ) -> Resolution | None:
        attr = expr.attr
        owner = expr.value
        if self_name is not None and class_name is not None and isinstance(owner, ast.Name) and owner.id == self_name:
            found = self.resolve_class_attribute(class_name, attr, depth)
            if found is not None:
                return found
            if self.class_binds_something_else(class_name, attr):
                return None
        if attr in self.spec.receiver_names:
            # request.app.state.persistence / app.state.persistence: FastAPI's application state
            state = self.spec.app_state
            if state is not None and isinstance(owner, ast.Attribute) and owner.attr == state:
                return Resolution.APP_STATE
            return Resolution.RECEIVER_NAME
        return None

    def resolve_class_attribute(self, class_name: str, attr: str, depth: int = 0) -> Resolution | None:
        seen: set[str] = set()
        pending = [class_name]
        walker = self.walker
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            annotation = walker.class_annotations.get(current, {}).get(attr)
            if annotation is not None and self.is_facade_annotation(annotation, annotation):
                return Resolution.SELF_ATTRIBUTE
            for value, _ in walker.class_attributes.get(current, {}).get(attr, []):
                if self.resolve(value, current, None, depth + 1) is not None:
                    return Resolution.SELF_ATTRIBUTE
            pending.extend(walker.class_bases.get(current, []))
        return None

    def class_binds_something_else(self, class_name: str, attr: str) -> bool:
        if attr in self.walker.class_annotations.get(class_name, {}):
            return True
        return any(
            _is_other_object(value) for value, _ in self.walker.class_attributes.get(class_name, {}).get(attr, [])
        )


def _is_other_object(value: ast.expr) -> bool:
    """``resolver._is_other_object``: a call, a literal, a lambda, a display or comprehension."""
    if isinstance(value, ast.Constant):
        # LibCST's BaseNumber and BaseString; ``None``, ``True``, ``False`` and ``...`` are names there
        return not (value.value is None or isinstance(value.value, bool) or value.value is Ellipsis)
    return isinstance(
        value,
        ast.Call
        | ast.Lambda
        | ast.JoinedStr
        | ast.List
        | ast.Tuple
        | ast.Dict
        | ast.Set
        | ast.ListComp
        | ast.DictComp
        | ast.SetComp,
    )


def _parenthesized_tuple(node: ast.Tuple, walker: _Walker) -> bool:
    text = walker.source_text(node)
    return text is None or text.startswith("(")


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


# --- the entry point ------------------------------------------------------------------------------------


def collect(
    path: str, data: bytes, tree: ast.Module, spec: FacadeSpec, encoding: str = "utf-8"
) -> tuple[CallSite, ...] | None:
    """The facade call sites of the module ``tree`` (parsed from ``data``), exactly as the
    whole-file LibCST collector finds them; None when this port refuses the module."""
    walker = _Walker(spec)
    try:
        return _collect(path, data, tree, spec, encoding, walker)
    except (Refused, RecursionError):
        return None
    finally:
        walker.release()


def collect_with_summary(
    path: str, data: bytes, tree: ast.Module, spec: FacadeSpec, encoding: str = "utf-8"
) -> tuple[tuple[CallSite, ...] | None, FileSummary]:
    """``collect``'s call sites and the module's reach summary (``reach.summarize_tree``'s), from one
    walk of ``tree``; when this port refuses the module before its walk is over, the summary comes
    from a walk of its own."""
    walker = _Walker(spec)
    module: tuple[str, bool] | None = None

    def module_of_path() -> tuple[str, bool]:
        nonlocal module
        if module is None:
            module = spec.layout.module_name(path)
        return module

    try:
        calls: tuple[CallSite, ...] | None = _collect(path, data, tree, spec, encoding, walker, module_of_path)
    except (Refused, RecursionError):
        calls = None
    finally:
        walker.release()
    if not walker.walked:
        return calls, summarize_tree(path, tree, spec)
    return calls, FileSummary(module_of_path()[0], tuple(walker.summary_functions))


def _collect(
    path: str,
    data: bytes,
    tree: ast.Module,
    spec: FacadeSpec,
    encoding: str,
    walker: _Walker | None = None,
    module_name: Callable[[], tuple[str, bool]] | None = None,
) -> tuple[CallSite, ...]:
    if (b"\t" in data or b"\f" in data) and len(set(b"".join(_INDENT.findall(data)))) > 1:
        # CPython accepts some mixes of tabs and spaces that LibCST's tokenizer refuses: let LibCST
        # say whether it can read the file (what the codemods will need).
        raise Refused("indentation mixing tabs, spaces or form feeds")
    walker = walker or _Walker(spec)  # collect and collect_with_summary give theirs, and release it
    source: _Source | None = None

    def text(node: ast.AST) -> str | None:
        nonlocal source
        if source is None:
            source = _Source(data, encoding)
        return source.text(node)

    walker.source_text = text
    walker.body(tree.body)
    walker.walked = True
    if not walker.candidates:
        return ()
    if source is None:
        source = _Source(data, encoding)
    resolver = _Resolver(walker, spec, module_name or (lambda: spec.layout.module_name(path)))
    found: list[tuple[tuple[int, int, int, int], CallSite]] = []
    for candidate in walker.candidates:
        function = candidate.function
        resolution = resolver.resolve(
            candidate.receiver,
            function.class_name if function else None,
            function.self_name if function else None,
        )
        if resolution is None:
            continue
        node = candidate.node
        if candidate.in_fstring:
            _check_position(source, node)
        line = node.lineno
        found.append(
            (
                (line, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0)),
                CallSite(
                    path=path,
                    line=line,
                    column=source.column(line, node.col_offset),
                    method=candidate.method,
                    receiver=_receiver_text(source, candidate),
                    function=function.name if function else "<module>",
                    function_is_async=bool(function and function.is_async),
                    awaited=candidate.awaited,
                    target=spec.targets.get(candidate.method),
                    resolution=resolution,
                    is_reference=not candidate.is_call and candidate.wrapper is None,
                    in_lambda=candidate.in_lambda,
                    wrapper=candidate.wrapper,
                ),
            )
        )
    found.sort(key=lambda item: item[0])  # LibCST's visitor meets them in source order, outer first
    return tuple(call for _, call in found)


def _check_position(source: _Source, node: ast.Attribute | ast.Call) -> None:
    """Inside an f-string, older CPythons misplace nodes: the text at the node's position must
    parse back to the node itself."""
    text = source.text(node)
    try:
        parsed = ast.parse(f"({text})", mode="eval").body if text is not None else None
    except SyntaxError:
        parsed = None
    if parsed is None or ast.dump(parsed) != ast.dump(node):
        raise Refused("a position inside an f-string that ast cannot vouch for")
