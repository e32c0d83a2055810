"""The Typer app: parse options, call the library, render, exit. Nothing else lives here."""

# No ``from __future__ import annotations`` here: Typer reads every command's parameters before it runs
# one, and string annotations made it evaluate each parameter's ``Annotated[...]`` four times (10 ms of
# every run, against 3 ms once they are objects). What only type checkers import is quoted.

import functools
import os
import signal
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

try:  # recent Typer carries its own copy of Click; older ones use Click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]

from asyncmigrate.config import PLAN_FILENAME
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.formats import COMMAND_FORMATS, OutputFormat, UnsupportedFormat, resolve_format
from asyncmigrate.types import ExitCode, FileStatus

if TYPE_CHECKING:
    from asyncmigrate import render
    from asyncmigrate.config.plan import Plan

# The library, Rich and the plan's YAML load in the commands that use them, not at start-up: a quick
# command (``scan`` and ``check`` run as pre-commit hooks) pays only for what it runs.


class OneLineErrors(TyperGroup):
    """Click's usage errors (unknown option, missing argument, bad choice) as one line on stderr and
    exit 2, like every other bad input, instead of Rich's boxed panel: CI logs and scripts read lines."""

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        name = prog_name or "asyncmigrate"  # not "python -m asyncmigrate" or "__main__.py"
        args = _shell_optional(list(sys.argv[1:] if args is None else args))
        if os.environ.get(complete_var or f"_{name.upper()}_COMPLETE"):
            from typer._completion_classes import completion_init

            completion_init()  # the shell asks for completions: Typer's classes answer in its script's format
        if not standalone_mode:
            return super().main(args, name, complete_var, False, windows_expand_args, **extra)
        try:
            code = super().main(args, name, complete_var, False, windows_expand_args, **extra)
        except click_errors.NoArgsIsHelpError as exc:
            exc.show()  # bare `asyncmigrate`: the help text is the answer
            sys.exit(exc.exit_code)
        except click_errors.ClickException as exc:
            where = exc.ctx.command_path if isinstance(exc, click_errors.UsageError) and exc.ctx else name
            message = " ".join(exc.format_message().split()).replace("Value error, ", "")
            from asyncmigrate import render

            render.usage_error(where, message)
            sys.exit(exc.exit_code)
        except typer.Abort:
            from asyncmigrate import render

            render.note("Aborted!")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="asyncmigrate",
    cls=OneLineErrors,
    help="Migrate a codebase from a synchronous persistence facade to async repositories.",
    no_args_is_help=True,
    add_completion=False,  # our own --install-completion/--show-completion below take an optional SHELL
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    from asyncmigrate import render

    if value:
        from asyncmigrate import installed_version

        render.document(f"asyncmigrate {installed_version()}")
        raise typer.Exit(ExitCode.OK)


