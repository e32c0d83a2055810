"""The only module that prints: Rich tables, progress bars and JSON documents."""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asyncmigrate.types import CallSite, FileStatus, ScanResult

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.tree import Tree

    # Types only: importing these at run time would load the call graph, the transactions and the
    # whole library for every command, `asyncmigrate --help` included.
    from asyncmigrate.analysis.pool import ProgressCallback
    from asyncmigrate.analysis.trace import BlockingTime
    from asyncmigrate.checks.check import CheckResult
    from asyncmigrate.config.plan import Plan
    from asyncmigrate.migration.propagate import Blocker, TracedUse
    from asyncmigrate.reporting.status import Progress as MigrationProgress
    from asyncmigrate.workflow.apply import ApplyResult, ComputedChange
    from asyncmigrate.workflow.commit import RollbackResult
    from asyncmigrate.workflow.testrun import TestRun
    from asyncmigrate.workflow.tracerun import TraceRun


class _LazyConsole:
    """A Rich console made when first used: a command that prints only JSON never imports Rich
    (a third of the start-up of ``scan --format json``, which runs as a pre-commit hook)."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


stdout = _LazyConsole(stderr=False)
stderr = _LazyConsole(stderr=True)


def escape(text: str) -> str:
    """Rich markup's escape, imported with Rich when first needed."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


_STATUS_STYLE = {
    FileStatus.PENDING: "dim",
    FileStatus.IN_PROGRESS: "yellow",
    FileStatus.MIGRATED: "cyan",
    FileStatus.VERIFIED: "green",
    FileStatus.FAILED: "red",
    FileStatus.BLOCKED: "magenta",
    FileStatus.SKIPPED: "blue",
}


def error(message: str) -> None:
    stderr.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def usage_error(command_path: str, message: str) -> None:
    """A command-line mistake found by the option parser: ``asyncmigrate apply: error: ...``."""
    stderr.print(f"{escape(command_path)}: error: {escape(message)}", soft_wrap=True, highlight=False)


def note(message: str) -> None:
    stderr.print(escape(message), soft_wrap=True)


def print_json(document: Any) -> None:
    # Compact separators keep json on its C encoder: a scan of a large tree emits tens of
    # thousands of call sites, and indentation would cost seconds.
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")


def _stderr_may_be_a_terminal() -> bool:
    """False when Rich would certainly say stderr is no terminal (a pipe, a file, CI's log, a hook),
    answered without loading Rich; Rich decides the rest (``Console.is_terminal``)."""
    if os.environ.get("TTY_COMPATIBLE") == "1" or os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


