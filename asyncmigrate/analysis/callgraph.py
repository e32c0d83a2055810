"""The project call graph: which function calls which, precisely enough to propagate ``async def``.

Built with CPython's ``ast`` (fast, and cached per file by content hash) in two stages:

1. ``summarize_module`` turns one file into a ``ModuleSummary``: its imports, classes (bases and the
   types of their ``self.x`` attributes), functions (decorators, parameters, locals, returns) and every
   call or function reference inside them, each keyed by the position of its callee's name token — the
   same line and column LibCST reports, so a codemod can find the node again.
2. ``Project`` resolves a call's receiver chain (``self.mechanics.apply_damage``) to a function id
   (``server.game.mechanics.GameMechanicsService.apply_damage``) on demand, following imports and
   re-exports, ``self`` and its base classes, attributes typed in ``__init__``, annotations, locals,
   module variables, pytest fixtures and FastAPI ``Depends``.

Callers are found by name first (``calls_by_name``), then resolved, so asking "who calls ``attack``?" on
a million lines touches only the call sites spelled ``attack``.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import io
import os
import pickle
import time
import tokenize
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from asyncmigrate.analysis.parsing import CHILD_FIELDS, nested_too_deeply
from asyncmigrate.analysis.pool import run_on_cores
from asyncmigrate.config.modules import DEFAULT_LAYOUT, ModuleLayout, is_test_file, nested_qualname, resolve_relative
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.frameworks import ALL as ALL_FRAMEWORKS
from asyncmigrate.frameworks import Frameworks
from asyncmigrate.workspace.cache import (
    READ_ERRORS,
    CacheFile,
    PackFile,
    Signature,
    dumps,
    file_digest,
    file_signature,
    format_version,
    one_file_of_trees,
    settled,
)

# Where a call sits, as far as turning its callee async is concerned.
PLAIN = "plain"  # a call in an expression: gains ``await``
WITH = "with"  # ``with f() as x``: becomes ``async with``
FOR = "for"  # ``for x in f()``: becomes ``async for``
COMP_FOR = "comp_for"  # ``[... for x in f()]``: becomes ``async for`` inside the comprehension
GENEXP = "genexp"  # inside a generator expression: an ``await`` there would change its type
ARGUMENT = "argument"  # ``g(f())``: the coroutine object is handed to g (asyncio.run, create_task, list, …)
GETATTR = "<getattr>"  # first link of the chain of ``getattr(obj, "name")(...)``: ("<getattr>", "name")

# TypeEvidence kinds: what a name's value might be.
ANNOTATION = "ann"  # the chain of an annotation: ``x: EventBus``
CALL_RESULT = "call"  # the result of calling a chain: ``x = EventBus()``
ALIAS = "ref"  # the value of another chain: ``self.bus = bus``

Chain = tuple[str, ...]
TypeEvidence = tuple[str, Chain]


@dataclass(frozen=True)
class CallRef:
    """One call (or reference) inside a function, keyed by its callee's name token."""

    line: int
    col: int
    chain: Chain  # ("self", "mechanics", "apply_damage"); ("f",)
    is_call: bool  # False: the function is used as a value (callback, Thread target, …)
    awaited: bool
    context: str  # PLAIN | WITH | FOR | COMP_FOR | GENEXP | ARGUMENT (for calls)
    in_lambda: bool = False
    lambda_arg_of: Chain | None = None  # the lambda is an argument to this call
    arg_of: Chain | None = None  # the call/reference is an argument of this call
    arg_keyword: str | None = None
    returned: bool = False  # a reference in a ``return`` statement
    withs: tuple[Chain, ...] = ()  # chains of the ``with`` items enclosing the call in its function
    main_guard: bool = False  # module level, under ``if __name__ == "__main__":``
    receiver_call: Chain | None = None  # ``Cls().m()``: the chain whose call result is the receiver
    # in a generator expression consumed at once by the call around it (``sum(f(x) for x in xs)``):
    # that call's callee ("sum", "str.join") and its name token, where the expression can become a list
    genexp_consumer: tuple[str, int, int] | None = None


@dataclass(frozen=True)
class FunctionSummary:
    id: str  # module + qualname: "pkg.mod.Class.method", "pkg.mod.f.<locals>.g"
    module: str
    qualname: str
    name: str
    path: str
    line: int  # the ``def`` keyword's line
    name_line: int  # the name token, as LibCST reports it
    name_col: int
    is_async: bool
    class_id: str | None
    parent_id: str | None  # the enclosing function, for nested defs
    decorators: tuple[Chain, ...]
    is_generator: bool
    params: tuple[str, ...]
    param_types: dict[str, tuple[TypeEvidence, ...]]
    local_types: dict[str, tuple[TypeEvidence, ...]]
    local_defs: dict[str, str]  # name -> function id of a nested def
    returns: tuple[TypeEvidence, ...]
    calls: tuple[CallRef, ...]
    # ``with lock:`` items that are plain names: (chain, line, col of the chain's last name)
    with_items: tuple[tuple[Chain, int, int], ...] = ()
    returned_values: tuple[TypeEvidence, ...] = ()  # what ``return`` statements return, annotation aside
    decorator_lines: tuple[int, ...] = ()  # the line of each decorator in ``decorators``

    @property
    def is_method(self) -> bool:
        return self.class_id is not None

    def decorator_names(self) -> set[str]:
        return {".".join(d) for d in self.decorators}


@dataclass(frozen=True)
class ClassSummary:
    id: str
    module: str
    name: str
    path: str
    line: int
    bases: tuple[Chain, ...]
    methods: dict[str, str]  # name -> function id (the last definition wins, like Python)
    attr_types: dict[str, tuple[TypeEvidence, ...]]
    # where an attribute's value is constructed: attr -> (line, col) of the constructor's name token
    attr_constructors: dict[str, tuple[int, int, Chain]]


@dataclass(frozen=True)
class ModuleSummary:
    module: str
    path: str
    is_package: bool
    imports: dict[str, str]  # local name -> absolute dotted name
    functions: dict[str, FunctionSummary]  # by id
    classes: dict[str, ClassSummary]  # by id
    globals: dict[str, tuple[TypeEvidence, ...]]  # module variables
    global_constructors: dict[str, tuple[int, int, Chain]]
    top_level: dict[str, str]  # name -> function or class id defined at module level
    module_calls: tuple[CallRef, ...]  # calls made at module level
    calls_by_name: dict[str, tuple[tuple[str | None, int], ...]]  # last name -> (function id | None, index)
    is_test: bool


# --- per-file summary -------------------------------------------------------------------------------


