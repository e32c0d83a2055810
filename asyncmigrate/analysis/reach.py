"""A name-level call graph, cheap enough to run on every scan, for the "async reach" estimate.

The estimate answers: if this file's facade calls became awaited repository calls, how many
functions would have to turn ``async def``? It walks callers by name (``x.attack(...)`` reaches every
method named ``attack``), so it over-approximates; ``apply`` builds the precise graph.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.parsing import CHILD_FIELDS, NODE_TYPES, parse_python
from asyncmigrate.config.modules import nested_qualname
from asyncmigrate.types import CallSite

_MAX_REACH = 1000


@dataclass(frozen=True)
class FunctionSummary:
    qualname: str
    name: str
    is_async: bool
    is_method: bool
    line: int
    name_calls: frozenset[str]  # f(...)
    attr_calls: frozenset[str]  # x.f(...)


@dataclass(frozen=True)
class FileSummary:
    module: str
    functions: tuple[FunctionSummary, ...]


# The summary needs every call inside a function, so it reads every expression of a function, and only
# the fields that can hold one (``CHILD_FIELDS``).
_BLOCK_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})  # a statement's statements
# statement type (``except`` handler and ``case`` too) -> (its fields that may hold expressions, its
# fields holding statements), each in the order of ``_fields``: nested definitions are met in source order
_STATEMENT_FIELDS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {
    kind: (tuple(f for f in fields if f not in _BLOCK_FIELDS), tuple(f for f in fields if f in _BLOCK_FIELDS))
    for kind in NODE_TYPES
    if issubclass(kind, ast.stmt | ast.excepthandler | ast.match_case)
    for fields in [CHILD_FIELDS.get(kind, ())]
}


def record_calls(root: ast.AST, name_calls: set[str], attr_calls: set[str], receiver_names: frozenset[str]) -> None:
    """Add the callee of every call in ``root``, which holds no statement: ``f(...)`` to ``name_calls``,
    ``x.f(...)`` to ``attr_calls`` unless ``x`` is a facade receiver (its calls are the facade's)."""
    stack: list[Any] = [root]  # nodes, and the None a list may hold (a dict's ``**``)
    pop, push, extend = stack.pop, stack.append, stack.extend
    children = CHILD_FIELDS.get
    call, name, attribute = ast.Call, ast.Name, ast.Attribute
    while stack:  # a stack, not recursion: the deepest expression ``ast`` builds is walked too
        node = pop()
        kind = type(node)
        if kind is call:
            func = node.func
            func_kind = type(func)
            if func_kind is name:
                name_calls.add(func.id)
            elif func_kind is attribute:
                owner = func.value
                owner_kind = type(owner)
                if not (
                    (owner_kind is name and owner.id in receiver_names)
                    or (owner_kind is attribute and owner.attr in receiver_names)
                ):
                    attr_calls.add(func.attr)
            push(func)
            extend(node.args)
            extend(node.keywords)
            continue
        fields = children(kind)
        if fields:
            for field in fields:
                value = getattr(node, field)
                if type(value) is list:
                    extend(value)
                elif value is not None:
                    push(value)


_Calls = tuple[set[str], set[str]]  # a function's (name calls, attribute calls)


class _Summarizer:
    """The functions of a module, each with its calls: those in its body, its parameters' defaults
    and annotations, its decorators and its return annotation; a nested def's calls are its own, a
    class body's are those of the function around the class (if any)."""

    def __init__(self, receiver_names: frozenset[str]) -> None:
        self.receiver_names = receiver_names
        self.functions: list[FunctionSummary] = []  # in the order their definitions end

    def block(
        self, statements: Sequence[ast.AST], parent: str | None, parent_is_class: bool, calls: _Calls | None
    ) -> None:
        """Statements (or ``except`` handlers, ``case`` clauses) inside ``parent`` (a qualified name, None
        at module level); ``calls``: the innermost enclosing function's, None outside any function."""
        receivers = self.receiver_names
        for statement in statements:
            kind = type(statement)
            expression_fields, block_fields = _STATEMENT_FIELDS[kind]
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                name: str = statement.name  # type: ignore[attr-defined]
                qualname = nested_qualname(parent, not parent_is_class, name)
                own: _Calls = (set(), set())
                for field in expression_fields:
                    _record_field(getattr(statement, field), own, receivers)
                self.block(statement.body, qualname, False, own)  # type: ignore[attr-defined]
                self.functions.append(
                    FunctionSummary(
                        qualname,
                        name,
                        kind is ast.AsyncFunctionDef,
                        parent_is_class,
                        statement.lineno,  # type: ignore[attr-defined]
                        frozenset(own[0]),
                        frozenset(own[1]),
                    )
                )
                continue
            if calls is not None:
                for field in expression_fields:
                    _record_field(getattr(statement, field), calls, receivers)
            if kind is ast.ClassDef:
                qualname = nested_qualname(parent, not parent_is_class, statement.name)  # type: ignore[attr-defined]
                self.block(statement.body, qualname, True, calls)  # type: ignore[attr-defined]
                continue
            for field in block_fields:
                self.block(getattr(statement, field), parent, parent_is_class, calls)


def _record_field(value: object, calls: _Calls, receiver_names: frozenset[str]) -> None:
    if type(value) is list:
        for item in value:
            if item is not None:
                record_calls(item, *calls, receiver_names)
    elif value is not None:
        record_calls(value, *calls, receiver_names)  # type: ignore[arg-type]


def is_facade_receiver(node: ast.expr, receiver_names: frozenset[str]) -> bool:
    """Is ``node`` (the ``x`` of ``x.f(...)``) named as a facade receiver: ``persistence``, ``self.persistence``?"""
    kind = type(node)
    if kind is ast.Name:
        return node.id in receiver_names  # type: ignore[attr-defined]
    if kind is ast.Attribute:
        return node.attr in receiver_names  # type: ignore[attr-defined]
    return False


def summarize(path: str, data: bytes, spec: FacadeSpec) -> FileSummary | None:
    tree = parse_python(data)
    return None if tree is None else summarize_tree(path, tree, spec)


def summarize_tree(path: str, tree: ast.Module, spec: FacadeSpec) -> FileSummary:
    summarizer = _Summarizer(spec.receiver_names)
    summarizer.block(tree.body, None, False, None)
    return FileSummary(spec.layout.module_name(path)[0], tuple(summarizer.functions))


def estimate_reach(
    calls_by_file: Mapping[str, tuple[CallSite, ...]],
    summaries: Mapping[str, FileSummary],
    spec: FacadeSpec,
) -> dict[str, int]:
    """Per file with calls: how many functions (capped at ``_MAX_REACH``) turn async, walking
    callers by name from the functions whose facade calls become awaited."""
    # Only a sync function can turn async: async callers are neither counted nor walked through. A
    # function is counted by (path, qualified name), numbered here: sets of ints unite fast.
    numbers: dict[tuple[str, str], int] = {}
    by_name: dict[str, list[tuple[int, FunctionSummary]]] = {}
    by_attr: dict[str, list[tuple[int, FunctionSummary]]] = {}
    for path, summary in summaries.items():
        for function in summary.functions:
            if function.is_async:
                continue
            number = numbers.setdefault((path, function.qualname), len(numbers))
            for name in function.name_calls:
                by_name.setdefault(name, []).append((number, function))
            for name in function.attr_calls:
                by_attr.setdefault(name, []).append((number, function))

    # A function's callers depend only on its kind, (name, is method): ``x.attack(...)`` reaches every
    # method named ``attack``. So the walk goes from kind to kind, each expanded once per file, and
    # each kind's callers (their numbers and their kinds) are worked out once for all files.
    expansions: dict[tuple[str, bool], tuple[frozenset[int], frozenset[tuple[str, bool]]]] = {}

    def expand(kind: tuple[str, bool]) -> tuple[frozenset[int], frozenset[tuple[str, bool]]]:
        found = expansions.get(kind)
        if found is None:
            name, is_method = kind
            callers = by_attr.get(name, []) + ([] if is_method else by_name.get(name, []))
            found = expansions[kind] = (
                frozenset(number for number, _ in callers),
                frozenset((caller.name, caller.is_method) for _, caller in callers),
            )
        return found

    reach: dict[str, int] = {}
    for path, calls in calls_by_file.items():
        file_summary = summaries.get(path)
        if file_summary is None:
            continue
        by_qualname = {f.qualname: f for f in file_summary.functions}
        roots = {
            by_qualname[c.function]
            for c in calls
            if c.function in by_qualname and spec.is_async_target(c.method) and not c.awaited
        }
        seen = {numbers[(path, f.qualname)] for f in roots if not f.is_async}
        pending = [(f.name, f.is_method) for f in roots if not f.is_async]
        expanded: set[tuple[str, bool]] = set()
        # What is reached does not depend on the order of the walk, so neither does the count: the
        # functions reached when the walk is over, or the cap if there are that many.
        while pending and len(seen) < _MAX_REACH:
            kind = pending.pop()
            if kind in expanded:
                continue
            expanded.add(kind)
            functions, kinds = expand(kind)
            seen |= functions
            pending.extend(kinds - expanded)
        reach[path] = min(len(seen), _MAX_REACH)
    return reach