def _completion(action: str) -> Callable[[typer.Context, typer.CallbackParam, str | None], None]:
    """Typer's own completion callbacks, with the shell optional: ``--show-completion zsh`` prints the zsh
    script wherever it runs; a bare ``--show-completion`` detects the shell it runs in."""

    def callback(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> None:
        if value is None or ctx.resilient_parsing:
            return
        from typer import completion
        from typer._completion_classes import completion_init
        from typer._completion_shared import Shells, _get_shell_name

        completion_init()
        shells = [s.value for s in Shells]
        if not value:  # detect it here, so a shell Typer cannot serve is one line and exit 2 like any bad input
            value = _get_shell_name() or ""
            if value not in shells:
                found = f" (found {value!r})" if value else ""
                raise typer.BadParameter(f"cannot tell which shell this is{found}; name it: one of {', '.join(shells)}")
        if value not in shells:
            raise typer.BadParameter(f"{value!r} is not a supported shell (shells: {', '.join(shells)})")
        handler = completion.show_callback if action == "show" else completion.install_callback
        handler(ctx, param, value)

    return callback


_COMPLETION_OPTIONS = ("--install-completion", "--show-completion")


def _shell_optional(args: list[str]) -> list[str]:
    """A bare ``--show-completion`` (Typer's form: the current shell) is given an empty SHELL, since the
    option takes one (``--show-completion zsh``) and Typer has no options whose value may be left out."""
    for index in range(len(args) - 1, -1, -1):
        if args[index] in _COMPLETION_OPTIONS and (index + 1 == len(args) or args[index + 1].startswith("-")):
            args.insert(index + 1, "")
    return args


def _completion_option(action: str, help_text: str) -> Any:
    return typer.Option(
        f"--{action}-completion",
        callback=_completion(action),
        expose_value=False,
        is_eager=True,
        metavar="[SHELL]",
        help=help_text,
    )


@app.callback()
def _main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit."),
    ] = False,
    install_completion: Annotated[
        str | None,
        _completion_option(
            "install", "Install completion for SHELL (bash, zsh, fish, powershell, pwsh; default: the current shell)."
        ),
    ] = None,
    show_completion: Annotated[
        str | None,
        _completion_option("show", "Print the completion script for SHELL (default: the current shell)."),
    ] = None,
) -> None:
    """Migrate a codebase from a synchronous persistence facade to async repositories."""


F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(command: F) -> F:
    """A user's mistake becomes one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AsyncMigrateError as exc:
            from asyncmigrate import render

            render.error(str(exc))
            raise typer.Exit(ExitCode.USAGE) from None

    return wrapper  # type: ignore[return-value]


class FailOn(StrEnum):
    never = "never"
    blocking = "blocking"
    any = "any"


PlanOption = Annotated[
    Path | None,
    typer.Option("--plan", help=f"Plan file (default: {PLAN_FILENAME} here or in a parent directory)."),
]


def format_option(command: str) -> Any:
    """``--format`` for ``command``: one vocabulary (asyncmigrate/formats.py), each command its subset."""
    choices = [f.value for f in COMMAND_FORMATS[command]]

    def parse(given: str | OutputFormat) -> OutputFormat:
        if isinstance(given, OutputFormat):  # the default, already resolved
            return given
        try:
            chosen, deprecation = resolve_format(command, given)
        except UnsupportedFormat as exc:
            raise typer.BadParameter(str(exc)) from None
        if deprecation:
            from asyncmigrate import render

            render.note(deprecation)
        return chosen

    return typer.Option(
        "--format",
        parser=parse,
        metavar="|".join(choices),
        autocompletion=lambda incomplete: [c for c in choices if c.startswith(incomplete)],
        help=f"Output format: {', '.join(choices)}.",
    )


def _load(plan_path: Path | None) -> "Plan":
    from asyncmigrate.config.plan import find_plan, load_plan

    return load_plan(plan_path if plan_path is not None else find_plan(Path.cwd()))


def _resolve(path: Path, given: str) -> Path:
    try:
        resolved = path.resolve()
        if resolved.is_symlink():
            # Python 3.13's resolve() leaves a loop unresolved instead of raising; stat says ELOOP.
            os.stat(resolved)
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop
        raise AsyncMigrateError(f"{given}: a symlink loop") from None
    return resolved


def _under(root: Path, given: str) -> str:
    """A command-line path as the scanner's root-relative form (absolute when outside the root)."""
    resolved = _resolve(Path(given), given)
    if resolved.is_relative_to(root.resolve()):
        return resolved.relative_to(root.resolve()).as_posix() or "."
    return str(resolved)


def _relative_to_root(plan: "Plan", given: str) -> str:
    path = Path(given)
    absolute = path if path.is_absolute() else (Path.cwd() / path)
    try:
        return _resolve(absolute, given).relative_to(plan.root.resolve()).as_posix()
    except ValueError:
        raise AsyncMigrateError(f"{given}: outside the plan's directory {plan.root}") from None


class ScanSort(StrEnum):
    path = "path"
    blocking_time = "blocking-time"