def chain_of(node: ast.expr) -> Chain | None:
    """``a.b.c`` -> ("a", "b", "c"); anything that is not a plain dotted name -> None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    return None


def getattr_constant(func: ast.expr) -> str | None:
    """``getattr(obj, "name")`` (as the callee of a call) -> "name"; anything else -> None."""
    if not (isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "getattr"):
        return None
    if len(func.args) < 2 or not isinstance(func.args[1], ast.Constant) or not isinstance(func.args[1].value, str):
        return None
    return func.args[1].value


def annotation_chains(node: ast.expr | None) -> tuple[Chain, ...]:
    """The class names an annotation could denote: ``X | None``, ``Optional[X]``, ``Annotated[X, …]``, ``"X"``."""
    if node is None:
        return ()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return ()
        return annotation_chains(parsed)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return annotation_chains(node.left) + annotation_chains(node.right)
    if isinstance(node, ast.Subscript):
        head = chain_of(node.value)
        if head and head[-1] in ("Optional", "Annotated", "Union"):
            inner = node.slice
            if isinstance(inner, ast.Tuple):
                items = inner.elts[:1] if head[-1] == "Annotated" else inner.elts
                return tuple(c for item in items for c in annotation_chains(item))
            return annotation_chains(inner)
        return ()
    chain = chain_of(node)
    if chain is None or chain == ("None",):
        return ()
    return (chain,)


def _value_evidence(node: ast.expr | None) -> tuple[TypeEvidence, ...]:
    """What an assigned value tells about its type."""
    if node is None:
        return ()
    if isinstance(node, ast.Call):
        chain = chain_of(node.func)
        return ((CALL_RESULT, chain),) if chain else ()
    if isinstance(node, ast.IfExp):
        return _value_evidence(node.body) + _value_evidence(node.orelse)
    if isinstance(node, ast.BoolOp):
        return tuple(e for v in node.values for e in _value_evidence(v))
    if isinstance(node, ast.Await):
        return _value_evidence(node.value)
    chain = chain_of(node)
    return ((ALIAS, chain),) if chain else ()


def _char_col(lines: list[bytes], line: int, byte_col: int, encoding: str = "utf-8") -> int:
    """ast reports byte offsets into the UTF-8 form of the line; LibCST reports characters."""
    if line - 1 >= len(lines):
        return byte_col
    text = lines[line - 1]
    if text.isascii():
        return byte_col
    utf8 = (
        text if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else text.decode(encoding, "replace").encode()
    )
    return len(utf8[:byte_col].decode("utf-8", errors="replace"))


def _name_ending_at(text: bytes, end: int, encoding: str) -> int:
    """The character column where the identifier written in the line ``text`` up to character column
    ``end`` starts, read off the text as written (a character counts if it continues an identifier as it
    is, or once NFKC-normalized, as Python reads identifiers)."""
    line = text.decode(encoding, "replace")
    start = end
    while start > 0 and (
        ("a" + line[start - 1]).isidentifier() or ("a" + unicodedata.normalize("NFKC", line[start - 1])).isidentifier()
    ):
        start -= 1
    return start


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


@dataclass
class _FunctionBuilder:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    id: str
    qualname: str
    class_id: str | None
    parent_id: str | None
    calls: list[CallRef] = field(default_factory=list)
    local_types: dict[str, list[TypeEvidence]] = field(default_factory=dict)
    local_defs: dict[str, str] = field(default_factory=dict)
    returns: list[TypeEvidence] = field(default_factory=list)
    is_generator: bool = False
    with_items: list[tuple[Chain, int, int]] = field(default_factory=list)


class _Summarizer(ast.NodeVisitor):
    def __init__(self, module: str, path: str, is_package: bool, source: bytes, encoding: str = "utf-8") -> None:
        self.encoding = encoding
        self.module = module
        self.path = path
        self.is_package = is_package
        self.lines = source.splitlines()
        self.imports: dict[str, str] = {}
        self.functions: dict[str, FunctionSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.globals: dict[str, list[TypeEvidence]] = {}
        self.global_constructors: dict[str, tuple[int, int, Chain]] = {}
        self.top_level: dict[str, str] = {}
        self.module_calls: list[CallRef] = []
        # scope stacks
        self._scopes: list[tuple[str, str]] = []  # ("class"|"function", qualname)
        self._function_stack: list[_FunctionBuilder] = []
        self._class_stack: list[dict[str, object]] = []
        self._lambda_stack: list[Chain | None] = []
        self._with_stack: list[list[Chain]] = [[]]
        self._main_guard = 0
        self._genexp = 0
        # per enclosing generator expression: the call consuming it at once, if any
        self._genexp_consumers: list[tuple[str, int, int] | None] = []
        self._consumed: dict[int, tuple[str, int, int]] = {}
        # per-node facts gathered top-down
        self._awaited: set[int] = set()
        self._context: dict[int, str] = {}
        self._arg_of: dict[int, tuple[Chain | None, str | None]] = {}
        self._call_funcs: set[int] = set()
        self._attr_values: set[int] = set()
        self._returned: set[int] = set()  # values handed on: returned, stored, or put in a container
        self._return_values: set[int] = set()
        self._store_or_annotation: set[int] = set()

    # -- dispatch -------------------------------------------------------------------------------
    # ``ast.NodeVisitor`` makes a method name and looks it up at every node, and its ``generic_visit``
    # asks every node for every field, contexts and operators included: on a cold tree, whose every file
    # this summarizer reads, that was 40% of its time. Here a node type's visitor is looked up once, and a
    # generic visit reads only the fields that can hold a node (``CHILD_FIELDS``), in the same order.
    def visit(self, node: ast.AST) -> None:
        kind = type(node)
        try:
            method = _VISITORS[kind]
        except KeyError:
            method = _VISITORS[kind] = _visitor_for(kind)
        if method is None:
            self.generic_visit(node)
        else:
            method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        visit, node_type = self.visit, ast.AST
        for name in CHILD_FIELDS.get(type(node), ()):
            value = getattr(node, name)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        visit(item)
            elif isinstance(value, node_type):
                visit(value)

    # -- helpers --------------------------------------------------------------------------------
    def _qualname(self, name: str) -> str:
        if not self._scopes:
            return nested_qualname(None, False, name)
        kind, parent = self._scopes[-1]
        return nested_qualname(parent, kind != "class", name)

    def _pos(self, line: int, byte_col: int) -> tuple[int, int]:
        return line, _char_col(self.lines, line, byte_col, self.encoding)

    def _name_token(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> tuple[int, int]:
        line = node.lineno
        text = self.lines[line - 1] if line - 1 < len(self.lines) else b""
        keyword = b"class" if isinstance(node, ast.ClassDef) else b"def"
        start = text.find(keyword, node.col_offset)
        # The name is the token right after the keyword. ``node.name`` is NFKC-normalized (``def AĲ`` is
        # named ``AIJ``), so it is searched for only when the token is not on this line.
        name_at = -1
        if start >= 0:
            after = start + len(keyword)
            name_at = after + len(text[after:]) - len(text[after:].lstrip(b" \t\f"))
            if name_at >= len(text.rstrip(b"\r\n")) or text[name_at : name_at + 1] == b"\\":
                name_at = -1
        if name_at < 0:
            name_at = text.find(node.name.encode(), start + len(keyword) if start >= 0 else node.col_offset)
        if name_at < 0:  # the name is on a continuation line: rare enough to search forward
            for offset, following in enumerate(self.lines[line:], start=1):
                found = following.find(node.name.encode())
                if found >= 0:
                    return self._pos(line + offset, found)
            return self._pos(line, node.col_offset)
        return self._pos(line, name_at)

    def _callee_token(self, func: ast.expr) -> tuple[int, int]:
        if isinstance(func, ast.Attribute):
            end_line = func.end_lineno or func.lineno
            end_col = func.end_col_offset or 0
            text = self.lines[end_line - 1] if 0 < end_line <= len(self.lines) else b""
            if text.isascii():
                return end_line, end_col - len(func.attr)
            # ``attr`` is NFKC-normalized (``A.Aº`` reads as ``Ao``), its length not the written name's
            end = _char_col(self.lines, end_line, end_col, self.encoding)
            return end_line, _name_ending_at(text, end, self.encoding)
        return self._pos(func.lineno, func.col_offset)

    @property
    def _current(self) -> _FunctionBuilder | None:
        return self._function_stack[-1] if self._function_stack else None

    def _record(self, ref: CallRef) -> None:
        current = self._current
        if current is not None:
            current.calls.append(ref)
        else:
            self.module_calls.append(ref)

    # -- imports --------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self._bind_import(alias.asname, alias.name)
            else:
                head = alias.name.split(".")[0]
                self._bind_import(head, head)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        package = self.module if self.is_package else self.module.rpartition(".")[0]
        source = resolve_relative(package, node.level, node.module) or ""
        for alias in node.names:
            if alias.name == "*":
                continue
            self._bind_import(alias.asname or alias.name, f"{source}.{alias.name}" if source else alias.name)

    def _bind_import(self, local: str, dotted: str) -> None:
        current = self._current
        if current is None:
            self.imports[local] = dotted
        else:
            current.local_types.setdefault(local, []).append((ALIAS, ("<import>", *dotted.split("."))))

    # -- definitions ----------------------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qualname = self._qualname(node.name)
        class_id = f"{self.module}.{qualname}"
        for decorator in node.decorator_list:
            self.visit(decorator)
        for base in node.bases:
            self.visit(base)
        for keyword in node.keywords:
            self.visit(keyword.value)
        state: dict[str, object] = {
            "methods": {},
            "attr_types": {},
            "attr_constructors": {},
        }
        if not self._scopes:
            self.top_level[node.name] = class_id
        self._scopes.append(("class", qualname))
        self._class_stack.append(state)
        for statement in node.body:
            self._visit_class_statement(statement, state)
        self._class_stack.pop()
        self._scopes.pop()
        line, _ = self._name_token(node)
        self.classes[class_id] = ClassSummary(
            id=class_id,
            module=self.module,
            name=node.name,
            path=self.path,
            line=line,
            bases=tuple(c for c in (chain_of(b) for b in node.bases) if c),
            methods=dict(state["methods"]),  # type: ignore[call-overload]
            attr_types={k: tuple(v) for k, v in state["attr_types"].items()},  # type: ignore[attr-defined]
            attr_constructors=dict(state["attr_constructors"]),  # type: ignore[call-overload]
        )

    def _visit_class_statement(self, statement: ast.stmt, state: dict[str, object]) -> None:
        attr_types: dict[str, list[TypeEvidence]] = state["attr_types"]  # type: ignore[assignment]
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            for chain in annotation_chains(statement.annotation):
                attr_types.setdefault(statement.target.id, []).append((ANNOTATION, chain))
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    attr_types.setdefault(target.id, []).extend(_value_evidence(statement.value))
        self.visit(statement)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        qualname = self._qualname(node.name)
        function_id = f"{self.module}.{qualname}"
        if function_id in self.functions or any(b.id == function_id for b in self._function_stack):
            # a redefinition (a property's setter, a conditional def): both stay in the graph
            function_id = f"{function_id}@{node.lineno}"
        in_class = bool(self._scopes and self._scopes[-1][0] == "class")
        class_id = f"{self.module}.{self._scopes[-1][1]}" if in_class else None
        parent = self._current
        if parent is not None and not in_class:
            parent.local_defs[node.name] = function_id
        if not self._scopes:
            self.top_level[node.name] = function_id
        if in_class:
            methods: dict[str, str] = self._class_stack[-1]["methods"]  # type: ignore[assignment]
            methods[node.name] = function_id
        # defaults and annotations are evaluated in the enclosing scope
        args = node.args
        for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
            self.visit(default)
        builder = _FunctionBuilder(node, function_id, qualname, class_id, parent.id if parent else None)
        self._scopes.append(("function", qualname))
        self._function_stack.append(builder)
        self._with_stack.append([])
        for statement in node.body:
            self.visit(statement)
        self._with_stack.pop()
        self._function_stack.pop()
        self._scopes.pop()
        all_args = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if args.vararg:
            all_args.append(args.vararg)
        if args.kwarg:
            all_args.append(args.kwarg)
        param_types = {a.arg: tuple((ANNOTATION, c) for c in annotation_chains(a.annotation)) for a in all_args}
        name_line, name_col = self._name_token(node)
        returns = tuple((ANNOTATION, c) for c in annotation_chains(node.returns)) or tuple(builder.returns)
        self.functions[function_id] = FunctionSummary(
            id=function_id,
            module=self.module,
            qualname=qualname,
            name=node.name,
            path=self.path,
            line=node.lineno,
            name_line=name_line,
            name_col=name_col,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            class_id=class_id,
            parent_id=builder.parent_id,
            decorators=tuple(
                c for c in (chain_of(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list) if c
            ),
            decorator_lines=tuple(
                d.lineno for d in node.decorator_list if chain_of(d.func if isinstance(d, ast.Call) else d)
            ),
            is_generator=builder.is_generator,
            params=tuple(a.arg for a in all_args),
            param_types=param_types,
            local_types={k: tuple(v) for k, v in builder.local_types.items()},
            local_defs=dict(builder.local_defs),
            returns=returns,
            calls=tuple(builder.calls),
            with_items=tuple(builder.with_items),
            returned_values=tuple(builder.returns),
        )
        if in_class:
            self._collect_self_attributes(node, param_types)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _collect_self_attributes(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, param_types: dict[str, tuple[TypeEvidence, ...]]
    ) -> None:
        """``self.x = …`` / ``self.x: T = …`` in a method tell the type of the instance attribute ``x``."""
        if not node.args.args:
            return
        self_name = node.args.args[0].arg
        state = self._class_stack[-1]
        attr_types: dict[str, list[TypeEvidence]] = state["attr_types"]  # type: ignore[assignment]
        constructors: dict[str, tuple[int, int, Chain]] = state["attr_constructors"]  # type: ignore[assignment]
        for statement in ast.walk(node):
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            annotation: ast.expr | None = None
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign):
                targets, value, annotation = [statement.target], statement.value, statement.annotation
            for target in targets:
                if not (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == self_name
                ):
                    continue
                evidence = list(_value_evidence(value))
                evidence += [(ANNOTATION, c) for c in annotation_chains(annotation)]
                # ``self.bus = bus`` where ``bus: EventBus``: the parameter's annotation is the evidence
                resolved: list[TypeEvidence] = []
                for kind, chain in evidence:
                    if kind == ALIAS and len(chain) == 1 and chain[0] in param_types:
                        resolved.extend(param_types[chain[0]])
                    else:
                        resolved.append((kind, chain))
                attr_types.setdefault(target.attr, []).extend(resolved)
                if isinstance(value, ast.Call):
                    constructor = chain_of(value.func)
                    if constructor:
                        line, col = self._callee_token(value.func)
                        constructors.setdefault(target.attr, (line, col, constructor))

    # -- statements that bind names -------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        self._returned.add(id(node.value))  # a value stored away may be called later, like a returned one
        for target in node.targets:
            self._store_or_annotation.add(id(target))
            self._bind(target, _value_evidence(node.value), node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._store_or_annotation.add(id(node.annotation))
        evidence = tuple((ANNOTATION, c) for c in annotation_chains(node.annotation)) + _value_evidence(node.value)
        self._bind(node.target, evidence, node.value)
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def _bind(self, target: ast.expr, evidence: tuple[TypeEvidence, ...], value: ast.expr | None) -> None:
        if not isinstance(target, ast.Name):
            return
        current = self._current
        if current is not None:
            current.local_types.setdefault(target.id, []).extend(evidence)
        elif not self._scopes:
            self.globals.setdefault(target.id, []).extend(evidence)
            if isinstance(value, ast.Call):
                chain = chain_of(value.func)
                if chain:
                    line, col = self._callee_token(value.func)
                    self.global_constructors.setdefault(target.id, (line, col, chain))

    def visit_withitem(self, node: ast.withitem) -> None:
        if isinstance(node.context_expr, ast.Call):
            self._context[id(node.context_expr)] = WITH
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self.visit(node.optional_vars)

    def _with(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit_withitem(item)
        chains = [c for c in (chain_of(i.context_expr) for i in node.items) if c]
        current = self._current
        if current is not None and isinstance(node, ast.With):
            for item in node.items:
                chain = chain_of(item.context_expr)
                if chain is not None:
                    expr = item.context_expr
                    line, col = (
                        self._callee_token(expr)
                        if isinstance(expr, ast.Attribute)
                        else self._pos(expr.lineno, expr.col_offset)
                    )
                    current.with_items.append((chain, line, col))
        self._with_stack[-1].extend(chains)
        for statement in node.body:
            self.visit(statement)
        del self._with_stack[-1][len(self._with_stack[-1]) - len(chains) :]

    visit_With = _with
    visit_AsyncWith = _with

    def visit_For(self, node: ast.For) -> None:
        if isinstance(node.iter, ast.Call):
            self._context[id(node.iter)] = FOR
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        if isinstance(node.iter, ast.Call) and not self._genexp:
            self._context[id(node.iter)] = COMP_FOR
        self.generic_visit(node)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        # The outermost iterable is evaluated eagerly in the enclosing scope, where awaiting is fine.
        first = node.generators[0]
        self.visit(first.iter)
        self._genexp += 1
        self._genexp_consumers.append(self._consumed.get(id(node)))
        self.visit(first.target)
        for condition in first.ifs:
            self.visit(condition)
        for generator in node.generators[1:]:
            self.visit(generator)
        self.visit(node.elt)
        self._genexp_consumers.pop()
        self._genexp -= 1

    def visit_If(self, node: ast.If) -> None:
        guard = not self._scopes and _is_main_guard(node)
        self.visit(node.test)
        self._main_guard += guard
        for statement in node.body:
            self.visit(statement)
        self._main_guard -= guard
        for statement in node.orelse:
            self.visit(statement)

    def _handed_elements(self, node: ast.List | ast.Tuple | ast.Set) -> None:
        for element in node.elts:
            self._returned.add(id(element))
        self.generic_visit(node)

    visit_List = _handed_elements
    visit_Tuple = _handed_elements
    visit_Set = _handed_elements

    def visit_Dict(self, node: ast.Dict) -> None:
        for value in node.values:
            self._returned.add(id(value))
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self._returned.add(id(node.value))
            self._return_values.add(id(node.value))
            current = self._current
            if current is not None:
                current.returns.extend(_value_evidence(node.value))
        self.generic_visit(node)

    def visit_Yield(self, node: ast.Yield) -> None:
        if self._current is not None and not self._lambda_stack:
            self._current.is_generator = True
            if node.value is not None:
                self._current.returns.extend(_value_evidence(node.value))
        self.generic_visit(node)

    def visit_YieldFrom(self, node: ast.YieldFrom) -> None:
        if self._current is not None:
            self._current.is_generator = True
        self.generic_visit(node)

    def visit_Await(self, node: ast.Await) -> None:
        self._awaited.add(id(node.value))
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        outer = self._arg_of.get(id(node))
        self._lambda_stack.append(outer[0] if outer else None)
        self.generic_visit(node)
        self._lambda_stack.pop()

    # -- calls and references -------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        self._call_funcs.add(id(func))
        outer_chain = chain_of(func)
        self._note_consumer(node, outer_chain)
        for index, arg in enumerate(node.args):
            self._mark_argument(arg, outer_chain, str(index))
        for keyword in node.keywords:
            self._mark_argument(keyword.value, outer_chain, keyword.arg)
        chain = outer_chain
        receiver_call: Chain | None = None
        if chain is None and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            receiver_call = chain_of(func.value.func)
            if receiver_call is not None:
                chain = ("<call>", func.attr)
        if chain is None and (name := getattr_constant(func)) is not None:
            chain = (GETATTR, name)  # ``getattr(obj, "name")(...)``: a call no type can follow
        if chain is not None:
            line, col = self._callee_token(func)
            context = self._context.get(id(node), PLAIN)
            consumer = None
            if self._genexp and context in (PLAIN, ARGUMENT):
                context = GENEXP
                # only a single level of generator expression can become one list comprehension
                consumer = self._genexp_consumers[0] if len(self._genexp_consumers) == 1 else None
            arg_of = self._arg_of.get(id(node))
            self._record(
                CallRef(
                    line=line,
                    col=col,
                    chain=chain,
                    is_call=True,
                    awaited=id(node) in self._awaited,
                    context=context,
                    in_lambda=bool(self._lambda_stack),
                    lambda_arg_of=self._lambda_stack[-1] if self._lambda_stack else None,
                    arg_of=arg_of[0] if arg_of else None,
                    arg_keyword=arg_of[1] if arg_of else None,
                    withs=tuple(self._with_stack[-1]),
                    main_guard=bool(self._main_guard),
                    receiver_call=receiver_call,
                    genexp_consumer=consumer,
                )
            )
        if isinstance(func, ast.Attribute):
            self._attr_values.add(id(func))
        self.generic_visit(node)

    def _note_consumer(self, node: ast.Call, chain: Chain | None) -> None:
        """``sum(g for …)``, ``", ".join(g for …)``: the call consumes its generator expression at once."""
        if len(node.args) != 1 or not isinstance(node.args[0], ast.GeneratorExp):
            return
        func = node.func
        if chain is not None:
            name = ".".join(chain)
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Constant)
            and isinstance(func.value.value, str)
        ):
            name = f"str.{func.attr}"
        else:
            return
        line, col = self._callee_token(func)
        self._consumed[id(node.args[0])] = (name, line, col)

    def _mark_argument(self, arg: ast.expr, outer: Chain | None, key: str | None) -> None:
        """An argument of ``outer(...)``; so are the elements of ``*(f(x) for x in xs)`` or ``[f(), g()]``."""
        if isinstance(arg, ast.Starred):
            arg = arg.value
        self._arg_of[id(arg)] = (outer, key)
        if isinstance(arg, ast.Call):
            self._context.setdefault(id(arg), ARGUMENT)
        elif isinstance(arg, ast.GeneratorExp | ast.ListComp | ast.SetComp):
            self._arg_of[id(arg.elt)] = (outer, key)
        elif isinstance(arg, ast.List | ast.Tuple | ast.Set):
            for element in arg.elts:
                self._arg_of[id(element)] = (outer, key)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._attr_values.add(id(node.value))
        if self._is_handed_on(node):
            self._reference(node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if self._is_handed_on(node):
            self._reference(node)

    def _is_handed_on(self, node: ast.Attribute | ast.Name) -> bool:
        """A whole name chain read as a value and given to someone else (not called, not a prefix)."""
        key = id(node)
        return (
            isinstance(node.ctx, ast.Load)
            and key not in self._call_funcs
            and key not in self._attr_values
            and key not in self._store_or_annotation
            and (key in self._arg_of or key in self._returned)
        )

    def _reference(self, node: ast.Attribute | ast.Name) -> None:
        # Only values handed on (arguments, returns, stored values, container elements) can be called
        # later by someone else, so only those are recorded as references.
        chain = chain_of(node)
        if chain is None:
            return
        if isinstance(node, ast.Name):
            line, col = self._pos(node.lineno, node.col_offset)
        else:
            line, col = self._callee_token(node)
        arg_of = self._arg_of.get(id(node))
        self._record(
            CallRef(
                line=line,
                col=col,
                chain=chain,
                is_call=False,
                awaited=False,
                context=PLAIN,
                in_lambda=bool(self._lambda_stack),
                lambda_arg_of=self._lambda_stack[-1] if self._lambda_stack else None,
                arg_of=arg_of[0] if arg_of else None,
                arg_keyword=arg_of[1] if arg_of else None,
                returned=id(node) in self._return_values,
                withs=tuple(self._with_stack[-1]),
                main_guard=bool(self._main_guard),
            )
        )

    def visit_arg(self, node: ast.arg) -> None:
        if node.annotation is not None:
            self._store_or_annotation.add(id(node.annotation))

    def visit_arguments(self, node: ast.arguments) -> None:
        return  # defaults are visited in the enclosing scope by _function


# node type -> the summarizer's own ``visit_<Type>`` (None: a generic visit), filled as types are met
_VISITORS: dict[type, Callable[[_Summarizer, Any], None] | None] = {}


def _visitor_for(kind: type) -> Callable[[_Summarizer, Any], None] | None:
    """The summarizer's ``visit_<Type>`` for ``kind``; ``ast.NodeVisitor``'s own (``visit_Constant``, which
    only serves visitors of the node classes before 3.8) is not the summarizer's, and a constant holds no node."""
    name = "visit_" + kind.__name__
    method = getattr(_Summarizer, name, None)
    return None if method is None or method is getattr(ast.NodeVisitor, name, None) else method


