"""A name-level call graph, cheap enough to run on every scan, for the "async reach" estimate.

The estimate answers: if this file's facade calls became awaited repository calls, how many
functions would have to turn ``async def``? It walks callers by name (``x.attack(...)`` reaches every
method named ``attack``), so it over-approximates; ``apply`` builds the precise graph.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from asyncmigrate.analysis.facade import FacadeSpec
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


class _Summarizer(ast.NodeVisitor):
    def __init__(self, receiver_names: frozenset[str]) -> None:
        self.receiver_names = receiver_names
        self.functions: list[FunctionSummary] = []
        self._stack: list[tuple[str, bool]] = []  # (qualname, is_class)
        self._calls: list[tuple[set[str], set[str]]] = []

    def _qualname(self, name: str) -> str:
        if not self._stack:
            return nested_qualname(None, False, name)
        parent, is_class = self._stack[-1]
        return nested_qualname(parent, not is_class, name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._stack.append((self._qualname(node.name), True))
        self.generic_visit(node)
        self._stack.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qualname = self._qualname(node.name)
        is_method = bool(self._stack and self._stack[-1][1])
        self._stack.append((qualname, False))
        self._calls.append((set(), set()))
        self.generic_visit(node)
        name_calls, attr_calls = self._calls.pop()
        self._stack.pop()
        self.functions.append(
            FunctionSummary(
                qualname,
                node.name,
                isinstance(node, ast.AsyncFunctionDef),
                is_method,
                node.lineno,
                frozenset(name_calls),
                frozenset(attr_calls),
            )
        )

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        if self._calls:
            name_calls, attr_calls = self._calls[-1]
            func = node.func
            if isinstance(func, ast.Name):
                name_calls.add(func.id)
            elif isinstance(func, ast.Attribute) and not self._is_facade_receiver(func.value):
                attr_calls.add(func.attr)
        self.generic_visit(node)

    def _is_facade_receiver(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.receiver_names
        if isinstance(node, ast.Attribute):
            return node.attr in self.receiver_names
        return False


def parse_python(data: bytes) -> ast.Module | None:
    """CPython's tree for ``data``, or None: newer syntax than this interpreter, or broken."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences are the user's business
            return ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def summarize(path: str, data: bytes, spec: FacadeSpec) -> FileSummary | None:
    tree = parse_python(data)
    return None if tree is None else summarize_tree(path, tree, spec)


def summarize_tree(path: str, tree: ast.Module, spec: FacadeSpec) -> FileSummary:
    summarizer = _Summarizer(spec.receiver_names)
    summarizer.visit(tree)
    return FileSummary(spec.layout.module_name(path)[0], tuple(summarizer.functions))


def estimate_reach(
    calls_by_file: Mapping[str, tuple[CallSite, ...]],
    summaries: Mapping[str, FileSummary],
    spec: FacadeSpec,
) -> dict[str, int]:
    """Per file with calls: how many functions (capped at ``_MAX_REACH``) turn async, walking
    callers by name from the functions whose facade calls become awaited."""
    by_name: dict[str, list[tuple[str, FunctionSummary]]] = {}
    by_attr: dict[str, list[tuple[str, FunctionSummary]]] = {}
    for path, summary in summaries.items():
        for function in summary.functions:
            for name in function.name_calls:
                by_name.setdefault(name, []).append((path, function))
            for name in function.attr_calls:
                by_attr.setdefault(name, []).append((path, function))

    def callers(function: FunctionSummary) -> Iterable[tuple[str, FunctionSummary]]:
        yield from by_attr.get(function.name, ())
        if not function.is_method:
            yield from by_name.get(function.name, ())

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
        seen = {(path, f.qualname) for f in roots if not f.is_async}
        pending = [f for f in roots if not f.is_async]
        # Callers depend only on a function's name and kind, so each (name, kind) is expanded once;
        # on a tree of look-alike packages that is what keeps the walk linear.
        expanded: set[tuple[str, bool]] = set()
        while pending and len(seen) < _MAX_REACH:
            function = pending.pop()
            kind = (function.name, function.is_method)
            if kind in expanded:
                continue
            expanded.add(kind)
            for caller_path, caller in callers(function):
                node = (caller_path, caller.qualname)
                if not caller.is_async and node not in seen:
                    seen.add(node)
                    pending.append(caller)
                    if len(seen) >= _MAX_REACH:
                        break
        reach[path] = min(len(seen), _MAX_REACH)
    return reach
