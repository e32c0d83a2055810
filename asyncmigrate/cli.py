"""The Typer app: parse options, call the library, render, exit. Nothing else lives here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from asyncmigrate import render
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.facade import FacadeSpec
from asyncmigrate.plan import PLAN_FILENAME, Plan, atomic_write_text, find_plan, load_plan, record_status
from asyncmigrate.types import ExitCode, FileStatus

app = typer.Typer(
    name="asyncmigrate",
    help="Migrate a codebase from a synchronous persistence facade to async repositories.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(command: F) -> F:
    """A user's mistake becomes one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AsyncMigrateError as exc:
            render.error(str(exc))
            raise typer.Exit(ExitCode.USAGE) from None

    return wrapper  # type: ignore[return-value]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class FailOn(StrEnum):
    never = "never"
    blocking = "blocking"
    any = "any"


PlanOption = Annotated[
    Path | None,
    typer.Option("--plan", help=f"Plan file (default: {PLAN_FILENAME} here or in a parent directory)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="Output format.")]


def _load(plan_path: Path | None) -> Plan:
    return load_plan(plan_path if plan_path is not None else find_plan(Path.cwd()))


def _under(root: Path, given: str) -> str:
    """A command-line path as the scanner's root-relative form (absolute when outside the root)."""
    resolved = Path(given).resolve()
    if resolved.is_relative_to(root.resolve()):
        return resolved.relative_to(root.resolve()).as_posix() or "."
    return str(resolved)


def _relative_to_root(plan: Plan, given: str) -> str:
    path = Path(given)
    absolute = path if path.is_absolute() else (Path.cwd() / path)
    try:
        return absolute.resolve().relative_to(plan.root.resolve()).as_posix()
    except ValueError:
        raise AsyncMigrateError(f"{given}: outside the plan's directory {plan.root}") from None


@app.command()
@handles_errors
def scan(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files or directories (default: the plan's source and tests).")
    ] = None,
    plan_path: PlanOption = None,
    output: FormatOption = OutputFormat.table,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when blocking calls (or any calls) exist.")
    ] = FailOn.never,
    calls: Annotated[bool, typer.Option("--calls", help="List every call site under the table.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not update the cache.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes (default: all cores).")] = None,
    factory: Annotated[
        list[str] | None, typer.Option("--factory", help="Facade factory, when there is no plan.")
    ] = None,
    facade_class: Annotated[
        list[str] | None, typer.Option("--class", help="Facade class, when there is no plan.")
    ] = None,
    receiver: Annotated[
        list[str] | None, typer.Option("--receiver", help="Receiver name (last resort), when there is no plan.")
    ] = None,
) -> None:
    """Find every call that reaches the sync facade and say how hard each file is.

    Exit 0; 1 with --fail-on when such calls exist; 2 on bad input.
    """
    from asyncmigrate.scan import scan as run_scan

    plan: Plan | None
    if factory:
        plan = None
        spec = FacadeSpec(frozenset(factory), frozenset(facade_class or ()), frozenset(receiver or ()), frozenset())
        root = Path.cwd()
    else:
        plan = _load(plan_path)
        spec = FacadeSpec.from_plan(plan)
        root = plan.root
    relative = [_under(root, p) for p in paths] if paths else None
    with render.progress_bar("Scanning") as progress:
        result = run_scan(root, spec, paths=relative, plan=plan, use_cache=not no_cache, progress=progress, jobs=jobs)
    if output is OutputFormat.json:
        render.print_json(render.scan_json(result))
    else:
        render.scan_table(result, show_calls=calls)
    calls_found = result.calls
    if fail_on is FailOn.any and calls_found:
        raise typer.Exit(ExitCode.FINDINGS)
    if fail_on is FailOn.blocking and any(c.blocks_event_loop for c in calls_found):
        raise typer.Exit(ExitCode.FINDINGS)


@app.command()
@handles_errors
def init(
    factory: Annotated[
        list[str] | None, typer.Option("--factory", help="Qualified name of a facade factory (repeatable).")
    ] = None,
    facade_class: Annotated[
        list[str] | None, typer.Option("--class", help="Qualified name of the facade class (repeatable).")
    ] = None,
    receiver: Annotated[
        list[str] | None, typer.Option("--receiver", help="Names that conventionally hold the facade (repeatable).")
    ] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="Source directory (repeatable).")] = None,
    tests: Annotated[list[str] | None, typer.Option("--tests", help="Tests directory (repeatable).")] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Path pattern to leave out, e.g. the facade itself (repeatable)."),
    ] = None,
    phase: Annotated[
        list[str] | None, typer.Option("--phase", help='Phase rule "NAME=PATTERN[,PATTERN]", in order (repeatable).')
    ] = None,
    first_phase: Annotated[int, typer.Option("--first-phase", help="Number of the first phase.")] = 1,
    output_path: Annotated[Path, typer.Option("--output", "-o", help="Where to write the plan.")] = Path(PLAN_FILENAME),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing plan.")] = False,
) -> None:
    """Write migration_plan.yaml from a scan, assigning files to phases by path rules.

    Exit 0; 2 when the plan exists (without --force) or the input is bad.
    """
    from asyncmigrate.init import PhaseRule, build_plan_document
    from asyncmigrate.scan import scan as run_scan

    if output_path.exists() and not force:
        raise AsyncMigrateError(f"{output_path} already exists (use --force to overwrite it)")
    if not factory:
        raise AsyncMigrateError("init needs at least one --factory (e.g. --factory app.db.get_db)")
    rules = [PhaseRule.parse(text) for text in phase or []]
    root = output_path.resolve().parent
    spec = FacadeSpec(frozenset(factory), frozenset(facade_class or ()), frozenset(receiver or ()), frozenset())
    source_dirs = source or ["."]
    test_dirs = tests or []
    excluded = exclude or []
    with render.progress_bar("Scanning") as progress:
        result = run_scan(root, spec, paths=[*source_dirs, *test_dirs], exclude=excluded, progress=progress)
    reports = list(result.files)
    text = build_plan_document(
        reports,
        factories=factory,
        classes=facade_class or [],
        receiver_names=receiver or [],
        source=source_dirs,
        tests=test_dirs,
        exclude=excluded,
        rules=rules,
        first_phase=first_phase,
    )
    atomic_write_text(output_path, text)
    files = sum(1 for r in reports if r.calls)
    render.note(f"wrote {output_path}: {files} files with facade calls; fill in repositories and mappings")