def is_test_path(path: str) -> bool:
    """A test module or a ``conftest.py``: its functions are tests or the fixtures they run with."""
    return is_test_file(path)


class Unreadable(Exception):
    """A project file the call graph cannot read; ``line`` and ``reason`` say where and why."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"{line}: {reason}")
        self.line = line
        self.reason = reason


def parse_module(source: bytes) -> tuple[ast.Module, bytes]:
    """``ast`` of ``source`` and the text it was read from: syntax newer than this Python (3.12's
    ``type`` aliases, PEP 695 generics, PEP 701 f-strings) is read through LibCST and lowered, keeping
    the line and column of every call. Raises Unreadable."""
    try:
        return ast.parse(source), source
    except SyntaxError as exc:
        if nested_too_deeply(exc):  # not for LibCST's lowering, which would crash on it
            raise Unreadable(exc.lineno or 1, f"syntax error: {exc.msg}") from None
        error = exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise Unreadable(1, f"cannot be parsed ({type(exc).__name__})") from None
    from asyncmigrate.analysis.lowering import lower_newer_syntax

    lowered = lower_newer_syntax(source)
    if lowered is not None:
        try:
            return ast.parse(lowered), lowered
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    raise Unreadable(error.lineno or 1, f"syntax error: {error.msg}")


def summarize_module(path: str, source: bytes, layout: ModuleLayout = DEFAULT_LAYOUT) -> ModuleSummary | None:
    """One file's summary, or None when it cannot be parsed (see ``read_module`` for why)."""
    try:
        return read_module(path, source, layout)
    except Unreadable:
        return None


