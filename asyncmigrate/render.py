"""The only module that prints: Rich tables, progress bars and JSON documents."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from asyncmigrate.plan import Plan
from asyncmigrate.scan import ProgressCallback
from asyncmigrate.status import Progress as MigrationProgress
from asyncmigrate.types import FileStatus, ScanResult

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)

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


def note(message: str) -> None:
    stderr.print(escape(message), soft_wrap=True)


def print_json(document: Any) -> None:
    # Compact separators keep json on its C encoder: a scan of a large tree emits tens of
    # thousands of call sites, and indentation would cost seconds.
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")


@contextmanager
def progress_bar(description: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """A Rich progress bar on stderr; yields the callback the library reports progress through."""
    if not enabled or not stderr.is_terminal:
        yield lambda done, total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


# --- scan ---------------------------------------------------------------------------------------------


def scan_json(result: ScanResult) -> dict[str, Any]:
    calls = result.calls
    return {
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
    }


def scan_table(result: ScanResult, *, show_calls: bool = False) -> None:
    table = Table(title="Facade call sites", title_justify="left", show_lines=False)
    table.add_column("file", overflow="fold")
    table.add_column("phase", justify="right")
    table.add_column("status")
    table.add_column("calls", justify="right")
    table.add_column("blocking", justify="right")
    table.add_column("reach", justify="right")
    table.add_column("repositories")
    table.add_column("unmapped", style="yellow")
    for f in result.files:
        status = (
            Text(f.status.value, style=_STATUS_STYLE[f.status]) if f.status else Text("unplanned", style="bold red")
        )
        blocking = len(f.blocking)
        table.add_row(
            f.path,
            str(f.phase) if f.phase is not None else "-",
            status,
            str(len(f.calls)),
            Text(str(blocking), style="bold red") if blocking else Text("0", style="dim"),
            str(f.async_reach),
            ", ".join(f.repositories),
            ", ".join(f.unmapped),
        )
    stdout.print(table)
    if show_calls:
        for f in result.files:
            for c in f.calls:
                flag = " [bold red]blocks the event loop[/]" if c.blocks_event_loop else ""
                target = c.target or "[yellow]unmapped[/]"
                stdout.print(
                    f"{escape(c.path)}:{c.line}:{c.column + 1}: {escape(c.receiver)}.{c.method} -> {target} "
                    f"in {c.function}{flag} [dim]({c.resolution.value})[/]",
                    soft_wrap=True,
                )
    for f in result.errors:
        stdout.print(f"[red]{escape(f.path)}[/]: {escape(f.error or '')}", soft_wrap=True)
    calls = result.calls
    blocking = sum(1 for c in calls if c.blocks_event_loop)
    s = result.stats
    stdout.print(
        f"{len(calls)} call sites in {sum(1 for f in result.files if f.calls)} files; "
        f"[bold red]{blocking}[/] block the event loop; {sum(1 for c in calls if not c.mapped)} unmapped; "
        f"{len(result.errors)} unreadable. [dim]{s.files_seen} files seen, {s.files_parsed} parsed, "
        f"{s.cache_hits} from cache, {s.seconds:.2f} s[/]"
    )


# --- status -------------------------------------------------------------------------------------------


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else width
    return "█" * filled + "░" * (width - filled)


def status_view(plan: Plan, progress: MigrationProgress) -> None:
    for phase in progress.phases:
        pct = 100 * phase.migrated / phase.total if phase.total else 100.0
        stdout.print(
            f"[bold]Phase {phase.id}[/] {phase.name}  {_bar(phase.migrated, phase.total)} "
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
            table.add_row(
                str(phase.id),
                entry.path,
                status,
                entry.complexity,
                f"{entry.effort_minutes} min",
                entry.risk,
                ", ".join(entry.repositories),
            )
    stdout.print(table)
    stdout.print(
        f"[bold]{progress.migrated}/{progress.total}[/] files migrated, "
        f"{progress.effort_remaining_minutes / 60:.1f} h of estimated effort remaining"
    )
