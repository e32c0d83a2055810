"""The migration gate: what must not regress while a migration runs over many pull requests.

Each finding kind is one small function taking a ``CheckContext`` and yielding ``Finding``s; ``CHECKS``
lists them in the order they run. A new kind is one more function and one more entry there. The scan
every kind shares is made lazily, once, so a kind that needs none (a missing planned file) costs none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asyncmigrate.analysis.discovery import discover_tree, shared_walks
from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.analysis.pool import ProgressCallback
from asyncmigrate.analysis.scan import default_paths
from asyncmigrate.analysis.scan import scan as run_scan
from asyncmigrate.checks.unawaited import POSSIBLY_UNAWAITED_ASYNC_CALL as POSSIBLY_UNAWAITED_ASYNC_CALL
from asyncmigrate.checks.unawaited import UNAWAITED_ASYNC_CALL as UNAWAITED_ASYNC_CALL
from asyncmigrate.config.plan import Plan, keep_plan
from asyncmigrate.types import CallSite, FileStatus, ScanResult, ScanStats

if TYPE_CHECKING:
    from asyncmigrate.analysis.callgraph import Project, SharedSummaries

# The kinds, as printed in ``file:line: kind: message``; stable, since CI logs and tools match on them.
MIGRATED_FILE_CALLS_FACADE = "migrated-file-calls-facade"
UNPLANNED_FACADE_CALL = "unplanned-facade-call"
PLANNED_FILE_MISSING = "planned-file-missing"
ACCEPTED_DOUBT = "accepted-doubt"
# Listed, but not a failure: the plan accepts them with a reason. They stay listed while the code still
# has the doubt, so the acceptance is seen at every run and goes away only with the doubt itself.
NON_FAILING = frozenset({ACCEPTED_DOUBT})


@dataclass(frozen=True, order=True)
class Finding:
    """One thing the gate rejects: ``line`` is 1-based, ``column`` 0-based (as in ``scan --format json``)."""

    path: str
    line: int
    column: int
    kind: str
    message: str
    fix: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "message": self.message,
            "fix": self.fix,
        }


# Finding's order (its compared fields, in order) as a sort key.
FINDING_ORDER = attrgetter("path", "line", "column", "kind", "message")


def scan_paths(plan: Plan) -> tuple[list[str], list[str]]:
    """The plan's source and tests directories split into (existing, missing)."""
    existing: list[str] = []
    missing: list[str] = []
    for relative in default_paths(plan):
        (existing if (plan.root / relative).exists() else missing).append(relative)
    return existing, missing


def scan_plan(
    plan: Plan,
    *,
    use_cache: bool = True,
    progress: ProgressCallback | None = None,
    shared: SharedSummaries | None = None,
) -> ScanResult:
    """Scan the plan's source and tests; a missing directory is left out here and reported by ``check``.
    ``shared``: the call graph is built next, from the module summaries the scan's parses make."""
    existing, _ = scan_paths(plan)
    if not existing:  # nothing to scan; never fall back to scanning the whole root
        return ScanResult(str(plan.root), (), (), ScanStats(0, 0, 0, 0, 0.0))
    spec = FacadeSpec.from_plan(plan)
    return run_scan(plan.root, spec, paths=existing, plan=plan, use_cache=use_cache, progress=progress, shared=shared)


@dataclass
class CheckContext:
    """What a finding kind may look at: the plan (loaded without file checks), a lazy scan and a lazy
    call graph, each made once for every kind that needs it."""

    plan: Plan
    use_cache: bool = True
    progress: ProgressCallback | None = None
    # A kind run reads the call graph: each file the scan parses gives the graph its module summary from
    # the same parse (``SharedSummaries``), rather than being parsed again when the graph is built.
    reads_call_graph: bool = False
    _hints: dict[str, str | None] = field(default_factory=dict, repr=False)  # method -> fix (repository_fix)
    _shared: SharedSummaries | None = field(default=None, repr=False)

    @cached_property
    def scan(self) -> ScanResult:
        if self.reads_call_graph and "project" not in self.__dict__:
            from asyncmigrate.analysis.callgraph import SharedSummaries
            from asyncmigrate.config.modules import plan_layout

            self._shared = SharedSummaries(self.plan.root, plan_layout(self.plan), use_cache=self.use_cache)
        return scan_plan(self.plan, use_cache=self.use_cache, progress=self.progress, shared=self._shared)

    @cached_property
    def project(self) -> Project:
        """The call graph over the plan's existing source and tests directories (no exclusions: an
        excluded file can still call a project function)."""
        from asyncmigrate.analysis.callgraph import build_project
        from asyncmigrate.config.modules import plan_layout
        from asyncmigrate.frameworks import Frameworks

        existing, _ = scan_paths(self.plan)  # a missing directory is planned-file-missing's to report
        found = discover_tree(self.plan.root, existing, [])
        project = build_project(
            self.plan.root,
            found.files,
            use_cache=self.use_cache,
            layout=plan_layout(self.plan),
            frameworks=Frameworks.of_plan(self.plan),  # as apply builds it: a fixture is one with pytest on
            stats=found.stats,
            shared=self._shared,
        )
        self._shared = None  # taken: the summaries live in the project (and its cache) now
        if self.use_cache:
            keep_plan(self.plan)  # the tree has its cache directory now
        return project

    @cached_property
    def plan_file(self) -> str:
        """The plan's path as findings name it: relative to the plan's root, like every other path."""
        return self.plan.path.name

    def repository_hint(self, call: CallSite) -> str | None:
        """How a call would read once migrated, from the plan's mapping (None when unmapped)."""
        return self._repository_hint(call.method)

    def repository_fix(self, method: str) -> str | None:
        """The fix of a finding at a call of ``method``: its repository hint (None when unmapped). Asked
        once per call of tens of thousands, answered once per method."""
        try:
            return self._hints[method]
        except KeyError:
            hint = self._repository_hint(method)
            fix = self._hints[method] = f"use {hint}" if hint else None
            return fix

    def _repository_hint(self, method: str) -> str | None:
        mapping = self.plan.mappings.get(method)
        if mapping is None:
            return None
        repository = self.plan.repositories[mapping.repository]
        prefix = "await " if self.plan.awaits(method) else ""
        if repository.provider is None:  # only reachable through a received facade
            path = "".join(f".{part}" for part in repository.received_path or ())
            return f"{prefix}<received facade>{path}.{mapping.method}(...)"
        return f"{prefix}{repository.attribute}.{mapping.method}(...) from {repository.provider}()"