def read_module(path: str, source: bytes, layout: ModuleLayout = DEFAULT_LAYOUT) -> ModuleSummary:
    """One file's summary; raises Unreadable when neither ``ast`` nor LibCST can parse it."""
    tree, source = parse_module(source)
    return summarize_tree(path, tree, source, layout)


def summary_or_reason(
    path: str, source: bytes, layout: ModuleLayout, parsed: ast.Module | Exception | None = None
) -> ModuleSummary | str:
    """One file's summary, or why no parser could read it (``Unreadable``'s message). ``parsed``: what
    ``ast.parse(source)`` gave another reader of the file moments ago (the scan's parse, made once for
    both), reused when it is a tree; anything else is read here as ``read_module`` reads it."""
    try:
        with one_file_of_trees():
            if isinstance(parsed, ast.Module):
                return summarize_tree(path, parsed, source, layout)
            return read_module(path, source, layout)
    except Unreadable as exc:
        return str(exc)


def summarize_tree(path: str, tree: ast.Module, source: bytes, layout: ModuleLayout) -> ModuleSummary:
    """The summary of a module whose ``ast`` is ``tree``, parsed from ``source``."""
    module, is_package = layout.module_name(path)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError:
        encoding = "utf-8"
    summarizer = _Summarizer(module, path, is_package, source, encoding)
    for statement in tree.body:
        summarizer.visit(statement)
    by_name: dict[str, list[tuple[str | None, int]]] = {}
    for function in summarizer.functions.values():
        for index, call in enumerate(function.calls):
            by_name.setdefault(call.chain[-1], []).append((function.id, index))
    for index, call in enumerate(summarizer.module_calls):
        by_name.setdefault(call.chain[-1], []).append((None, index))
    return ModuleSummary(
        module=module,
        path=path,
        is_package=is_package,
        imports=summarizer.imports,
        functions=summarizer.functions,
        classes=summarizer.classes,
        globals={k: tuple(v) for k, v in summarizer.globals.items()},
        global_constructors=summarizer.global_constructors,
        top_level=summarizer.top_level,
        module_calls=tuple(summarizer.module_calls),
        calls_by_name={k: tuple(v) for k, v in by_name.items()},
        is_test=is_test_path(path),
    )