def _measured(root: Path, by_blocking_time: bool) -> "render.Measured | None":
    """The trace's timings for the scan: None without a trace (--sort blocking-time then needs one)."""
    from asyncmigrate import render
    from asyncmigrate.workspace.cache import trace_path

    if trace_path(root).is_file():  # the trace's module is loaded only when there is a trace to read
        from asyncmigrate.analysis.trace import blocking_by_site, trace_state

        state = trace_state(root)
        if state.trace is not None:
            return render.Measured(blocking_by_site(state.trace), state.stale, by_blocking_time)
    if by_blocking_time:
        raise AsyncMigrateError("--sort blocking-time needs a trace of the tests: run `asyncmigrate trace` first")
    return None


@app.command()
@handles_errors
def scan(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files or directories (default: the plan's source and tests).")
    ] = None,
    plan_path: PlanOption = None,
    output: Annotated[OutputFormat, format_option("scan")] = OutputFormat.TABLE,
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
    sort: Annotated[
        ScanSort,
        typer.Option("--sort", help="Order of files and call sites; blocking-time needs a trace (asyncmigrate trace)."),
    ] = ScanSort.path,
) -> None:
    """Find every call that reaches the sync facade and say how hard each file is.

    With a trace of the tests (asyncmigrate trace), each call site and file also shows the time it
    blocked the event loop while the tests ran.

    Exit 0; 1 with --fail-on when such calls exist; 2 on bad input.
    """
    from asyncmigrate import render
    from asyncmigrate.analysis.facade import FacadeSpec
    from asyncmigrate.analysis.scan import scan as run_scan

    if jobs is not None and jobs < 1:
        raise AsyncMigrateError(f"--jobs must be at least 1 (got {jobs})")
    if (facade_class or receiver) and not factory:
        raise AsyncMigrateError("--class and --receiver describe a facade with --factory; give --factory too")
    if factory and plan_path is not None:
        raise AsyncMigrateError("--factory describes the facade when there is no plan; not with --plan")
    plan: Plan | None
    if factory:
        plan = None
        root = Path.cwd()
        spec = FacadeSpec.from_options(root, factory, facade_class or (), receiver or ())
    else:
        plan = _load(plan_path)
        spec = FacadeSpec.from_plan(plan)
        root = plan.root
    relative = [_under(root, p) for p in paths] if paths else None
    measured = _measured(root, sort is ScanSort.blocking_time)
    with render.progress_bar("Scanning") as progress:
        result = run_scan(root, spec, paths=relative, plan=plan, use_cache=not no_cache, progress=progress, jobs=jobs)
    if output is OutputFormat.JSON:
        render.print_json(render.scan_json(result, measured))
    else:
        render.scan_table(result, show_calls=calls, measured=measured)
    calls_found = result.calls
    if fail_on is FailOn.any and calls_found:
        raise typer.Exit(ExitCode.FINDINGS)
    if fail_on is FailOn.blocking and any(c.blocks_event_loop for c in calls_found):
        raise typer.Exit(ExitCode.FINDINGS)


class InitOrder(StrEnum):
    rules = "rules"
    measured = "measured"


