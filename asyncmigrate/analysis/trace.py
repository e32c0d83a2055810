"""Call edges and facade timings traced from the test suite: what they are, where they are kept, and
whether they still hold.

``asyncmigrate trace`` (``asyncmigrate.workflow.tracerun``) runs the test command with the tracer of
``asyncmigrate.analysis.trace_runtime`` started in every Python process through a ``sitecustomize.py``
put first on ``PYTHONPATH``. Each process writes its raw results (code objects named by file,
``co_qualname`` and first line); ``collect`` maps them to the static call graph's function ids
(``module.Class.method``, ``module.f.<locals>.g``, ``…@line`` for a redefinition) and ``save`` keeps
them in ``.asyncmigrate/trace.json`` with the content hash of every file they came from. A file edited
since is *stale*: its edges and timings are never used (``Trace.fresh``), and callers say so.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asyncmigrate.workspace.cache import file_digest, trace_path

if TYPE_CHECKING:  # types only: a scan asks for the trace's timings without loading the call graph
    from asyncmigrate.analysis.callgraph import FunctionSummary, Project

TRACE_FORMAT = 1
# comprehensions, generator expressions and lambdas have code objects of their own; their calls belong
# to the function they are written in, as the static summary has them
_INNER_SCOPES = ("<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>", "<lambda>")


def digest(data: bytes) -> str:
    return file_digest(data).hex()


@dataclass(frozen=True)
class TracedEdge:
    """A call from one project function to another that the test run executed."""

    caller: str  # function id
    callee: str  # function id
    path: str  # the caller's file
    line: int  # the call's first line
    col: int | None  # the call expression's span on that line (0-based characters), when known
    end_line: int | None
    end_col: int | None
    callee_path: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "caller": self.caller,
            "callee": self.callee,
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "callee_path": self.callee_path,
            "count": self.count,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TracedEdge:
        return cls(
            str(data["caller"]),
            str(data["callee"]),
            str(data["path"]),
            int(data["line"]),
            data.get("col"),
            data.get("end_line"),
            data.get("end_col"),
            str(data["callee_path"]),
            int(data.get("count", 1)),
        )


@dataclass(frozen=True)
class FacadeTiming:
    """The facade calls made from one line: how often, how long, and how long on a running event loop."""

    path: str
    line: int
    function: str  # the calling function's id (or its qualname when the static graph lacks it)
    method: str
    count: int
    seconds: float
    max_seconds: float
    blocking_count: int
    blocking_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "function": self.function,
            "method": self.method,
            "count": self.count,
            "seconds": round(self.seconds, 6),
            "max_seconds": round(self.max_seconds, 6),
            "blocking_count": self.blocking_count,
            "blocking_seconds": round(self.blocking_seconds, 6),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FacadeTiming:
        return cls(
            str(data["path"]),
            int(data["line"]),
            str(data["function"]),
            str(data["method"]),
            int(data["count"]),
            float(data["seconds"]),
            float(data["max_seconds"]),
            int(data["blocking_count"]),
            float(data["blocking_seconds"]),
        )


@dataclass
class Trace:
    command: tuple[str, ...]
    returncode: int | None
    seconds: float
    tracer: str
    python: str
    tests: int
    files: dict[str, str]  # path -> content hash when traced
    edges: list[TracedEdge] = field(default_factory=list)
    facade_calls: list[FacadeTiming] = field(default_factory=list)
    unmapped: int = 0  # raw edges whose functions the static graph does not know (lambdas at module level…)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": TRACE_FORMAT,
            "command": list(self.command),
            "returncode": self.returncode,
            "seconds": round(self.seconds, 3),
            "tracer": self.tracer,
            "python": self.python,
            "tests": self.tests,
            "files": dict(sorted(self.files.items())),
            "edges": [e.to_json() for e in self.edges],
            "facade_calls": [f.to_json() for f in self.facade_calls],
            "unmapped": self.unmapped,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Trace:
        return cls(
            tuple(data.get("command", ())),
            data.get("returncode"),
            float(data.get("seconds", 0.0)),
            str(data.get("tracer", "")),
            str(data.get("python", "")),
            int(data.get("tests", 0)),
            {str(k): str(v) for k, v in data.get("files", {}).items()},
            [TracedEdge.from_json(e) for e in data.get("edges", ())],
            [FacadeTiming.from_json(f) for f in data.get("facade_calls", ())],
            int(data.get("unmapped", 0)),
        )

    def stale_paths(self, root: Path) -> list[str]:
        """The traced files whose content changed (or that are gone) since the trace."""
        stale = []
        for path, recorded in sorted(self.files.items()):
            try:
                current = digest((root / path).read_bytes())
            except OSError:
                current = None
            if current != recorded:
                stale.append(path)
        return stale

    def fresh(self, root: Path) -> tuple[Trace, list[str]]:
        """This trace without what a changed file contributed, and the changed files."""
        stale = set(self.stale_paths(root))
        if not stale:
            return self, []
        edges = [e for e in self.edges if e.path not in stale and e.callee_path not in stale]
        timings = [f for f in self.facade_calls if f.path not in stale]
        files = {p: h for p, h in self.files.items() if p not in stale}
        kept = Trace(
            self.command, self.returncode, self.seconds, self.tracer, self.python, self.tests, files, edges, timings
        )
        return kept, sorted(stale)

    def edges_by_callee(self) -> dict[str, list[TracedEdge]]:
        by_callee: dict[str, list[TracedEdge]] = {}
        for edge in self.edges:
            by_callee.setdefault(edge.callee, []).append(edge)
        return by_callee


def load_trace(root: Path) -> Trace | None:
    """The project's trace, or None when there is none (or it cannot be read: a trace is only evidence)."""
    path = trace_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != TRACE_FORMAT:
        return None
    try:
        return Trace.from_json(data)
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class TraceState:
    """What a command can use of the project's trace: the fresh part, and what to say about the rest."""

    trace: Trace | None  # None: no trace at all
    stale: tuple[str, ...] = ()

    @property
    def edges_by_callee(self) -> dict[str, list[TracedEdge]]:
        return self.trace.edges_by_callee() if self.trace else {}

    def note(self) -> str | None:
        if self.trace is None:
            return (
                "no trace for this project: only the static call graph is used "
                "(`asyncmigrate trace` adds the calls the tests make)"
            )
        if self.stale:
            shown = ", ".join(self.stale[:5]) + (f" and {len(self.stale) - 5} more" if len(self.stale) > 5 else "")
            return (
                f"the trace is stale for {shown} (changed since `asyncmigrate trace`): their traced calls are not used"
            )
        return None