# --- resolved types ---------------------------------------------------------------------------------

# A resolved value: ("instance", class id), ("class", class id), ("function", function id),
# ("module", dotted), ("external", dotted) for a name outside the project, or ("external_instance", dotted).
Value = tuple[str, str]


@dataclass(frozen=True)
class Resolved:
    """What a call's callee turned out to be."""

    function: FunctionSummary | None  # the project function called (a constructor call -> __init__)
    external: str | None = None  # a dotted name outside the project (``threading.Lock``)
    constructs: str | None = None  # the class id when the call constructs an instance


# A call or reference with where it sits (its module, its enclosing function) and what it resolves to.
ResolvedCall = tuple[ModuleSummary, FunctionSummary | None, CallRef, Resolved | None]


@dataclass(frozen=True)
class ModuleIndex:
    """What the project needs to know about a module before loading its summary: cheap to unpickle."""

    path: str
    module: str
    is_test: bool
    call_names: frozenset[str]  # last names of every call and reference in it
    aliases: tuple[tuple[str, str], ...]  # (original name, local alias) of aliased imports
    base_names: frozenset[str]  # last names of its classes' bases
    with_names: frozenset[str]  # last names of its plain ``with`` items
    imported: frozenset[str]  # absolute dotted names it imports
    method_names: frozenset[str] = frozenset()  # names of the methods its classes define
    decorator_names: frozenset[str] = frozenset()  # last names of its functions' decorators

    @classmethod
    def of(cls, summary: ModuleSummary) -> ModuleIndex:
        return cls(
            path=summary.path,
            module=summary.module,
            is_test=summary.is_test,
            call_names=frozenset(summary.calls_by_name),
            aliases=tuple(
                (dotted.rsplit(".", 1)[-1], local)
                for local, dotted in summary.imports.items()
                if dotted.rsplit(".", 1)[-1] != local
            ),
            base_names=frozenset(base[-1] for c in summary.classes.values() for base in c.bases),
            with_names=frozenset(chain[-1] for f in summary.functions.values() for chain, _, _ in f.with_items),
            imported=frozenset(summary.imports.values()),
            method_names=frozenset(name for c in summary.classes.values() for name in c.methods),
            decorator_names=frozenset(d[-1] for f in summary.functions.values() for d in f.decorators),
        )


class _LazyModules(Mapping[str, ModuleSummary]):
    """Module summaries by path, each obtained on first use: a million-line project loads only what it reads.

    ``loaded`` holds the summaries already at hand (a pickled one is unpickled when first asked for);
    any other path of ``paths`` is asked of ``load``."""

    def __init__(
        self,
        loaded: Mapping[str, bytes | ModuleSummary],
        paths: Iterable[str] | None = None,
        load: Callable[[str], ModuleSummary] | None = None,
    ) -> None:
        self._loaded: dict[str, bytes | ModuleSummary] = dict(loaded)
        self._paths: dict[str, None] = dict.fromkeys(self._loaded if paths is None else paths)
        self._load = load

    def __getitem__(self, path: str) -> ModuleSummary:
        value = self._loaded.get(path)
        if value is None:
            if path not in self._paths or self._load is None:
                raise KeyError(path)
            value = self._loaded[path] = self._load(path)
        elif isinstance(value, bytes):
            value = self._loaded[path] = cast(ModuleSummary, pickle.loads(value))
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._paths


class _LazyIndex(Mapping[str, ModuleIndex]):
    """``ModuleIndex`` by path, for a project whose paths and module names are known before any index:
    ``known`` are at hand, the others come from ``stored`` (read once, on first use: path -> (digest,
    index)) when recorded there for the file's digest, else from the module's summary."""

    def __init__(
        self,
        digests: Mapping[str, bytes],
        paths: Iterable[str],
        known: dict[str, ModuleIndex],
        stored: Callable[[], Mapping[str, tuple[bytes, ModuleIndex]]],
        summary: Callable[[str], ModuleSummary],
    ) -> None:
        self._digests = digests
        self._paths = dict.fromkeys(paths)
        self._known = known
        self._stored = stored
        self._summary = summary

    def __getitem__(self, path: str) -> ModuleIndex:
        found = self._known.get(path)
        if found is None:
            if path not in self._paths:
                raise KeyError(path)
            recorded = self._stored().get(path)
            if recorded is not None and recorded[0] == self._digests.get(path):
                found = recorded[1]
            else:
                found = ModuleIndex.of(self._summary(path))
            self._known[path] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._paths