def _measured_files(root: Path) -> dict[str, float]:
    """Per file, the time its facade calls blocked the event loop in the traced tests (fresh files only)."""
    from asyncmigrate import render
    from asyncmigrate.analysis.trace import blocking_by_file, trace_state

    state = trace_state(root)
    if state.trace is None:
        raise AsyncMigrateError(
            "--order measured needs a trace of the tests: write a first plan (init), run `asyncmigrate trace`, "
            "then `init --force --order measured`"
        )
    message = state.note()
    if message:
        render.note(message)
    return blocking_by_file(state.trace)


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
    async_callback: Annotated[
        list[str] | None,
        typer.Option("--async-callback", help="Callable that accepts coroutine functions (repeatable)."),
    ] = None,
    output_path: Annotated[Path, typer.Option("--output", "-o", help="Where to write the plan.")] = Path(PLAN_FILENAME),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing plan.")] = False,
    order: Annotated[
        InitOrder,
        typer.Option(
            "--order",
            help="rules: phases by --phase rules only; measured: first a phase of the files that blocked the event "
            "loop longest in the traced tests (asyncmigrate trace), longest first.",
        ),
    ] = InitOrder.rules,
) -> None:
    """Write migration_plan.yaml from a scan, assigning files to phases by path rules.

    Exit 0; 2 when the plan exists (without --force) or the input is bad.
    """
    from asyncmigrate import render
    from asyncmigrate.analysis.facade import FacadeSpec
    from asyncmigrate.analysis.scan import scan as run_scan
    from asyncmigrate.workflow.init import PhaseRule, build_plan_document

    if output_path.exists() and not force:
        raise AsyncMigrateError(f"{output_path} already exists (use --force to overwrite it)")
    if not factory:
        raise AsyncMigrateError("init needs at least one --factory (e.g. --factory app.db.get_db)")
    rules = [PhaseRule.parse(text) for text in phase or []]
    root = _resolve(output_path, str(output_path)).parent
    measured = _measured_files(root) if order is InitOrder.measured else None
    source_dirs = source or ["."]
    spec = FacadeSpec.from_options(root, factory, facade_class or (), receiver or (), source_dirs)
    test_dirs = tests or []
    excluded = exclude or []
    with render.progress_bar("Scanning") as progress:
        result = run_scan(root, spec, paths=[*source_dirs, *test_dirs], exclude=excluded, progress=progress)
    for skipped in result.skipped:
        render.note(f"{skipped.path}: skipped: {skipped.reason}")
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
        async_callbacks=async_callback or [],
        plan_directory=root,
        measured=measured,
    )
    from asyncmigrate.workspace.files import write_text_atomic

    write_text_atomic(output_path, text)
    files = sum(1 for r in reports if r.calls)
    render.note(f"wrote {output_path}: {files} files using the facade; fill in repositories and mappings")


@app.command()
@handles_errors
def status(
    plan_path: PlanOption = None,
    phase: Annotated[int | None, typer.Option("--phase", help="Only this phase.")] = None,
    output: Annotated[OutputFormat, format_option("status")] = OutputFormat.TABLE,
) -> None:
    """Progress per phase: files migrated, effort remaining, and each file's status. Exit 0; 2 on bad input."""
    from asyncmigrate import render
    from asyncmigrate.reporting.status import progress, status_json

    plan = _load(plan_path)
    result = progress(plan, phase)
    if output is OutputFormat.JSON:
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
    from asyncmigrate import render
    from asyncmigrate.config.plan import record_status

    plan = _load(plan_path)
    path = _relative_to_root(plan, file)
    if plan.entry(path) is None:
        raise AsyncMigrateError(f"{file}: not in {plan.path.name}")
    if status_value is FileStatus.SKIPPED and not reason:
        raise AsyncMigrateError("--status skipped needs a --reason (the plan keeps it in the history)")
    event: dict[str, Any] = {"action": "mark"}
    if reason:
        event["reason"] = reason
    from asyncmigrate.workflow.commit import locked

    # Under the apply lock, so a mark made while an apply runs is refused rather than overwritten, and
    # anything a crash left half done is settled before the plan changes.
    with locked(plan, on_note=render.note):
        record_status(plan, path, status_value, event, reason=reason)
    render.note(f"{path}: {status_value.value}")