def trace_state(root: Path) -> TraceState:
    trace = load_trace(root)
    if trace is None:
        return TraceState(None)
    fresh, stale = trace.fresh(root)
    return TraceState(fresh, tuple(stale))


def save(root: Path, trace: Trace) -> Path:
    from asyncmigrate.workspace.files import write_text_atomic

    path = trace_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    write_text_atomic(path, json.dumps(trace.to_json(), indent=1) + "\n")
    return path


# --- the bootstrap --------------------------------------------------------------------------------

_SITECUSTOMIZE = '''\
"""Starts asyncmigrate's tracer in this process, then the interpreter's own sitecustomize, if any."""
import os as _os
import sys as _sys

_here = _os.path.dirname(_os.path.abspath(__file__))
_sys.path.insert(0, _here)
try:
    import _asyncmigrate_trace_runtime

    _asyncmigrate_trace_runtime.start()
finally:
    _sys.path[:] = [p for p in _sys.path if _os.path.abspath(p or ".") != _here]
    del _sys.modules["sitecustomize"]
    try:
        import sitecustomize  # noqa: F401  (the one this file shadowed)
    except ImportError:
        pass
'''


def write_bootstrap(
    directory: Path,
    root: Path,
    files: Iterable[str],
    tests: Iterable[str],
    facade_classes: Iterable[tuple[str, str]],
    *,
    force_profile: bool = False,
) -> Path:
    """The directory to put first on ``PYTHONPATH``, and the configuration the runtime reads; returns
    the configuration's path (for ``ASYNCMIGRATE_TRACE_CONFIG``). ``force_profile`` makes the runtime use
    ``sys.setprofile`` even where ``sys.monitoring`` exists (the tests compare the two)."""
    from asyncmigrate.analysis import trace_runtime

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    shutil.copyfile(trace_runtime.__file__, directory / "_asyncmigrate_trace_runtime.py")
    output = directory / "out"
    output.mkdir(exist_ok=True)
    config: dict[str, object] = {
        "root": str(root.resolve()),
        "output": str(output),
        "files": sorted(files),
        "tests": sorted(tests),
        "facade_classes": sorted([list(c) for c in facade_classes]),
    }
    if force_profile:
        config["force_profile"] = True
    location = directory / "config.json"
    location.write_text(json.dumps(config), encoding="utf-8")
    return location