class _ByModuleName(Mapping[str, ModuleSummary]):
    def __init__(self, modules: Mapping[str, ModuleSummary], paths: dict[str, str]) -> None:
        self._modules = modules
        self._paths = paths  # module name -> path

    def __getitem__(self, name: str) -> ModuleSummary:
        return self._modules[self._paths[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, name: object) -> bool:
        return name in self._paths


class _Members(Mapping[str, "FunctionSummary | ClassSummary"]):
    """Functions (or classes) by id, found through the module whose name is the id's longest prefix."""

    def __init__(self, by_module: _ByModuleName, kind: str) -> None:
        self._by_module = by_module
        self._kind = kind
        # A project does not change once built, and resolution asks for the same ids again and again
        # (a warm ``check`` looks members up millions of times): remember each answer.
        self._found: dict[str, FunctionSummary | ClassSummary | None] = {}

    def _table(self, module: ModuleSummary) -> dict[str, FunctionSummary] | dict[str, ClassSummary]:
        return module.functions if self._kind == "functions" else module.classes

    def _find(self, member_id: str) -> FunctionSummary | ClassSummary | None:
        try:
            return self._found[member_id]
        except KeyError:
            found = self._found[member_id] = self._search(member_id)
            return found

    def _search(self, member_id: str) -> FunctionSummary | ClassSummary | None:
        parts = member_id.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            name = ".".join(parts[:cut])
            if name in self._by_module:
                found = self._table(self._by_module[name]).get(member_id)
                if found is not None:
                    return found
        return None

    def __getitem__(self, member_id: str) -> FunctionSummary | ClassSummary:
        found = self._find(member_id)
        if found is None:
            raise KeyError(member_id)
        return found

    def __contains__(self, member_id: object) -> bool:
        return isinstance(member_id, str) and self._find(member_id) is not None

    def __iter__(self) -> Iterator[str]:  # loads every module: for whole-project questions only
        for name in self._by_module:
            yield from self._table(self._by_module[name])

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Project:
    """All module summaries of a code base, and resolution over them.

    Summaries load lazily (``modules``, ``functions``, ``classes`` and ``by_module`` are mappings that
    unpickle a module on first use); the ``ModuleIndex`` of every module answers "which modules could
    be involved" first, so a question about one function reads a handful of modules, not the project.
    """

    def __init__(
        self,
        root: Path,
        modules: Mapping[str, ModuleSummary] | Mapping[str, bytes | ModuleSummary],
        index: Mapping[str, ModuleIndex] | None = None,
        frameworks: Frameworks = ALL_FRAMEWORKS,
        *,
        module_names: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        # pytest's fixture decorators when its adapter is on: a fixture's value is what its tests receive
        self.fixture_decorators = frameworks.fixture_decorators
        self.unreadable: dict[str, str] = {}  # path -> "line: reason", for files no parser could read
        self.digests: dict[str, bytes] = {}  # path -> content digest, of every file read (build_project)
        lazy = modules if isinstance(modules, _LazyModules) else _LazyModules(modules)
        if index is None:
            index = {path: ModuleIndex.of(s) for path, s in modules.items() if not isinstance(s, bytes)}
        self.index: Mapping[str, ModuleIndex] = index
        # path -> module name, of every module: known without reading any index or summary (build_project)
        self.module_names: Mapping[str, str] = (
            module_names if module_names is not None else {path: entry.module for path, entry in index.items()}
        )
        self.modules: Mapping[str, ModuleSummary] = lazy
        by_module = _ByModuleName(lazy, {module: path for path, module in self.module_names.items()})
        self.by_module: Mapping[str, ModuleSummary] = by_module
        self.functions = cast(Mapping[str, FunctionSummary], _Members(by_module, "functions"))
        self.classes = cast(Mapping[str, ClassSummary], _Members(by_module, "classes"))
        self._name_tables: tuple[dict[str, list[str]], dict[str, set[str]]] | None = None
        self._resolved_by_name: dict[str, list[ResolvedCall]] = {}  # see ``resolved_calls_named``

    def _tables(self) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
        # Built on the first question about callers, not with the project: it reads every module's
        # index, which a command answered from a cached result never needs.
        if self._name_tables is None:
            names: dict[str, list[str]] = {}
            aliases: dict[str, set[str]] = {}
            for path, entry in self.index.items():
                for name in entry.call_names:
                    names.setdefault(name, []).append(path)
                for original, local in entry.aliases:
                    aliases.setdefault(original, set()).add(local)
            self._name_tables = (names, aliases)
        return self._name_tables

    @property
    def _names(self) -> dict[str, list[str]]:
        """Last name of a call or reference -> the paths of the modules making one."""
        return self._tables()[0]

    @property
    def _aliases(self) -> dict[str, set[str]]:
        """``from m import load as fetch``: calls spelled ``fetch`` may reach a function named ``load``."""
        return self._tables()[1]

    def paths_where(self, predicate: Callable[[ModuleIndex], bool]) -> list[str]:
        """The modules whose index satisfies ``predicate`` (nothing is loaded to answer)."""
        return [path for path, entry in self.index.items() if predicate(entry)]

    # -- global names ---------------------------------------------------------------------------
    def lookup(self, dotted: str, depth: int = 0) -> Value | None:
        """A dotted name as the project knows it, following imports and re-exports."""
        if depth > 12:
            return None
        if dotted in self.functions:
            return ("function", dotted)
        if dotted in self.classes:
            return ("class", dotted)
        if dotted in self.by_module:
            return ("module", dotted)
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = self.by_module.get(".".join(parts[:cut]))
            if module is None:
                continue
            head, rest = parts[cut], parts[cut + 1 :]
            if head in module.imports:
                return self.lookup(".".join([module.imports[head], *rest]), depth + 1)
            if head in module.globals and not rest:
                values = self.evaluate(module.globals[head], module, None, depth + 1)
                return values[0] if values else None
            return None
        return ("external", dotted)

    # -- evaluation of type evidence ------------------------------------------------------------
    def evaluate(
        self,
        evidence: Iterable[TypeEvidence],
        module: ModuleSummary,
        function: FunctionSummary | None,
        depth: int = 0,
    ) -> list[Value]:
        values: list[Value] = []
        for kind, chain in evidence:
            if depth > 12:
                break
            if chain and chain[0] == "<import>":
                found = self.lookup(".".join(chain[1:]), depth + 1)
                if found:
                    values.append(found)
                continue
            value = self.value_of_chain(chain, module, function, depth + 1)
            if value is None:
                continue
            if kind == ANNOTATION:
                if value[0] == "class":
                    values.append(("instance", value[1]))
                elif value[0] == "external":
                    values.append(("external_instance", value[1]))
            elif kind == CALL_RESULT:
                values.extend(self.call_result(value, depth + 1))
            else:
                values.append(value)
        return values

    def call_result(self, callee: Value, depth: int = 0) -> list[Value]:
        kind, name = callee
        if kind == "class":
            return [("instance", name)]
        if kind == "external":
            return [("external_instance", name)]
        if kind == "function":
            function = self.functions[name]
            module = self.by_module.get(function.module)
            if module is None:
                return []
            return self.evaluate(function.returns, module, function, depth + 1)
        return []

    def value_of_name(
        self, name: str, module: ModuleSummary, function: FunctionSummary | None, depth: int = 0
    ) -> Value | None:
        scope = function
        while scope is not None:
            if name in scope.local_defs:
                return ("function", scope.local_defs[name])
            if name in scope.params:
                if scope.class_id and scope.params and name == scope.params[0] and not _is_static(scope):
                    if "classmethod" in scope.decorator_names():
                        return ("class", scope.class_id)
                    return ("instance", scope.class_id)
                values = self.evaluate(scope.param_types.get(name, ()), module, scope, depth + 1)
                if not values:
                    values = self._fixture_value(name, module, scope, depth + 1)
                return values[0] if values else None
            if name in scope.local_types:
                values = self.evaluate(scope.local_types[name], module, scope, depth + 1)
                return values[0] if values else None
            scope = self.functions.get(scope.parent_id) if scope.parent_id else None
        if name in module.top_level:
            target = module.top_level[name]
            return ("function", target) if target in self.functions else ("class", target)
        if name in module.imports:
            return self.lookup(module.imports[name], depth + 1)
        if name in module.globals:
            values = self.evaluate(module.globals[name], module, None, depth + 1)
            return values[0] if values else None
        return ("external", name) if name in _BUILTINS else None

    def value_of_chain(
        self, chain: Chain, module: ModuleSummary, function: FunctionSummary | None, depth: int = 0
    ) -> Value | None:
        if depth > 16 or not chain:
            return None
        value = self.value_of_name(chain[0], module, function, depth + 1)
        for attr in chain[1:]:
            if value is None:
                return None
            value = self.attribute(value, attr, depth + 1)
        return value

    def attribute(self, value: Value, attr: str, depth: int = 0) -> Value | None:
        kind, name = value
        if kind == "module":
            return self.lookup(f"{name}.{attr}", depth + 1)
        if kind in ("external", "external_instance"):
            return (kind, f"{name}.{attr}") if kind == "external" else None
        if kind in ("instance", "class"):
            for class_id in self.mro(name):
                cls = self.classes[class_id]
                if attr in cls.methods:
                    return ("function", cls.methods[attr])
                if attr in cls.attr_types:
                    module = self.by_module[cls.module]
                    init = self.functions.get(cls.methods.get("__init__", ""))
                    values = self.evaluate(cls.attr_types[attr], module, init, depth + 1)
                    if values:
                        return values[0]
                    return None
        return None

    def mro(self, class_id: str) -> list[str]:
        """The class and its project base classes, depth first (enough for single inheritance)."""
        order: list[str] = []
        pending = [class_id]
        while pending:
            current = pending.pop(0)
            if current in order or current not in self.classes:
                continue
            order.append(current)
            cls = self.classes[current]
            module = self.by_module[cls.module]
            for base in cls.bases:
                value = self.value_of_chain(base, module, None)
                if value and value[0] == "class":
                    pending.append(value[1])
        return order

    def subclasses(self, class_id: str) -> list[str]:
        """Project classes deriving from ``class_id`` (candidates found by their bases' names first)."""
        name = self.classes[class_id].name
        names = {name} | self._aliases.get(name, set())
        found: list[str] = []
        for path in self.paths_where(lambda entry: bool(entry.base_names & names)):
            for candidate in self.modules[path].classes:
                if candidate != class_id and class_id in self.mro(candidate):
                    found.append(candidate)
        # a subclass of a subclass names only its direct base
        for child in list(found):
            for grandchild in self.subclasses(child):
                if grandchild not in found:
                    found.append(grandchild)
        return found

    # -- pytest fixtures ------------------------------------------------------------------------
    def fixture(self, name: str, module: ModuleSummary) -> FunctionSummary | None:
        """The fixture a test parameter named ``name`` receives: the module's own, then conftest.py files."""
        candidates = [module]
        directory = Path(module.path).parent
        while True:
            conftest = (directory / "conftest.py").as_posix()
            if conftest in self.modules and self.modules[conftest] is not module:
                candidates.append(self.modules[conftest])
            if directory == directory.parent or directory.as_posix() in (".", ""):
                break
            directory = directory.parent
        for candidate in candidates:
            function_id = candidate.top_level.get(name)
            function = self.functions.get(function_id or "")
            if function is not None and self.is_fixture(function):
                return function
        return None

    def is_fixture(self, function: FunctionSummary) -> bool:
        module = self.by_module.get(function.module)
        if module is None:
            return False
        for decorator in function.decorators:
            value = self.value_of_chain(decorator, module, None)
            if value and value[0] == "external" and value[1] in self.fixture_decorators:
                return True
        return False

    def _fixture_value(self, name: str, module: ModuleSummary, function: FunctionSummary, depth: int) -> list[Value]:
        if not (module.is_test and (function.name.startswith("test") or self.is_fixture(function))):
            return []
        fixture = self.fixture(name, module)
        if fixture is None or depth > 12:
            return []
        fixture_module = self.by_module[fixture.module]
        return self.evaluate(fixture.returns, fixture_module, fixture, depth + 1)

    # -- calls ----------------------------------------------------------------------------------
    def resolve_call(self, call: CallRef, function: FunctionSummary | None, module: ModuleSummary) -> Resolved | None:
        """The function a call or reference reaches, or None when it cannot be known."""
        if call.receiver_call == ("super",) and function is not None and function.class_id is not None:
            # ``super().m()``: the first base class (in the project) defining ``m``
            for class_id in self.mro(function.class_id)[1:]:
                method = self.classes[class_id].methods.get(call.chain[-1])
                if method is not None:
                    return Resolved(self.functions[method])
            return Resolved(None, external=f"super.{call.chain[-1]}")
        if call.receiver_call is not None:
            receiver = self.value_of_chain(call.receiver_call, module, function)
            results = self.call_result(receiver) if receiver else []
            value = self.attribute(results[0], call.chain[-1]) if results else None
        else:
            value = self.value_of_chain(call.chain, module, function)
        if value is None:
            return None
        kind, name = value
        if kind == "function":
            return Resolved(self.functions[name])
        if kind == "class" and call.is_call:
            init = next(
                (self.classes[c].methods["__init__"] for c in self.mro(name) if "__init__" in self.classes[c].methods),
                None,
            )
            return Resolved(self.functions.get(init or ""), constructs=name)
        if kind == "external":
            return Resolved(None, external=name)
        return None

    def calls_named(self, name: str) -> Iterator[tuple[ModuleSummary, FunctionSummary | None, CallRef]]:
        """Every call or reference whose last name is ``name``, with its enclosing function."""
        for path in self._names.get(name, ()):
            module = self.modules[path]
            for function_id, index in module.calls_by_name.get(name, ()):
                if function_id is None:
                    yield module, None, module.module_calls[index]
                else:
                    function = module.functions[function_id]
                    yield module, function, function.calls[index]

    def callers(self, target: FunctionSummary) -> Iterator[ResolvedCall]:
        """Calls and references spelled like ``target``, each with what it resolves to (None: unknown)."""
        names = {target.name}
        if target.name == "__init__" and target.class_id:
            names.add(self.classes[target.class_id].name)
        for name in list(names):
            names |= self._aliases.get(name, set())
        for name in sorted(names):
            yield from self.resolved_calls_named(name)

    def resolved_calls_named(self, name: str) -> list[ResolvedCall]:
        """``calls_named(name)``, each call with what it resolves to, resolved once per project: every
        function of that name asks about the same calls (each class's ``__init__``, each override of a
        method, each copy of a module), and a call resolves the same whichever function asks."""
        found = self._resolved_by_name.get(name)
        if found is None:
            found = [(m, f, call, self.resolve_call(call, f, m)) for m, f, call in self.calls_named(name)]
            self._resolved_by_name[name] = found
        return found


def _is_static(function: FunctionSummary) -> bool:
    return "staticmethod" in function.decorator_names()


_BUILTINS = frozenset(
    {
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "sorted",
        "map",
        "filter",
        "iter",
        "next",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "enumerate",
        "zip",
        "reversed",
        "callable",
        "print",
        "len",
        "property",
        "staticmethod",
        "classmethod",
        "super",
        "isinstance",
        "getattr",
        "setattr",
    }
)


# --- building, with a per-file cache ----------------------------------------------------------------


@dataclass(frozen=True)
class _GraphEntry:
    """What the call graph's small index keeps per file: all a warm start reads."""

    digest: bytes  # of the file's content
    signature: Signature | None  # its stat signature when read, if it had settled (see cache.settled)
    module: str | None  # its module name; None: the file cannot be parsed
    unreadable: str | None  # why it cannot be parsed ("line: reason")


class _GraphCache:
    """The call graph's cache for one module layout, in three entries of decreasing use and increasing size:

    - ``graph-<roots>``: the small index, path -> ``_GraphEntry`` (about 1.3 MB on a million lines), read by
      every build: a command that needs only the files' digests and module names (the key of a cached
      result) reads nothing else;
    - ``graph-<roots>-modules``: path -> (digest, ``ModuleIndex``), read whole on the first question about
      callers (about 6 MB, but its many sets of names take longer to unpickle than all the summaries' bytes);
    - ``graph-<roots>-summaries`` (a ``PackFile``): (path, digest) -> pickled ``ModuleSummary``, each read
      when a question needs that module (about 80 MB in all).

    The two larger ones are keyed by each file's digest, so any mix of old and new entries (two processes
    writing, a crash between two writes) gives right answers or misses, never another file's summary: a
    missing or damaged one is computed again from the file.
    """

    def __init__(self, root: Path, layout: ModuleLayout) -> None:
        roots = hashlib.blake2b(layout.fingerprint().encode(), digest_size=6).hexdigest()
        version = format_version(_GraphEntry, ModuleIndex, ModuleSummary)
        self.entries_file = CacheFile(root, f"graph-{roots}", version)
        self.indexes_file = CacheFile(root, f"graph-{roots}-modules", version)
        self.summaries = PackFile(root, f"graph-{roots}-summaries", version)
        self._indexes: dict[str, tuple[bytes, ModuleIndex]] | None = None

    def entries(self) -> dict[str, _GraphEntry]:
        loaded = self.entries_file.load()
        if isinstance(loaded, dict) and all(isinstance(e, _GraphEntry) for e in loaded.values()):
            return loaded
        return {}

    def indexes(self) -> dict[str, tuple[bytes, ModuleIndex]]:
        if self._indexes is None:
            loaded = self.indexes_file.load()
            valid = isinstance(loaded, dict) and all(
                isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], ModuleIndex) for v in loaded.values()
            )
            self._indexes = loaded if valid else {}  # type: ignore[assignment]
        assert self._indexes is not None
        return self._indexes

    def summary_blob(self, path: str, digest: bytes) -> ModuleSummary | None:
        blob = self.summaries.get((path, digest))
        if blob is None:
            return None
        try:
            summary = pickle.loads(blob)
        except READ_ERRORS:
            return None
        return summary if isinstance(summary, ModuleSummary) and summary.path == path else None