@app.command()
@handles_errors
def rollback(
    file: Annotated[str | None, typer.Argument(help="A file in the plan whose applies to undo.")] = None,
    phase: Annotated[int | None, typer.Option("--phase", help="Undo the applies of every file of this phase.")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Restore over uncommitted edits made after the apply (kept under .asyncmigrate/backups/)."
        ),
    ] = False,
    plan_path: PlanOption = None,
) -> None:
    """Restore the files an apply wrote, newest apply first, and set the plan entries back to pending.

    All the files of an apply are restored, so every entry it migrated goes back to pending.

    Exit 0, also when there is nothing to roll back; 2 on bad input or when restoring would lose work:

    uncommitted edits made after the apply (use --force), or a later apply of the same files (roll it back first).
    """
    from asyncmigrate import render
    from asyncmigrate.workflow.commit import phase_entries
    from asyncmigrate.workflow.commit import rollback as run_rollback

    if (file is None) == (phase is None):
        raise AsyncMigrateError("rollback takes either FILE or --phase N")
    plan = _load(plan_path)
    if file is not None:
        path = _relative_to_root(plan, file)
        if plan.entry(path) is None:
            raise AsyncMigrateError(f"{file}: not in {plan.path.name}")
        entries = [path]
    else:
        assert phase is not None
        entries = phase_entries(plan, phase)
    result = run_rollback(plan, entries, force=force, on_note=render.note)
    render.rollback_result(result)


class TestSelection(StrEnum):
    __test__ = False  # not a pytest test class, though its name starts with "Test"

    selected = "selected"
    all = "all"


TestsOption = Annotated[
    TestSelection | None,
    typer.Option(
        "--tests",
        help="selected: the test modules that can reach the change; all: the test command over the plan's tests"
        " (default: the plan's test_selection, else selected).",
    ),
]


@app.command("test")
@handles_errors
def run_tests_command(
    files: Annotated[list[str] | None, typer.Argument(help="Files whose tests to run.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds before the test command is stopped.")] = 1800,
    tests: TestsOption = None,
    plan_path: PlanOption = None,
) -> None:
    """Run the tests that cover FILE...: the plan entry's tests, else the test modules named after or importing
    it, directly or through other project modules (--tests all: the whole suite).

    Exit 0 when they pass or no test covers the files; 1 when they fail or leave a coroutine never awaited;
    2 on bad input.
    """
    from asyncmigrate import render
    from asyncmigrate.workflow.testrun import check_test_command, run_tests, select_tests, whole_suite

    if timeout <= 0:
        raise AsyncMigrateError("--timeout must be a positive number of seconds")
    plan = _load(plan_path)
    tests = tests or TestSelection(plan.test_selection)
    if not files and tests is not TestSelection.all:
        raise AsyncMigrateError("give FILE... whose tests to run, or --tests all")
    paths = [_relative_to_root(plan, f) for f in files or []]
    missing = [p for p in paths if not (plan.root / p).is_file()]
    if missing:
        raise AsyncMigrateError(f"no such file: {', '.join(missing)}")
    check_test_command(plan)
    selection = list(whole_suite(plan)) if tests is TestSelection.all else select_tests(plan, paths)
    run = run_tests(plan, selection, timeout=timeout)
    render.show_test_run(run)
    if not run.passed:
        raise typer.Exit(ExitCode.FINDINGS)


NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Ignore and do not update the scan cache.")]


def _load_unchecked(plan_path: Path | None) -> "Plan":
    """The plan without the file-existence check: a planned file that disappeared is a finding
    for `check` and an entry with no call sites for `report`, not a reason to stop."""
    from asyncmigrate.config.plan import find_plan, load_plan

    return load_plan(plan_path if plan_path is not None else find_plan(Path.cwd()), check_files=False)


