"""A name-level call graph, cheap enough to run on every scan, for the "async reach" estimate.

The estimate answers: if this file's facade calls became awaited repository calls, how many
functions would have to turn ``async def``? It walks callers by name (``x.attack(...)`` reaches every
method named ``attack``), so it over-approximates; ``apply`` builds the precise graph.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from asyncmigrate.facade import FacadeSpec, module_name_for
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
            return name
        parent, is_class = self._stack[-1]
        return f"{parent}.{name}" if is_class else f"{parent}.<locals>.{name}"

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


def summarize(path: str, data: bytes, spec: FacadeSpec) -> FileSummary | None:
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # newer syntax than this interpreter, or broken: no reach estimate for it
    summarizer = _Summarizer(spec.receiver_names)
    summarizer.visit(tree)
    return FileSummary(module_name_for(path)[0], tuple(summarizer.functions))


class _CallerIndex:
    def __init__(
        self,
        summaries: dict[str, FileSummary],
        contents: Mapping[str, bytes],
        summarize_missing: Callable[[str], FileSummary | None],
    ) -> None:
        self.summaries = summaries
        self.contents = contents
        self.summarize_missing = summarize_missing
        self.by_name: dict[str, list[tuple[str, FunctionSummary]]] = {}
        self.by_attr: dict[str, list[tuple[str, FunctionSummary]]] = {}
        self._indexed: set[str] = set()
        self._searched: set[str] = set()
        for path in list(summaries):
            self._index(path)

    def _index(self, path: str) -> None:
        if path in self._indexed:
            return
        self._indexed.add(path)
        for function in self.summaries[path].functions:
            for name in function.name_calls:
                self.by_name.setdefault(name, []).append((path, function))
            for name in function.attr_calls:
                self.by_attr.setdefault(name, []).append((path, function))

    def _load_files_mentioning(self, name: str) -> None:
        if name in self._searched:
            return
        self._searched.add(name)
        token = name.encode()
        for path, data in self.contents.items():
            if path not in self.summaries and token in data:
                summary = self.summarize_missing(path)
                if summary is not None:
                    self.summaries[path] = summary
                    self._index(path)

    def callers(self, function: FunctionSummary) -> Iterable[tuple[str, FunctionSummary]]:
        self._load_files_mentioning(function.name)
        yield from self.by_attr.get(function.name, ())
        if not function.is_method:
            yield from self.by_name.get(function.name, ())


def estimate_reach(
    calls_by_file: Mapping[str, tuple[CallSite, ...]],
    summaries: dict[str, FileSummary],
    contents: Mapping[str, bytes],
    spec: FacadeSpec,
    summarize_missing: Callable[[str], FileSummary | None],
) -> dict[str, int]:
    index = _CallerIndex(dict(summaries), contents, summarize_missing)
    reach: dict[str, int] = {}
    for path, calls in calls_by_file.items():
        summary = index.summaries.get(path)
        if summary is None:
            continue
        by_qualname = {f.qualname: f for f in summary.functions}
        roots = {
            by_qualname[c.function]
            for c in calls
            if c.function in by_qualname and spec.is_async_target(c.method) and not c.awaited
        }
        seen: set[tuple[str, str]] = set()
        pending = [(path, f) for f in roots if not f.is_async]
        while pending and len(seen) < _MAX_REACH:
            current_path, function = pending.pop()
            if (current_path, function.qualname) in seen:
                continue
            seen.add((current_path, function.qualname))
            for caller_path, caller in index.callers(function):
                if not caller.is_async and (caller_path, caller.qualname) not in seen:
                    pending.append((caller_path, caller))
        reach[path] = len(seen)
    return reach