class _Summaries:
    """Where a built project's module summaries come from: this build's fresh ones, the cache's pack (by
    the digest the build recorded), or the file itself when the pack has none that can be read."""

    def __init__(
        self,
        root: Path,
        layout: ModuleLayout,
        digests: Mapping[str, bytes],
        fresh: dict[str, ModuleSummary],
        cache: _GraphCache | None,
    ) -> None:
        self.root = root
        self.layout = layout
        self.digests = digests
        self.fresh = fresh
        self.cache = cache

    def __call__(self, path: str) -> ModuleSummary:
        found = self.fresh.get(path)
        if found is None and self.cache is not None:
            found = self.cache.summary_blob(path, self.digests[path])
        return found if found is not None else self.recompute(path)

    def recompute(self, path: str) -> ModuleSummary:
        """The summary of the file as the build recorded it, from its bytes."""
        try:
            data = (self.root / path).read_bytes()
        except OSError:
            data = b""
        if file_digest(data) != self.digests[path]:
            # The build knew this file by another content, and the cache has lost that content's summary:
            # answering from today's content would mix two states of the tree under one key.
            raise AsyncMigrateError(f"{path}: changed while the call graph was being read; run the command again")
        return read_module(path, data, self.layout)


def _summary_of_item(item: tuple[str, bytes], layout: ModuleLayout) -> ModuleSummary | str:
    return summary_or_reason(item[0], item[1], layout)