@app.command()
@handles_errors
def report(
    plan_path: PlanOption = None,
    output_format: Annotated[OutputFormat, format_option("report")] = OutputFormat.MARKDOWN,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file (atomically), not stdout.")
    ] = None,
    no_cache: NoCacheOption = False,
    fixes: Annotated[
        bool,
        typer.Option(
            "--fixes",
            help="SARIF only: attach to each planned file's first result the whole change `apply FILE` would make "
            "(as slow as `apply --dry-run` on every planned file).",
        ),
    ] = False,
) -> None:
    """Migration progress for CI: files by status, call sites and blocking calls left, blockers, effort, trend.

    markdown fits $GITHUB_STEP_SUMMARY; json follows asyncmigrate/schemas/report.schema.json.
    junit: one test case per planned file (failure when failed or blocked, skipped when not done yet).
    sarif (2.1.0): each facade call site, blocker and accepted doubt; with --fixes, each planned file's whole
    change (every file apply would touch) as the fix of its first result, or no fix where apply is blocked.
    Exit 0; 2 on bad input.
    """
    from asyncmigrate import render
    from asyncmigrate.checks.check import scan_plan
    from asyncmigrate.reporting.report import build_report, render_report, write_report

    if fixes and output_format.value != "sarif":
        raise AsyncMigrateError(f"--fixes needs --format sarif (not {output_format.value})")
    plan = _load_unchecked(plan_path)
    with render.progress_bar("Scanning") as progress:
        result = scan_plan(plan, use_cache=not no_cache, progress=progress)
    built = build_report(plan, result)
    file_fixes = None
    if fixes:
        from asyncmigrate.reporting.sarif import fixable_paths, fixes_for

        with render.progress_bar("Computing fixes") as progress:
            file_fixes = fixes_for(plan, fixable_paths(built), use_cache=not no_cache, progress=progress)
    text = render_report(built, output_format.value, fixes=file_fixes)
    if output is None:
        render.document(text)
        return
    write_report(output, text)
    render.note(f"wrote {output}")


@app.command()
@handles_errors
def check(
    plan_path: PlanOption = None,
    output_format: Annotated[OutputFormat, format_option("check")] = OutputFormat.TABLE,
    no_cache: NoCacheOption = False,
) -> None:
    """The migration gate: each finding as file:line: kind: message (--format github: as workflow annotations).

    Findings: a file marked migrated or verified calls the facade again (migrated-file-calls-facade);
    a file the plan does not list calls the facade (unplanned-facade-call);
    the plan names a file that no longer exists (planned-file-missing).
    A doubt the plan accepts (accepted_doubts) is listed as accepted-doubt and does not fail the gate.
    Exit 0 when there are none; 1 when there are findings; 2 on bad input.
    """
    from asyncmigrate import render
    from asyncmigrate.checks.check import check as run_check
    from asyncmigrate.checks.check import check_json

    plan = _load_unchecked(plan_path)
    with render.progress_bar("Scanning") as progress:
        result = run_check(plan, use_cache=not no_cache, progress=progress)
    if output_format is OutputFormat.JSON:
        render.print_json(check_json(result))
    elif output_format is OutputFormat.GITHUB:
        from asyncmigrate.reporting.github import workflow_commands, workspace_prefix

        render.workflow_commands(workflow_commands(result, workspace_prefix(plan.root, os.environ)), result)
    else:
        render.check_findings(result)
    if not result.ok:
        raise typer.Exit(ExitCode.FINDINGS)