@app.command()
@handles_errors
def status(
    plan_path: PlanOption = None,
    phase: Annotated[int | None, typer.Option("--phase", help="Only this phase.")] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Progress per phase: files migrated, effort remaining, and each file's status. Exit 0; 2 on bad input."""
    from asyncmigrate.status import progress, status_json

    plan = _load(plan_path)
    result = progress(plan, phase)
    if output is OutputFormat.json:
        render.print_json(status_json(plan, result))
    else:
        render.status_view(plan, result)


@app.command()
@handles_errors
def mark(
    file: Annotated[str, typer.Argument(help="A file in the plan.")],
    status_value: Annotated[FileStatus, typer.Option("--status", help="The new status.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the file's history).")] = None,
    plan_path: PlanOption = None,
) -> None:
    """Set a file's status by hand, e.g. --status skipped --reason "scheduled for removal". Exit 0; 2 on bad input."""
    plan = _load(plan_path)
    path = _relative_to_root(plan, file)
    if plan.entry(path) is None:
        raise AsyncMigrateError(f"{file}: not in {plan.path.name}")
    if status_value is FileStatus.SKIPPED and not reason:
        raise AsyncMigrateError("--status skipped needs a --reason (the plan keeps it in the history)")
    event: dict[str, Any] = {"action": "mark"}
    if reason:
        event["reason"] = reason
    record_status(plan, path, status_value, event, reason=reason)
    render.note(f"{path}: {status_value.value}")


def main() -> None:
    app()