def facade_class_sites(project: Project, classes: Iterable[str]) -> list[tuple[str, str]]:
    """(path, class qualname) of the facade classes and their project base classes."""
    sites: set[tuple[str, str]] = set()
    for dotted in classes:
        value = project.lookup(dotted)
        if value is None or value[0] != "class":
            continue
        for class_id in project.mro(value[1]):
            cls = project.classes[class_id]
            sites.add((cls.path, class_id[len(cls.module) + 1 :]))
    return sorted(sites)


def tests_started(output: Path) -> int:
    total = 0
    for progress in output.glob("progress-*"):
        try:
            text = progress.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total += int(text)
    return total


# --- from raw records to function ids ---------------------------------------------------------------


def _implicit(qualname: str) -> bool:
    """A special method Python calls by itself (``__getattribute__``, ``__eq__``, ``__enter__``…): the
    trace sees it run, but no call in the source names it. ``__init__`` (a constructor call) and
    ``__call__`` (calling an object) have call sites, and stay."""
    name = qualname.rpartition(".")[2]
    return name.startswith("__") and name.endswith("__") and name not in ("__init__", "__call__")


def _is_property(function: FunctionSummary) -> bool:
    names = function.decorator_names()
    return bool(names & {"property", "functools.cached_property", "cached_property"}) or any(
        name.endswith((".setter", ".getter", ".deleter")) for name in names
    )


def _enclosing(qualname: str) -> str:
    parts = qualname.split(".")
    while len(parts) >= 2 and parts[-1] in _INNER_SCOPES and parts[-2] == "<locals>":
        parts = parts[:-2]
    return ".".join(parts)


class _Ids:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.cache: dict[tuple[str, str, int], FunctionSummary | None] = {}

    def function(self, path: str | None, qualname: str, first_line: int) -> FunctionSummary | None:
        if path is None:
            return None
        key = (path, qualname, first_line)
        if key not in self.cache:
            self.cache[key] = self._find(path, _enclosing(qualname), first_line, qualname)
        return self.cache[key]

    def _find(self, path: str, qualname: str, first_line: int, raw: str) -> FunctionSummary | None:
        if path not in self.project.modules or not qualname or qualname.endswith(">"):
            return None
        module = self.project.modules[path]
        matches = [f for f in module.functions.values() if f.qualname == qualname]
        if len(matches) <= 1 or raw != qualname:
            return matches[0] if matches else None
        # a redefinition (``f@12``): the one whose first line (its first decorator, or ``def``) this is
        for function in matches:
            if first_line in (function.line, *function.decorator_lines):
                return function
        return matches[0]