@app.command()
@handles_errors
def apply(
    files: Annotated[list[str] | None, typer.Argument(help="Planned files to migrate.")] = None,
    phase: Annotated[
        int | None, typer.Option("--phase", help="Migrate the pending/failed files of this phase.")
    ] = None,
    all_files: Annotated[bool, typer.Option("--all", help="Migrate every pending/failed file of the plan.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the change and its diff; write nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write over files with uncommitted edits.")] = False,
    no_test: Annotated[bool, typer.Option("--no-test", help="Do not run the touched files' tests.")] = False,
    tests: TestsOption = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", help="Seconds before the tests are stopped and the file failed (default: plan's test_timeout)."
        ),
    ] = None,
    show_diff: Annotated[bool, typer.Option("--diff/--no-diff", help="Show the unified diff.")] = True,
    output_format: Annotated[OutputFormat, format_option("apply")] = OutputFormat.TABLE,
    plan_path: PlanOption = None,
    emit_edits: Annotated[
        Path | None,
        typer.Option(
            "--emit-edits",
            help="With --dry-run: write the edit plan (JSON) that `python -m libcst.tool codemod "
            "apply_edits.ApplyEditsCommand --edits FILE` makes.",
        ),
    ] = None,
) -> None:
    """Rewrite facade calls to repository calls, propagate async def up the callers, test, record.

    Each file is one transaction: every file it touches is written together (backups under
    .asyncmigrate/), its tests run, and on failure every file is restored and the entry marked failed.
    With blockers, or with --dry-run, nothing is written: the change and its diff are shown.

    Exit 0 when everything applied was verified (or migrated with --no-test); 1 with blockers, failed
    tests, or --dry-run changes to show; 2 on bad input.
    """
    from asyncmigrate import render
    from asyncmigrate.workflow.apply import ApplyResult, Interrupted, apply_files, planned_targets
    from asyncmigrate.workflow.testrun import check_test_command

    if bool(files) + (phase is not None) + all_files > 1:
        raise AsyncMigrateError("apply takes FILE..., --phase N or --all; not several")
    if emit_edits is not None and not dry_run:
        raise AsyncMigrateError("--emit-edits writes the edit plan of a --dry-run; add --dry-run")
    if emit_edits is not None and not emit_edits.resolve().parent.is_dir():
        raise AsyncMigrateError(f"{emit_edits}: no such directory to write the edit plan in")
    if timeout is not None and not 0 < timeout < float("inf"):
        raise AsyncMigrateError("--timeout must be a positive number of seconds")
    plan = _load(plan_path)
    targets = planned_targets(plan, [_relative_to_root(plan, f) for f in files or []], phase, all_files)
    missing = [t for t in targets if not (plan.root / t).is_file()]
    if files and missing:
        if os.path.lexists(plan.root / missing[0]):
            raise AsyncMigrateError(f"{missing[0]}: planned but not a regular file")
        raise AsyncMigrateError(f"{missing[0]}: planned but missing (`rollback {missing[0]}` restores an applied file)")
    for path in missing:  # --phase/--all: the other files still go ahead; `check` lists the missing one
        render.note(f"{path}: planned but missing; left out")
    targets = [t for t in targets if t not in missing]
    if targets and not no_test and not dry_run:
        check_test_command(plan)  # before anything is written, not after
    if not targets:
        render.note("nothing to apply: every selected file is done, skipped or blocked")
        raise typer.Exit(ExitCode.OK)
    _trace_note(plan)

    def show(result: ApplyResult) -> None:  # each file's outcome as soon as it is settled
        render.change_summary(result.change)
        if show_diff and (dry_run or result.change.blockers):
            render.unified_diff(result.change)
        if not dry_run:
            render.apply_outcome(result)

    table = output_format is not OutputFormat.JSON
    if emit_edits is not None:  # a dry run that also writes its edit plan
        from asyncmigrate.workflow.apply import plan_edits, write_edit_plan

        document, changes = plan_edits(plan, targets)
        write_edit_plan(document, emit_edits)
        results = [ApplyResult(change) for change in changes]
        for result in results if table else ():
            show(result)
    try:
        if emit_edits is None:
            plan, results = apply_files(
                plan,
                targets,
                dry_run=dry_run,
                force=force,
                run_tests=not no_test,
                timeout=timeout,
                on_status=render.note,
                all_tests=None if tests is None else tests is TestSelection.all,
                on_result=show if table else None,
            )
    except Interrupted as exc:
        render.error(f"interrupted by {exc.signame}" + (f"; {exc.detail}" if exc.detail else ""))
        raise typer.Exit(128 + int(getattr(signal.Signals, exc.signame))) from None
    if output_format is OutputFormat.JSON:
        render.print_json(
            {
                "results": [
                    {
                        **r.change.to_json(),
                        "status": r.status.value if r.status else None,
                        "written": r.written,
                        "transaction": r.transaction,
                        "tests": {"modules": list(r.test_paths), "passed": r.test_passed},
                    }
                    for r in results
                ]
            }
        )
    ok = all(
        not r.change.blockers and (r.status in (FileStatus.VERIFIED, FileStatus.MIGRATED) or not r.change.changed)
        for r in results
    )
    if dry_run:
        ok = not any(r.change.changed or r.change.blockers for r in results)
    raise typer.Exit(ExitCode.OK if ok else ExitCode.FINDINGS)