def _source_weight(item: tuple[str, bytes]) -> int:
    return len(item[1])


class SharedSummaries:
    """Module summaries made by another reader's parse of a file, for the call graph the same command
    builds next: ``check`` scans first, and the scan's one ``ast`` parse of each file it reads gives the
    call sites, the reach summary and, for a file whose content the graph's cache does not hold yet,
    the module summary (``wanted``), which ``build_project`` then takes instead of parsing again."""

    def __init__(self, root: Path, layout: ModuleLayout, *, use_cache: bool = True) -> None:
        self.root = root
        self.layout = layout
        self.use_cache = use_cache
        self.made: dict[str, tuple[bytes, ModuleSummary | str]] = {}  # path -> (digest, summary or reason)
        self._recorded: dict[str, bytes] | None = None
        self._wanted: dict[str, bytes] = {}  # path -> the digest of the content wanted

    def wanted(self, path: str, digest: bytes) -> bool:
        """Does the graph need the summary of ``path`` with this content (its cache has none)?"""
        if self._recorded is None:
            # read when the scan has files to parse at all: a warm scan asks nothing
            entries = _GraphCache(self.root, self.layout).entries() if self.use_cache else {}
            self._recorded = {path: entry.digest for path, entry in entries.items()}
        if self._recorded.get(path) == digest:
            return False
        self._wanted[path] = digest
        return True

    def add(self, path: str, summary: ModuleSummary | str) -> None:
        """The summary of a file ``wanted``, made from the content it was wanted with."""
        self.made[path] = (self._wanted[path], summary)


def build_project(
    root: Path,
    paths: Iterable[str],
    *,
    use_cache: bool = True,
    layout: ModuleLayout | None = None,
    frameworks: Frameworks = ALL_FRAMEWORKS,
    stats: Mapping[str, os.stat_result] | None = None,
    shared: SharedSummaries | None = None,
) -> Project:
    """The project over ``paths`` (root-relative), reusing cached summaries whose content has not changed.

    A file whose stat signature is the one recorded is known by its recorded digest without being read;
    the others are read, and summarized when their content is new. ``stats``: the files' stats when the
    walk that found them took them moments ago (``Discovery.stats``), so they are not asked for twice.
    A warm start reads only the small index of the cache (see ``_GraphCache``); a module's
    ``ModuleIndex`` and summary load when a question needs them. A file that cannot be parsed is kept in
    ``Project.unreadable`` (path -> "line: reason"), never dropped. ``shared``: summaries another reader's
    parse made moments ago (``SharedSummaries``), taken for a file whose content they were made from.
    """
    layout = layout or ModuleLayout.of(("",), root)
    made = shared.made if shared is not None and shared.layout == layout else {}
    cache = _GraphCache(root, layout) if use_cache else None
    recorded = cache.entries() if cache is not None else {}
    slots: dict[str, _GraphEntry | None] = {}  # in the order of ``paths``; None: new content, read below
    new_content: list[tuple[str, bytes]] = []
    read_as: dict[str, tuple[bytes, Signature | None]] = {}  # path -> (digest, settled signature) of new content
    changed = False
    base = os.fspath(root)
    for path in paths:
        cached = recorded.get(path)
        status = stats.get(path) if stats is not None else None
        try:
            signature = file_signature(status or os.stat(os.path.join(base, path)))
        except OSError:
            continue
        if cached is None or cached.signature != signature:
            read_at = time.time_ns()
            try:
                data = (root / path).read_bytes()
            except OSError:
                continue
            digest = file_digest(data)
            known = signature if settled(signature, read_at) else None
            if cached is not None and cached.digest == digest:
                if cached.signature != known:
                    cached = dataclasses.replace(cached, signature=known)
                    changed = True
            else:
                changed = True
                read_as[path] = (digest, known)
                cached = None
                shared_summary = made.get(path)
                if shared_summary is None or shared_summary[0] != digest:
                    new_content.append((path, data))
        slots[path] = cached
    # A cold tree's files are summarized on every core (a handful, as after an edit, inline).
    summaries_read = run_on_cores(new_content, functools.partial(_summary_of_item, layout=layout), _source_weight)
    summarized = {path: read for (path, _), read in zip(new_content, summaries_read, strict=True)}
    fresh: dict[str, ModuleSummary] = {}
    for path in read_as:
        read = summarized[path] if path in summarized else made[path][1]
        digest, known = read_as[path]
        if isinstance(read, str):
            slots[path] = _GraphEntry(digest, known, None, read)
        else:
            slots[path] = _GraphEntry(digest, known, read.module, None)
            fresh[path] = read
    entries = {path: entry for path, entry in slots.items() if entry is not None}
    digests = {path: entry.digest for path, entry in entries.items()}
    summaries = _Summaries(root, layout, digests, fresh, cache)
    indexes = {path: ModuleIndex.of(summary) for path, summary in fresh.items()}
    if cache is not None and (changed or entries.keys() != recorded.keys()):
        # A cache that cannot be written (a full disk, a read-only tree) is simply not written: the
        # result is the same, the next run just computes it again.
        _store(cache, entries, summaries, indexes)
    readable = [path for path, entry in entries.items() if entry.module is not None]
    project = Project(
        root,
        _LazyModules(fresh, readable, summaries),
        _LazyIndex(digests, readable, indexes, cache.indexes if cache is not None else dict, summaries),
        frameworks,
        module_names={path: entries[path].module or "" for path in readable},
    )
    project.unreadable = {path: entry.unreadable or "" for path, entry in entries.items() if entry.module is None}
    project.digests = digests
    return project


def _store(
    cache: _GraphCache,
    entries: dict[str, _GraphEntry],
    summaries: _Summaries,
    indexes: dict[str, ModuleIndex],
) -> None:
    """Write the cache for ``entries``: the summaries and module indexes when a file has new content
    (those of unchanged files copied from the previous entries, or computed again where those are lost),
    then the small index, last, so that it never names a content the larger entries do not hold."""
    if summaries.fresh:
        stored = cache.indexes()
        blobs: dict[tuple[str, bytes], bytes] = {}
        for path, entry in entries.items():
            if entry.module is None:
                continue
            summary = summaries.fresh.get(path)
            blob = cache.summaries.get((path, entry.digest)) if summary is None else None
            if blob is None:
                if summary is None:
                    try:
                        summary = summaries.recompute(path)
                    except (AsyncMigrateError, Unreadable):
                        continue  # changed since it was read: the next build reads it again
                    summaries.fresh[path] = summary
                blob = dumps(summary)
            blobs[(path, entry.digest)] = blob
            if path not in indexes:
                recorded = stored.get(path)
                if recorded is not None and recorded[0] == entry.digest:
                    indexes[path] = recorded[1]
                else:
                    indexes[path] = ModuleIndex.of(summary or summaries(path))
        stored_summaries = cache.summaries.store(blobs)
        stored_indexes = cache.indexes_file.store({path: (entries[path].digest, i) for path, i in indexes.items()})
        if not (stored_summaries and stored_indexes):
            return  # the next build finds these files new again, and tries again
    cache.entries_file.store(entries)