@contextmanager
def progress_bar(description: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """A Rich progress bar on stderr; yields the callback the library reports progress through."""
    if not enabled or not _stderr_may_be_a_terminal() or not stderr.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr.console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _print_wide(renderable: Table | Tree) -> None:
    """A terminal gets a table or tree at its width; a pipe or file gets each row on one line, however
    long, so that grep and CI logs see whole paths rather than paths folded or cut at 80 columns."""
    from rich.console import Console

    if stdout.is_terminal:
        stdout.print(renderable)
        return
    needed = _table_width_bound(renderable)
    if needed is None:
        from rich.measure import Measurement

        needed = Measurement.get(stdout.console, stdout.options.update(width=100_000), renderable).maximum
    # Console.print clamps its width to the console's, so a wider one prints it (a table that does not
    # expand takes its own width within it)
    Console(highlight=False, width=max(needed, stdout.width)).print(renderable)


def _table_width_bound(renderable: Table | Tree) -> int | None:
    """At least the width a table of plain cells needs, read off its cells' text: Rich's measurement renders
    every cell, which costs as much as printing the table (a scan's 800 rows, half a second). None for
    anything else (a tree, a cell that is not text), which Rich then measures."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    if not isinstance(renderable, Table) or renderable.expand:
        return None
    _, right, _, left = renderable.padding
    total = len(renderable.columns) + 1  # the box's vertical lines, drawn or not
    for column in renderable.columns:
        widest = max(column.width or 0, column.min_width or 0)
        for cell in (column.header, *column.cells):
            if not isinstance(cell, Text | str):
                return None
            text = (cell.plain if isinstance(cell, Text) else cell).expandtabs(8)  # a tab is at most 8 cells
            widest = max(widest, *(cell_len(line) for line in text.split("\n")))
        total += widest + left + right
    return total


# --- scan ---------------------------------------------------------------------------------------------


def scan_json(result: ScanResult, measured: Measured | None = None) -> dict[str, Any]:
    calls = result.calls
    document = {
        "schema": "asyncmigrate.scan/v1",
        "root": result.root,
        "summary": {
            "files": sum(1 for f in result.files if f.calls),
            "call_sites": len(calls),
            "blocking": sum(1 for c in calls if c.blocks_event_loop),
            "unmapped": sum(1 for c in calls if not c.mapped),
            "errors": len(result.errors),
            "files_seen": result.stats.files_seen,
            "files_parsed": result.stats.files_parsed,
            "cache_hits": result.stats.cache_hits,
            "files_libcst": result.stats.files_libcst,
            "seconds": round(result.stats.seconds, 3),
        },
        "files": [
            {
                "path": f.path,
                "phase": f.phase,
                "status": f.status.value if f.status else None,
                "call_count": len(f.calls),
                "repositories": list(f.repositories),
                "unmapped": list(f.unmapped),
                "blocking": len(f.blocking),
                "async_reach": f.async_reach,
                "calls": [c.to_json() for c in f.calls],
            }
            for f in result.files
        ],
        "errors": [{"path": f.path, "error": f.error} for f in result.errors],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
    }
    if measured is not None:
        _measured_json(document, measured)
    return document


def _measured_json(document: dict[str, Any], measured: Measured) -> None:
    """The trace's timings added to a scan document: per call site and per file, ordered as asked."""
    total = 0.0
    for entry in document["files"]:
        file_seconds = 0.0
        for call in entry["calls"]:
            found = measured.sites.get((entry["path"], call["line"], call["method"]))
            if found is not None:
                call["measured"] = {
                    "calls": found.all_calls,
                    "seconds": round(found.total_seconds, 6),
                    "blocking_calls": found.calls,
                    "blocking_seconds": round(found.seconds, 6),
                }
                file_seconds += found.seconds
        entry["blocking_seconds"] = round(file_seconds, 6)
        total += file_seconds
        if measured.by_blocking_time:
            entry["calls"].sort(key=lambda c: -c.get("measured", {}).get("blocking_seconds", 0.0))
    if measured.by_blocking_time:
        document["files"].sort(key=lambda f: -f["blocking_seconds"])
    document["trace"] = {"stale": list(measured.stale), "blocking_seconds": round(total, 6)}


@dataclass(frozen=True)
class Measured:
    """What a trace of the tests measured, for the scan's table and JSON."""

    sites: Mapping[tuple[str, int, str], BlockingTime]  # (path, line, method) -> measured blocking
    stale: tuple[str, ...] = ()
    by_blocking_time: bool = False  # order files and call sites by measured blocking, longest first

    def site(self, call: CallSite) -> BlockingTime | None:
        return self.sites.get((call.path, call.line, call.method))

    def file_seconds(self, calls: Iterable[CallSite]) -> float:
        return sum(found.seconds for call in calls if (found := self.site(call)) is not None)


def scan_table(result: ScanResult, *, show_calls: bool = False, measured: Measured | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Facade call sites", title_justify="left", show_lines=False)
    table.add_column("file", overflow="fold")
    table.add_column("phase", justify="right")
    table.add_column("status")
    table.add_column("calls", justify="right")
    table.add_column("blocking", justify="right")
    table.add_column("reach", justify="right")
    table.add_column("repositories")
    table.add_column("unmapped", style="yellow")
    files = list(result.files)
    if measured is not None:
        table.add_column("blocking time", justify="right")
        if measured.by_blocking_time:
            files.sort(key=lambda f: -measured.file_seconds(f.calls))
    for f in files:
        status = (
            Text(f.status.value, style=_STATUS_STYLE[f.status]) if f.status else Text("unplanned", style="bold red")
        )
        blocking = len(f.blocking)
        row: list[str | Text] = [
            Text(f.path),  # a Text, not a str: Rich would read "app/[tenant]/views.py" as markup
            str(f.phase) if f.phase is not None else "-",
            status,
            str(len(f.calls)),
            Text(str(blocking), style="bold red") if blocking else Text("0", style="dim"),
            str(f.async_reach),
            Text(", ".join(f.repositories)),
            Text(", ".join(f.unmapped)),
        ]
        if measured is not None:
            row.append(_milliseconds(measured.file_seconds(f.calls)))
        table.add_row(*row)
    _print_wide(table)
    if show_calls:
        listed = [c for f in files for c in f.calls]
        if measured is not None and measured.by_blocking_time:
            listed.sort(key=lambda c: -(found.seconds if (found := measured.site(c)) else 0.0))
        for c in listed:
            flag = " [bold red]blocks the event loop[/]" if c.blocks_event_loop else ""
            target = escape(c.target) if c.target else "[yellow]unmapped[/]"
            found = measured.site(c) if measured is not None else None
            timing = (
                f" [red]measured: {_milliseconds(found.seconds)} blocking the loop over {found.calls} call(s)[/]"
                if found is not None and found.calls
                else ""
            )
            stdout.print(
                f"{escape(c.path)}:{c.line}:{c.column + 1}: {escape(c.receiver)}.{c.method} -> {target} "
                f"in {c.function}{flag}{timing} [dim]({c.resolution.value})[/]",
                soft_wrap=True,
            )
    for f in result.errors:
        stdout.print(f"[red]{escape(f.path)}[/]: {escape(f.error or '')}", soft_wrap=True)
    for entry in result.skipped:
        stdout.print(f"[yellow]{escape(entry.path)}[/]: skipped: {escape(entry.reason)}", soft_wrap=True)
    calls = result.calls
    blocking = sum(1 for c in calls if c.blocks_event_loop)
    s = result.stats
    skipped_note = f", {len(result.skipped)} skipped" if result.skipped else ""
    if measured is not None:
        if measured.stale:
            stale = escape(", ".join(measured.stale))
            stdout.print(f"[yellow]trace stale for {stale}: not measured[/]", soft_wrap=True)
        measured_total = measured.file_seconds(calls)
        stdout.print(f"measured by the trace: {_milliseconds(measured_total)} blocking the event loop during the tests")
    stdout.print(
        f"{len(calls)} call sites in {sum(1 for f in result.files if f.calls)} files; "
        f"[bold red]{blocking}[/] block the event loop; {sum(1 for c in calls if not c.mapped)} unmapped; "
        f"{len(result.errors)} unreadable{skipped_note}. [dim]{s.files_seen} files seen, {s.files_parsed} parsed, "
        f"{s.cache_hits} from cache, {s.seconds:.2f} s[/]",
        soft_wrap=True,
    )


# --- status -------------------------------------------------------------------------------------------


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else width
    return "█" * filled + "░" * (width - filled)


def status_view(plan: Plan, progress: MigrationProgress) -> None:
    from rich.table import Table
    from rich.text import Text

    for phase in progress.phases:
        pct = 100 * phase.migrated / phase.total if phase.total else 100.0
        stdout.print(
            f"[bold]Phase {phase.id}[/] {escape(phase.name)}  {_bar(phase.migrated, phase.total)} "
            f"{phase.migrated}/{phase.total} migrated ({pct:.0f}%), "
            f"{phase.effort_remaining_minutes / 60:.1f} h remaining"
        )
    table = Table(title_justify="left")
    table.add_column("phase", justify="right")
    table.add_column("file", overflow="fold")
    table.add_column("status")
    table.add_column("complexity")
    table.add_column("effort", justify="right")
    table.add_column("risk")
    table.add_column("repositories")
    for phase in progress.phases:
        for entry in phase.entries:
            status = Text(entry.status.value, style=_STATUS_STYLE[entry.status])
            if entry.reason:
                status.append(f" ({entry.reason})", style="dim")
            if entry.path in progress.missing:
                status.append(" (file missing)", style="bold red")
            table.add_row(
                str(phase.id),
                Text(entry.path),  # user text is never markup
                status,
                Text(entry.complexity),
                f"{entry.effort_minutes} min",
                Text(entry.risk),
                Text(", ".join(entry.repositories)),
            )
    _print_wide(table)
    stdout.print(
        f"[bold]{progress.migrated}/{progress.total}[/] files migrated, "
        f"{progress.effort_remaining_minutes / 60:.1f} h of estimated effort remaining"
    )


# --- rollback and test -------------------------------------------------------------------------------


def rollback_result(result: RollbackResult) -> None:
    for record in result.recovered:
        stdout.print(
            f"[yellow]recovered[/] {record.id} ({escape(record.label)}): an interrupted apply, "
            f"{len(record.files)} files put back"
        )
    if not result.restored:
        note("nothing to roll back: no apply of these files is recorded, or it was rolled back already")
        return
    for record in result.restored:
        stdout.print(f"[bold]restored[/] {record.id} ({escape(record.label)})")
        for path in record.files:
            how = "deleted (created by the apply)" if path in record.new_files else "restored"
            if path in record.displaced:
                how += f" [yellow](its later edits kept in .asyncmigrate/backups/{record.id}/displaced/)[/]"
            stdout.print(f"  {escape(path)}: {how}", soft_wrap=True)
    entries = ", ".join(result.entries) or "none"
    stdout.print(f"{len(result.files_restored)} files restored; back to pending: {escape(entries)}", soft_wrap=True)


def show_test_run(run: TestRun) -> None:
    from rich.text import Text

    if not run.ran:
        note("no tests cover these files; nothing was run")
        return
    stdout.print(f"[bold]tests:[/] {escape(' '.join(run.test_paths))}", soft_wrap=True)
    stdout.print(f"[bold]command:[/] {escape(shlex.join([*run.command, *run.test_paths]))}", soft_wrap=True)
    if run.passed:
        stdout.print(f"[green]passed[/] in {run.duration:.1f} s")
        return
    stdout.print(Text(run.output_tail), soft_wrap=True)
    stdout.print(f"[bold red]failed[/] (exit code {run.returncode}) in {run.duration:.1f} s")


# --- report and check -----------------------------------------------------------------------------


def document(text: str) -> None:
    """A whole report (markdown, JSON, JUnit, SARIF) on stdout, exactly as built."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def check_findings(result: CheckResult) -> None:
    """``file:line: kind: message`` per finding (what CI logs and editors parse), the fix indented below."""
    from rich.text import Text

    # Text, not markup: paths and messages are printed verbatim (no markup, no :emoji: codes). Rich's
    # cost is per print and per line, and a pre-commit hook on a large tree may list thousands: a pipe
    # or a file gets what Rich would write there (no style, control codes stripped) in one write.
    if not stdout.is_terminal:
        from rich.control import strip_control_codes

        lines = (f"{f}\n    fix: {f.fix}\n" if f.fix else f"{f}\n" for f in result.findings)
        sys.stdout.write(strip_control_codes("".join(lines)))
        sys.stdout.flush()
    else:
        listing = Text()
        for finding in result.findings:
            listing.append(f"{finding}\n")
            if finding.fix:
                listing.append(f"    fix: {finding.fix}\n", style="dim")
        if listing:
            stdout.print(listing, soft_wrap=True, end="")
    _check_summary(result)


def workflow_commands(commands: list[str], result: CheckResult) -> None:
    """``check --format github``: the workflow commands on stdout (the runner reads them), the summary on stderr."""
    for command in commands:
        sys.stdout.write(command + "\n")
    sys.stdout.flush()
    _check_summary(result)


def _check_summary(result: CheckResult) -> None:
    if result.ok:
        listed = f"{len(result.findings)} accepted doubt(s) listed" if result.findings else "no findings"
        stderr.print(f"[green]check passed[/]: {listed}", soft_wrap=True)
        return
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(result.counts().items()))
    stderr.print(f"[bold red]check failed[/]: {len(result.findings)} findings ({kinds})", soft_wrap=True)


# --- apply and graph ----------------------------------------------------------------------------------


def change_summary(change: ComputedChange) -> None:
    """What an apply does (or would do): files, functions made async, resolutions, blockers."""
    changed = change.changed
    stdout.print(
        f"[bold]{escape(', '.join(change.targets))}[/]: {len(change.rewritten)} call site(s) rewritten, "
        f"{len(change.propagation.async_functions)} function(s) made async, {len(changed)} file(s) touched",
        soft_wrap=True,
    )
    for edit in changed:
        stdout.print(f"  [cyan]{escape(edit.path)}[/]", soft_wrap=True)
    for call in change.unmapped:
        where = f"{escape(call.path)}:{call.line}"
        stdout.print(f"  [yellow]unmapped[/] {where}: {escape(call.method)} stays on the facade")
    for resolution in change.propagation.resolutions:
        stdout.print(f"  [green]resolved[/] {escape(resolution)}", soft_wrap=True)
    for accepted in change.propagation.accepted_doubts:
        stdout.print(f"  [yellow]accepted doubt[/] {escape(accepted.describe())}", soft_wrap=True)
    for use in change.propagation.traced:
        stdout.print(f"  [blue]traced[/] {escape(use.describe())}", soft_wrap=True)
    for caution in change.cautions:
        stdout.print(
            f"  [yellow]caution[/] {escape(caution.describe())}\n    [green]fix:[/] {escape(caution.fix)}",
            soft_wrap=True,
        )
    if change.blockers:
        stdout.print(f"[magenta bold]{len(change.blockers)} blocker(s): nothing is written[/]")
        for blocker in change.blockers:
            blocker_lines(blocker)


def blocker_lines(blocker: Blocker) -> None:
    """One blocker as a short block: where and what, the chain that reaches it, the suggested fix."""
    stdout.print(
        f"[magenta]blocked[/] {escape(blocker.path)}:{blocker.line} [dim]{escape(blocker.kind)}[/]: "
        f"{escape(blocker.message)}",
        soft_wrap=True,
    )
    stdout.print(f"  [dim]chain:[/] {escape(' → '.join(blocker.chain))}", soft_wrap=True)
    stdout.print(f"  [green]fix:[/] {escape(blocker.fix)}", soft_wrap=True)


def unified_diff(change: ComputedChange) -> None:
    """A syntax-highlighted unified diff of every file the change touches."""
    import difflib

    from rich.syntax import Syntax

    for edit in change.changed:
        before = edit.before.decode("utf-8", errors="replace").splitlines(keepends=True)
        after = edit.after.decode("utf-8", errors="replace").splitlines(keepends=True)
        text = "".join(difflib.unified_diff(before, after, f"a/{edit.path}", f"b/{edit.path}"))
        if stdout.is_terminal:
            stdout.print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))
        else:  # piped into a file or `patch`: the plain diff, never re-wrapped
            stdout.out(text, end="", highlight=False)


def apply_outcome(result: ApplyResult) -> None:
    from rich.text import Text

    target = ", ".join(result.change.targets)
    status = result.status
    if status is None:
        stdout.print(f"{escape(target)}: nothing written")
        return
    style = _STATUS_STYLE.get(status, "")
    detail = ""
    if result.test_paths:
        detail = f" ({len(result.test_paths)} test module(s) {'passed' if result.test_passed else 'failed'})"
    stdout.print(f"{escape(target)}: [{style}]{status.value}[/]{detail}")
    if status is FileStatus.FAILED and result.test_output:
        stderr.print(Text(result.test_output))
        stdout.print("  every file of the apply was restored")


def propagation_tree(
    title: str,
    async_functions: dict[str, tuple[str, ...]],
    blockers: list[Blocker],
    sites: dict[str, tuple[str, int, str]] | None = None,
    traced: set[str] | None = None,
) -> None:
    from rich.tree import Tree

    sites = sites or {}
    traced = traced or set()

    def label(function: str) -> str:
        mark = "  [blue]traced[/]" if function in traced else ""
        if function in sites:
            path, line, qualname = sites[function]
            return f"async def [cyan]{escape(qualname)}[/]  [dim]{escape(path)}:{line}[/]{mark}"
        return f"async def [cyan]{escape(function)}[/]{mark}"

    root = Tree(f"[bold]{escape(title)}[/]")
    nodes: dict[str, Any] = {}
    for function, chain in sorted(async_functions.items(), key=lambda item: len(item[1])):
        parent = nodes.get(chain[-2]) if len(chain) > 1 else None
        nodes[function] = (parent or root).add(label(function))
    for blocker in blockers:
        parent = next((nodes[f] for f in reversed(blocker.chain) if f in nodes), root)
        parent.add(f"[magenta]blocked[/] {escape(blocker.describe())}\n[green]fix:[/] {escape(blocker.fix)}")
    _print_wide(root)
    stdout.print(f"{len(async_functions)} function(s) turn async; {len(blockers)} blocker(s)")


def propagation_json(
    title: str,
    async_functions: dict[str, tuple[str, ...]],
    blockers: list[Blocker],
    traced: list[TracedUse] | None = None,
) -> dict[str, Any]:
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for function, chain in async_functions.items():
        if len(chain) > 1 and chain[-2] in async_functions:
            children.setdefault(chain[-2], []).append(function)
        else:
            roots.append(function)

    def node(function: str) -> dict[str, Any]:
        return {"function": function, "callers": [node(c) for c in sorted(children.get(function, []))]}

    return {
        "root": title,
        "tree": [node(r) for r in sorted(roots)],
        "functions_made_async": sorted(async_functions),
        "blockers": [b.to_json() for b in blockers],
        "traced": [t.to_json() for t in traced or ()],
    }


# --- trace --------------------------------------------------------------------------------------------


@contextmanager
def trace_progress() -> Iterator[Callable[[int], None]]:
    """A spinner with the elapsed time and the number of tests started, while the traced command runs."""
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    if not stderr.is_terminal:
        yield lambda tests: None
        return
    from rich.progress import SpinnerColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.fields[tests]} tests started"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr.console, transient=True) as spinner:
        task = spinner.add_task("Tracing the tests", total=None, tests=0)

        def update(tests: int) -> None:
            spinner.update(task, tests=tests)

        yield update


def trace_json(run: TraceRun) -> dict[str, Any]:
    trace = run.trace
    missing = set(run.static_missing)
    return {
        **trace.to_json(),
        "path": str(run.path),
        "edges": [{**edge.to_json(), "static": index not in missing} for index, edge in enumerate(trace.edges)],
        "summary": {
            "edges": len(trace.edges),
            "static_graph_lacks": len(missing),
            "facade_calls": sum(t.count for t in trace.facade_calls),
            "blocking_calls": sum(t.blocking_count for t in trace.facade_calls),
            "blocking_seconds": round(sum(t.blocking_seconds for t in trace.facade_calls), 6),
        },
    }


def trace_summary(run: TraceRun, *, limit: int = 10) -> None:
    """After a trace: what it saw, the edges the static call graph lacks, and the calls that blocked the loop."""
    from rich.table import Table
    from rich.text import Text

    trace = run.trace
    document = trace_json(run)["summary"]
    table = Table(title="Trace", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("tests started", str(trace.tests))
    table.add_row("call edges traced", str(document["edges"]))
    table.add_row("edges the static call graph lacks", str(document["static_graph_lacks"]))
    table.add_row("facade calls", str(document["facade_calls"]))
    table.add_row("facade calls on a running event loop", str(document["blocking_calls"]))
    table.add_row("time blocking the event loop", f"{document['blocking_seconds']:.3f} s")
    _print_wide(table)
    for index in run.static_missing[:limit]:
        edge = trace.edges[index]
        stdout.print(
            f"  [yellow]traced only[/] {escape(edge.path)}:{edge.line}: {escape(edge.caller)} → {escape(edge.callee)}",
            soft_wrap=True,
        )
    if len(run.static_missing) > limit:
        stdout.print(f"  … and {len(run.static_missing) - limit} more (--format json lists them all)")
    blocking = [t for t in trace.facade_calls if t.blocking_count][:limit]
    if blocking:
        top = Table(title="Facade calls that blocked the event loop", title_justify="left")
        for name, justify in (
            ("call site", "left"),
            ("method", "left"),
            ("calls", "right"),
            ("blocking", "right"),
            ("max", "right"),
        ):
            top.add_column(name, justify=justify)  # type: ignore[arg-type]
        for t in blocking:
            top.add_row(
                Text(f"{t.path}:{t.line}"),  # user text is never markup
                Text(t.method),
                str(t.blocking_count),
                f"{t.blocking_seconds * 1000:.1f} ms",
                f"{t.max_seconds * 1000:.1f} ms",
            )
        _print_wide(top)
    outcome = "passed" if trace.returncode == 0 else f"failed (exit {trace.returncode}); see {escape(str(run.log))}"
    stdout.print(
        f"traced with {trace.tracer} (Python {trace.python}) in {trace.seconds:.1f} s; the command {outcome}; "
        f"saved {escape(str(run.path))}",
        soft_wrap=True,
    )