def _trace_note(plan: "Plan") -> None:
    """Once per command: no trace of the tests for this project, or which of its files are stale."""
    from asyncmigrate import render
    from asyncmigrate.analysis.trace import trace_state

    message = trace_state(plan.root).note()
    if message:
        render.note(message)


@app.command()
@handles_errors
def graph(
    target: Annotated[str, typer.Argument(help="A planned file, or a function as module.Class.method.")],
    output_format: Annotated[OutputFormat, format_option("graph")] = OutputFormat.TABLE,
    plan_path: PlanOption = None,
) -> None:
    """The propagation tree: every function that turns async, and what reaches each, with blockers."""
    from asyncmigrate import render
    from asyncmigrate.frameworks import Frameworks
    from asyncmigrate.frameworks import pytest as pytest_framework
    from asyncmigrate.migration.propagate import Seed, propagate
    from asyncmigrate.workflow.apply import compute_change, load_project

    plan = _load(plan_path)
    candidate = Path(target)
    if target.endswith(".py") or candidate.exists():
        path = _relative_to_root(plan, target)
        if not (plan.root / path).is_file():
            raise AsyncMigrateError(f"{target}: no such file")
        _trace_note(plan)
        change = compute_change(plan, [path])
        async_functions, blockers = change.propagation.async_functions, change.blockers
        sites, traced = change.propagation.function_sites, change.propagation.traced
    else:
        project = load_project(plan)
        function = project.functions.get(target)
        if function is None:
            raise AsyncMigrateError(f"{target}: no such function in the project (use module.Class.method)")
        from asyncmigrate.analysis.trace import trace_state

        _trace_note(plan)
        propagation = propagate(
            project,
            [Seed(function, "asked")],
            async_callbacks=plan.async_callbacks,
            pytest_auto_mode=pytest_framework.asyncio_auto_mode(plan.root),
            async_variants=plan.async_variants,
            traced_edges=trace_state(plan.root).edges_by_callee,
            frameworks=Frameworks.of_plan(plan),
        )
        async_functions, blockers = propagation.async_functions, propagation.blockers
        sites, traced = propagation.function_sites, propagation.traced
    if output_format is OutputFormat.JSON:
        render.print_json(render.propagation_json(target, async_functions, blockers, traced))
    else:
        render.propagation_tree(
            target, async_functions, blockers, sites, {u.caller for u in traced if u.outcome == "await"}
        )


@app.command(context_settings={"allow_interspersed_args": False})
@handles_errors
def trace(
    command: Annotated[
        list[str] | None,
        typer.Argument(help="The command to trace, after -- (default: the plan's test_command over its tests)."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds before the traced command is stopped.")
    ] = None,
    output_format: Annotated[OutputFormat, format_option("trace")] = OutputFormat.TABLE,
    plan_path: PlanOption = None,
) -> None:
    """Run the tests under a tracer: the calls between project functions they make, and how long each
    facade call blocked a running event loop. Kept in .asyncmigrate/trace.json for apply, graph and scan.

    Exit 0 when the traced command passed; 1 when it failed (the trace is kept); 2 on bad input.
    """
    from asyncmigrate import render
    from asyncmigrate.workflow.tracerun import run_trace

    if timeout is not None and not 0 < timeout < float("inf"):
        raise AsyncMigrateError("--timeout must be a positive number of seconds")
    plan = _load(plan_path)
    with render.trace_progress() as on_progress:
        run = run_trace(plan, command or None, timeout=timeout, on_progress=on_progress)
    if output_format is OutputFormat.JSON:
        render.print_json(render.trace_json(run))
    else:
        render.trace_summary(run)
    if run.trace.returncode != 0:
        raise typer.Exit(ExitCode.FINDINGS)


def main() -> None:
    app()