Check = Callable[[CheckContext], Iterable[Finding]]


def _call_finding(context: CheckContext, call: CallSite, kind: str, message: str, fallback_fix: str) -> Finding:
    fix = context.repository_fix(call.method) or fallback_fix
    return Finding(call.path, call.line, call.column, kind, message, fix)


def regressions(status: FileStatus | None, calls: Iterable[CallSite]) -> tuple[CallSite, ...]:
    """The calls that make a file regressed — the one definition ``check`` and every ``report`` format use:
    in a file marked migrated or verified, a facade call the plan maps to a repository method. A call the
    plan maps to ``null`` (or does not map) has no async counterpart yet: ``apply`` leaves it, by design."""
    if status is None or not status.is_done:
        return ()
    return tuple(call for call in calls if call.mapped)


def migrated_file_calls_facade(context: CheckContext) -> Iterator[Finding]:
    """A file marked migrated or verified makes a mapped facade call again: the migration regressed."""
    for report in context.scan.files:
        marked = report.status.value if report.status else ""
        for call in regressions(report.status, report.calls):
            yield _call_finding(
                context,
                call,
                MIGRATED_FILE_CALLS_FACADE,
                f"{call.receiver}.{call.method}() calls the sync facade in a file marked {marked}",
                "the plan has no async counterpart for this method; remove the call or map the method",
            )


def unplanned_facade_call(context: CheckContext) -> Iterator[Finding]:
    """The ratchet: a file the plan does not list (and does not exclude) starts calling the facade."""
    for report in context.scan.files:
        if report.phase is not None:
            continue
        fallback = f"add {report.path} to a phase of {context.plan_file}, or exclude it there"
        for call in report.calls:
            yield _call_finding(
                context,
                call,
                UNPLANNED_FACADE_CALL,
                f"{call.receiver}.{call.method}() calls the sync facade in a file the plan does not list",
                fallback,
            )


def planned_file_missing(context: CheckContext) -> Iterator[Finding]:
    """The plan names a file (or a source/tests directory) that no longer exists."""
    plan = context.plan
    lines: dict[str, int] | None = None  # read off the YAML document only when a file is missing
    for entry in plan.entries():
        if not (plan.root / entry.path).is_file():
            if lines is None:
                lines = _entry_lines(plan.document)
            yield Finding(
                context.plan_file,
                lines.get(entry.path, 1),
                0,
                PLANNED_FILE_MISSING,
                f"phase {entry.phase} lists {entry.path}, which does not exist",
                "remove the entry, or point it at the file's new path",
            )
    _, missing = scan_paths(plan)
    for directory in missing:
        yield Finding(
            context.plan_file,
            _top_key_line(plan.document, "tests" if directory in plan.tests else "source"),
            0,
            PLANNED_FILE_MISSING,
            f"the plan's directory {directory} does not exist",
            "fix the plan's source or tests",
        )


def _entry_lines(document: Any) -> dict[str, int]:
    """Each file entry's 1-based line in the plan, so a finding points at what to edit."""
    lines: dict[str, int] = {}
    for phase in _items(document, "phases"):
        for spec in _items(phase, "files"):
            path = spec.get("path") if isinstance(spec, dict) else None
            line = getattr(getattr(spec, "lc", None), "line", None)
            if isinstance(path, str) and isinstance(line, int):
                lines[path] = line + 1
    return lines


def _items(node: Any, key: str) -> list[Any]:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, list) else []