def collect(
    project: Project,
    output: Path,
    *,
    root: Path,
    command: Sequence[str],
    returncode: int | None,
    seconds: float,
) -> Trace:
    """Merge what every traced process wrote under ``output`` into one ``Trace`` keyed by function ids."""
    ids = _Ids(project)
    edges: dict[tuple[str, str, int, int | None], list[Any]] = {}
    timings: dict[tuple[str, int, str, str], list[float]] = {}
    unmapped = 0
    tracer = python = ""
    tests = 0
    for part in sorted(output.glob("trace-*.json")):
        try:
            document = json.loads(part.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        tracer, python = document.get("tracer", tracer), document.get("python", python)
        tests += int(document.get("tests", 0))
        for row in document.get("edges", ()):
            caller_path, caller_name, caller_line, callee_path, callee_name, callee_line, line, col = row[:8]
            end_line, end_col, count = row[8:11]
            if _enclosing(callee_name) != callee_name or _implicit(callee_name):
                continue  # a comprehension or lambda running, or a method Python calls on its own: no call site
            caller = ids.function(caller_path, caller_name, caller_line)
            callee = ids.function(callee_path, callee_name, callee_line)
            if caller is None or callee is None or line is None:
                unmapped += 1
                continue
            if _is_property(callee):
                continue  # read as an attribute: the source has no call there
            key = (caller.id, callee.id, int(line), col)
            if key in edges:
                edges[key][-1] += count
            else:
                edges[key] = [caller, callee, int(line), col, end_line, end_col, count]
        for row in document.get("facade_calls", ()):
            path, qualname, first_line, line, method, count, total, longest, blocking_count, blocking = row
            caller = ids.function(path, qualname, first_line)
            function = caller.id if caller is not None else qualname
            stats = timings.setdefault((path, int(line), method, function), [0, 0.0, 0.0, 0, 0.0])
            stats[0] += count
            stats[1] += total
            stats[2] = max(stats[2], longest)
            stats[3] += blocking_count
            stats[4] += blocking
    traced_edges = [
        TracedEdge(caller.id, callee.id, caller.path, line, col, end_line, end_col, callee.path, count)
        for caller, callee, line, col, end_line, end_col, count in edges.values()
    ]
    traced_edges.sort(key=lambda e: (e.path, e.line, e.col or 0, e.callee))
    facade = [
        FacadeTiming(path, line, function, method, int(s[0]), s[1], s[2], int(s[3]), s[4])
        for (path, line, method, function), s in timings.items()
    ]
    facade.sort(key=lambda t: (-t.blocking_seconds, -t.seconds, t.path, t.line))
    contributing = {e.path for e in traced_edges} | {e.callee_path for e in traced_edges} | {t.path for t in facade}
    files = {}
    for path in sorted(contributing):
        try:
            files[path] = digest((root / path).read_bytes())
        except OSError:
            continue
    return Trace(tuple(command), returncode, seconds, tracer, python, tests, files, traced_edges, facade, unmapped)


def static_edge_exists(project: Project, edge: TracedEdge) -> bool:
    """Does the static call graph have this edge: a call in the caller, on the traced line (within the
    traced call's span), that resolves to the callee?"""
    caller = project.functions.get(edge.caller)
    if caller is None:
        return False
    module = project.by_module[caller.module]
    for call in caller.calls:
        if not within(edge, call.line, call.col):
            continue
        resolved = project.resolve_call(call, caller, module)
        if resolved is not None and resolved.function is not None and resolved.function.id == edge.callee:
            return True
    return False


def within(edge: TracedEdge, line: int, col: int) -> bool:
    """Is the name token at (line, col) inside the traced call's source span?"""
    end_line = edge.end_line if edge.end_line is not None else edge.line
    if not edge.line <= line <= end_line:
        return False
    if edge.col is not None and line == edge.line and col < edge.col:
        return False
    return not (edge.end_col is not None and line == end_line and col >= edge.end_col)


@dataclass(frozen=True)
class BlockingTime:
    """Measured event-loop blocking of a call site or a file: seconds, and the calls that made it."""

    seconds: float
    calls: int
    total_seconds: float
    all_calls: int


def blocking_by_site(trace: Trace | None) -> dict[tuple[str, int, str], BlockingTime]:
    """(path, line, facade method) -> what the tests measured there."""
    if trace is None:
        return {}
    found: dict[tuple[str, int, str], BlockingTime] = {}
    for timing in trace.facade_calls:
        key = (timing.path, timing.line, timing.method)
        before = found.get(key, BlockingTime(0.0, 0, 0.0, 0))
        found[key] = BlockingTime(
            before.seconds + timing.blocking_seconds,
            before.calls + timing.blocking_count,
            before.total_seconds + timing.seconds,
            before.all_calls + timing.count,
        )
    return found


def blocking_by_file(trace: Trace | None) -> dict[str, float]:
    per_file: dict[str, float] = {}
    for timing in trace.facade_calls if trace else ():
        per_file[timing.path] = per_file.get(timing.path, 0.0) + timing.blocking_seconds
    return per_file