def _top_key_line(document: Any, key: str) -> int:
    try:
        return int(document.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def unawaited_async_calls(context: CheckContext) -> Iterator[Finding]:
    """A call to an ``async def`` function of the project whose coroutine is neither awaited nor handed to
    something that runs it; a method call on a receiver of unknown type that may reach one is the
    lower-confidence ``possibly-unawaited-async-call`` (see ``asyncmigrate.checks.unawaited``)."""
    from asyncmigrate.checks.unawaited import unawaited_calls

    facade_calls = [(c.path, c.line, c.method) for c in context.scan.calls]
    for call in unawaited_calls(context.plan, context.project, facade_calls, use_cache=context.use_cache):
        yield Finding(call.path, call.line, call.column, call.kind, call.message, call.fix)


def accepted_doubts(context: CheckContext) -> Iterator[Finding]:
    """A call the call graph cannot follow that may reach an async project function, which the plan
    accepts: by an ``accepted_doubts`` rule, or as recorded in a file's history when it was applied
    (matched by file, call, caller and callee, so the lines an apply adds do not lose it)."""
    from asyncmigrate.migration.doubts import acceptance_for, several_doubt, unresolved_doubt

    plan = context.plan
    recorded = _recorded_doubts(plan)
    if not plan.accepted_doubts and not recorded:
        return
    project = context.project
    asynchronous = {f.id for f in project.functions.values() if f.is_async}
    for function_id in sorted(asynchronous):
        function = project.functions[function_id]
        for module, caller, call, resolved in project.callers(function):
            doubt = unresolved_doubt(project, module, caller, call, resolved, function) or (
                several_doubt(project, module, caller, call, function, asynchronous)
                if resolved is not None and not call.awaited
                else None
            )
            if doubt is None:
                continue
            rule = acceptance_for(doubt, plan.accepted_doubts)
            reason = rule.reason if rule else recorded.get((doubt.path, doubt.call, doubt.caller, doubt.callee))
            if reason is None:
                continue
            yield Finding(
                doubt.path,
                doubt.line,
                doubt.col,
                ACCEPTED_DOUBT,
                f"{doubt.message()} (accepted: {reason})",
                "nothing to do while the acceptance holds; to have the call followed and awaited instead, "
                + doubt.fix().split("; or,", 1)[0],
            )


def _recorded_doubts(plan: Plan) -> dict[tuple[str, str, str, str], str]:
    """(path, call, caller, callee) -> reason, for every doubt an apply accepted, from the history."""
    found: dict[tuple[str, str, str, str], str] = {}
    for entry in plan.entries():
        for event in entry.history:
            for item in event.get("accepted_doubts") or ():
                if isinstance(item, dict):
                    key = (item.get("path"), item.get("call"), item.get("caller"), item.get("callee"))
                    if all(isinstance(part, str) for part in key):
                        found[(str(key[0]), str(key[1]), str(key[2]), str(key[3]))] = str(item.get("reason", ""))
    return found


# The kinds in the order they run. One more kind: write its function and add it here.
CHECKS: tuple[Check, ...] = (
    planned_file_missing,
    migrated_file_calls_facade,
    unplanned_facade_call,
    unawaited_async_calls,
    accepted_doubts,
)


def _reads_call_graph(plan: Plan, checks: Sequence[Check]) -> bool:
    """Will one of ``checks`` build the call graph (after the scan, where it reads both)?"""
    if unawaited_async_calls in checks:
        return True
    return accepted_doubts in checks and bool(plan.accepted_doubts or _recorded_doubts(plan))


@dataclass(frozen=True)
class CheckResult:
    plan: Path
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(finding.kind in NON_FAILING for finding in self.findings)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        return counts


def check(
    plan: Plan,
    *,
    checks: Sequence[Check] = CHECKS,
    use_cache: bool = True,
    progress: ProgressCallback | None = None,
) -> CheckResult:
    """Run every finding kind over the plan's codebase; findings come sorted by file, line and kind."""
    reads_call_graph = _reads_call_graph(plan, checks)
    context = CheckContext(plan, use_cache=use_cache, progress=progress, reads_call_graph=reads_call_graph)
    with shared_walks():  # the scan and the call graph walk the same directories; nothing here writes there
        # each kind's findings once, in the order found: mostly runs already sorted, which sort fast
        found = dict.fromkeys(finding for kind in checks for finding in kind(context))
    # A doubt the plan accepts is that call's verdict: the weaker "possibly unawaited" guess at the same
    # call is the very doubt, already decided.
    accepted = {(f.path, f.line) for f in found if f.kind == ACCEPTED_DOUBT}
    findings = sorted(
        (f for f in found if not (f.kind == POSSIBLY_UNAWAITED_ASYNC_CALL and (f.path, f.line) in accepted)),
        key=FINDING_ORDER,  # the order Finding's comparison gives, without a Python call per comparison
    )
    return CheckResult(plan.path, tuple(findings))


def check_json(result: CheckResult) -> dict[str, object]:
    return {
        "schema": "asyncmigrate.check/v1",
        "plan": str(result.plan),
        "ok": result.ok,
        "counts": result.counts(),
        "findings": [finding.to_json() for finding in result.findings],
    }
