"""``apply``: compute the whole change for some planned files, then write, test and record it.

``compute_change`` does everything that can be known before writing: it rewrites each target file's
facade calls (``codemods.rewrite_facade_calls``) to learn which functions gain an ``await``, propagates
``async def`` through the project call graph (``asyncmigrate.propagate``), applies the propagation to
every touched file (``codemods.propagate_async``) and migrates the test doubles of now-async methods
(``codemods.migrate_test_doubles``). Every output must parse and compile. ``apply_files`` then writes
the change as one transaction, runs the touched files' tests and records the result in the plan,
restoring every file when the tests fail.
"""

from __future__ import annotations

import ast
import configparser
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asyncmigrate.callgraph import Project, build_project
from asyncmigrate.cautions import Caution, new_cleanup_awaits
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.facade import module_name_for
from asyncmigrate.plan import Plan, find_plan, load_plan, record_status
from asyncmigrate.propagate import Blocker, PropagationPlan, Seed, propagate
from asyncmigrate.scan import check_encoding, discover
from asyncmigrate.transaction import ApplyLock, FileChange, foreign_edits, recover, restore, write_transaction
from asyncmigrate.types import CallSite, FileStatus


@dataclass(frozen=True)
class FileEdit:
    """One file's text before and after the change."""

    path: str
    before: bytes
    after: bytes

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class ComputedChange:
    """Everything one ``apply`` would do, before anything is written."""

    targets: tuple[str, ...]
    edits: list[FileEdit] = field(default_factory=list)
    rewritten: list[CallSite] = field(default_factory=list)
    unmapped: list[CallSite] = field(default_factory=list)
    propagation: PropagationPlan = field(default_factory=PropagationPlan)
    blockers: list[Blocker] = field(default_factory=list)
    cautions: list[Caution] = field(default_factory=list)  # behaviour the rewrite changes, worth a look

    @property
    def changed(self) -> list[FileEdit]:
        return [e for e in self.edits if e.changed]

    @property
    def functions_made_async(self) -> list[str]:
        return sorted(self.propagation.async_functions)

    def to_json(self) -> dict[str, Any]:
        return {
            "targets": list(self.targets),
            "files_touched": [e.path for e in self.changed],
            "call_sites_rewritten": len(self.rewritten),
            "call_sites": [
                {"path": c.path, "line": c.line, "method": c.method, "target": c.target} for c in self.rewritten
            ],
            "unmapped": [{"path": c.path, "line": c.line, "method": c.method} for c in self.unmapped],
            "functions_made_async": {f: list(chain) for f, chain in sorted(self.propagation.async_functions.items())},
            "resolutions": list(self.propagation.resolutions),
            "blockers": [b.to_json() for b in self.blockers],
            "ambiguous": [a.to_json() for a in self.propagation.ambiguities],
            "cautions": [c.to_json() for c in self.cautions],
        }


def pytest_asyncio_auto_mode(root: Path) -> bool:
    """Does the project's pytest configuration run ``async def`` tests without a marker?"""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        options = data.get("tool", {}).get("pytest", {}).get("ini_options", {})
        if "asyncio_mode" in options:
            return str(options["asyncio_mode"]) == "auto"
    for name, section in (("pytest.ini", "pytest"), ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = root / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_option(section, "asyncio_mode"):
            return parser.get(section, "asyncio_mode").strip() == "auto"
    return False


def project_paths(plan: Plan) -> list[str]:
    """Every Python file propagation may touch: the sources and the tests (exclusions do not apply;
    a file left out of the scan can still call a function that turns async)."""
    return discover(plan.root, [*plan.source, *plan.tests], [])


def load_project(plan: Plan, *, use_cache: bool = True) -> Project:
    return build_project(plan.root, project_paths(plan), use_cache=use_cache)


def _read_source(plan: Plan, path: str) -> bytes:
    try:
        data = (plan.root / path).read_bytes()
    except OSError as exc:
        raise AsyncMigrateError(f"{path}: cannot read: {exc.strerror}") from None
    problem = check_encoding(data)
    if problem is not None:
        raise AsyncMigrateError(f"{path}: {problem}")
    return data


def _codemod(command: Any, path: str, data: bytes) -> bytes:
    """Run one codemod over one file; a failure is the tool's, reported with the file's name."""
    import libcst as cst
    from libcst.codemod import TransformFailure, TransformSuccess, transform_module

    try:
        encoding = cst.parse_module(data).encoding
    except cst.ParserSyntaxError as exc:
        raise AsyncMigrateError(f"{path}:{exc.raw_line}: does not parse: {exc.message}") from None
    result = transform_module(command, data.decode(encoding))
    if isinstance(result, TransformFailure):
        raise AsyncMigrateError(f"{path}: {type(command).__name__} failed: {result.error}")
    if not isinstance(result, TransformSuccess):
        return data
    return result.code.encode(encoding)


def _context(plan: Plan, path: str) -> Any:
    from libcst.codemod import CodemodContext

    module, is_package = module_name_for(path)
    return CodemodContext(
        filename=str(plan.root / path),
        full_module_name=module,
        full_package_name=module if is_package else module.rpartition(".")[0],
    )


def _check_output(path: str, data: bytes) -> None:
    """The output parses with LibCST and compiles with CPython (``await`` outside ``async def`` does not)."""
    try:
        compile(data, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        compile(data, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise AsyncMigrateError(
            f"{path}:{exc.lineno}: the rewrite produced code that does not compile ({exc.msg}); nothing was written"
        ) from None


def _seeds(
    plan: Plan, project: Project, path: str, qualnames: Iterable[str], rewritten: Sequence[CallSite]
) -> list[Seed]:
    module, _ = module_name_for(path)
    seeds = []
    for qualname in sorted(qualnames):
        function = project.functions.get(f"{module}.{qualname}")
        if function is None:
            continue
        awaits = tuple(
            (call.line, call.method)
            for call in rewritten
            if call.function == qualname
            and call.target is not None
            and plan.awaits(call.method)
            and not call.awaited  # an awaited async twin already sits in an async function
            and call.wrapper is None  # a thread hop was awaited already
        )
        seeds.append(Seed(function, f"{path}: facade calls in {qualname} now await a repository", awaits))
    return seeds


def compute_change(plan: Plan, targets: Sequence[str], *, use_cache: bool = True) -> ComputedChange:
    from codemods.migrate_test_doubles import MigrateTestDoublesCommand
    from codemods.propagate_async import PropagateAsyncCommand
    from codemods.rewrite_facade_calls import RewriteFacadeCallsCommand

    change = ComputedChange(tuple(targets))
    sources: dict[str, bytes] = {path: _read_source(plan, path) for path in targets}
    project = load_project(plan, use_cache=use_cache)
    seeds: list[Seed] = []
    for path in targets:
        probe = RewriteFacadeCallsCommand(_context(plan, path), plan_object=plan, plan_only=True)
        _codemod(probe, path, sources[path])
        change.rewritten.extend(probe.outcome.rewritten)
        change.unmapped.extend(probe.outcome.unmapped)
        for unsafe in probe.outcome.unsafe:
            change.blockers.append(
                Blocker(path, unsafe.line, unsafe.kind, unsafe.message, (f"{path}:{unsafe.function}",), unsafe.fix)
            )
        seeds.extend(_seeds(plan, project, path, probe.outcome.awaiting_functions, probe.outcome.rewritten))
    propagation = propagate(
        project,
        seeds,
        async_callbacks=plan.async_callbacks,
        pytest_auto_mode=pytest_asyncio_auto_mode(plan.root),
        async_variants=plan.async_variants,
    )
    change.propagation = propagation
    change.blockers.extend(propagation.blockers)
    touched = sorted(propagation.touched_paths() | set(targets))
    for path in touched:
        if path not in sources:
            sources[path] = _read_source(plan, path)
    # an async generator or an async context manager is not awaited: a test double of it is no AsyncMock
    not_awaited = {e.function for e in propagation.function_edits if e.to_async_generator or e.to_async_context_manager}
    async_functions = sorted(set(propagation.async_functions) - not_awaited)
    for path in _test_modules_mentioning(plan, project, async_functions):
        if path not in sources:
            sources[path] = _read_source(plan, path)
    for path, before in sorted(sources.items()):
        after = before
        if path in propagation.touched_paths():
            after = _codemod(
                PropagateAsyncCommand(_context(plan, path), propagation=propagation, path=path), path, after
            )
        if path in targets:
            after = _codemod(RewriteFacadeCallsCommand(_context(plan, path), plan_object=plan), path, after)
        if async_functions and path in project.index and project.index[path].is_test:
            after = _codemod(
                MigrateTestDoublesCommand(_context(plan, path), async_functions=async_functions), path, after
            )
        if after != before and not change.blockers:  # with blockers nothing is written; the diff only shows
            _check_output(path, after)
        if after != before:
            change.cautions.extend(new_cleanup_awaits(path, before, after))
        change.edits.append(FileEdit(path, before, after))
    return change


def _test_modules_mentioning(plan: Plan, project: Project, function_ids: Sequence[str]) -> list[str]:
    """Test modules that may configure a test double of a function turning async: they use a mock
    library and either import the function's module (or something from it) or name it in a string
    (``patch("pkg.mod.Class.method")``)."""
    modules = {project.functions[f].module for f in function_ids if f in project.functions}
    if not modules:
        return []
    found = []
    for path in project.paths_where(lambda entry: entry.is_test):
        entry = project.index[path]
        imported = any(target == name or target.startswith(name + ".") for target in entry.imported for name in modules)
        try:
            data = (plan.root / path).read_bytes()
        except OSError:
            continue
        if b"Mock" not in data and b"patch" not in data:
            continue
        if imported or any(name.encode() in data for name in modules):
            found.append(path)
    return found


# --- applying -------------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    change: ComputedChange
    written: bool = False
    status: FileStatus | None = None
    transaction: str | None = None
    test_paths: tuple[str, ...] = ()
    test_passed: bool | None = None
    test_output: str = ""


def planned_targets(plan: Plan, files: Sequence[str], phase: int | None, all_files: bool) -> list[str]:
    if files and (phase is not None or all_files):
        raise AsyncMigrateError("give files, or --phase, or --all; not several")
    if files:
        for path in files:
            if plan.entry(path) is None:
                raise AsyncMigrateError(f"{path}: not in the plan ({plan.path.name}); add it to a phase first")
        return list(files)
    if phase is not None:
        entries = plan.phase(phase).files
    elif all_files:
        entries = tuple(plan.entries())
    else:
        raise AsyncMigrateError("nothing to apply: give FILE..., --phase N or --all")
    return [e.path for e in entries if e.status in (FileStatus.PENDING, FileStatus.FAILED, FileStatus.IN_PROGRESS)]


def _history(change: ComputedChange, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": "apply",
        "call_sites": len(change.rewritten),
        "functions_made_async": len(change.propagation.async_functions),
        "files_touched": [e.path for e in change.changed],
    }
    if change.propagation.resolutions:
        event["resolutions"] = list(change.propagation.resolutions)
    if change.cautions:
        event["cautions"] = [c.describe() for c in change.cautions]
    event.update(extra)
    return event


def apply_file(
    plan: Plan,
    target: str,
    *,
    dry_run: bool = False,
    force: bool = False,
    run_tests: bool = True,
    use_cache: bool = True,
    on_status: Callable[[str], None] | None = None,
) -> tuple[Plan, ApplyResult]:
    """Apply one planned file as one transaction; returns the updated plan and what happened."""
    from asyncmigrate.testrun import run_tests as run_test_command
    from asyncmigrate.testrun import select_tests

    say = on_status or (lambda _message: None)
    change = compute_change(plan, [target], use_cache=use_cache)
    result = ApplyResult(change)
    if dry_run:
        return plan, result
    if change.blockers:
        result.status = FileStatus.BLOCKED
        plan = record_status(
            plan, target, FileStatus.BLOCKED, _history(change, blockers=[b.to_json() for b in change.blockers])
        )
        return plan, result
    changed = change.changed
    if not changed:
        return plan, result
    # the tool's own uncommitted output from an earlier apply of this run is not a user's edit
    dirty = foreign_edits(plan.root, [e.path for e in changed])
    if dirty and not force:
        raise AsyncMigrateError(
            f"uncommitted changes in {', '.join(dirty)}; commit or stash them first (or pass --force)"
        )
    record = write_transaction(
        plan.root,
        [FileChange(e.path, e.before, e.after) for e in changed],
        label=f"apply {target}",
        plan_entries=[target],
    )
    result.written, result.transaction = True, record.id
    plan = record_status(plan, target, FileStatus.MIGRATED, _history(change, transaction=record.id))
    if not run_tests:
        result.status = FileStatus.MIGRATED
        return plan, result
    try:
        tests = select_tests(plan, [e.path for e in changed])
        result.test_paths = tuple(tests)
        say(f"running {len(tests)} test module(s) for {target}")
        run = run_test_command(plan, tests)
    except BaseException:
        # the tests could not even run (command missing, interrupted): the change is not verified
        restore(plan.root, record.id)
        record_status(
            plan,
            target,
            FileStatus.FAILED,
            {"event": "test", "restored": record.id, "output_tail": "the test command could not run"},
        )
        raise
    result.test_passed, result.test_output = run.passed, run.output_tail
    test_result = {
        "passed": run.passed,
        "returncode": run.returncode,
        "modules": len(tests),
        "seconds": round(run.duration, 2),
    }
    if run.passed:
        result.status = FileStatus.VERIFIED
        plan = record_status(plan, target, FileStatus.VERIFIED, {"event": "test", "test_result": test_result})
        return plan, result
    restore(plan.root, record.id)
    result.status = FileStatus.FAILED
    plan = record_status(
        plan,
        target,
        FileStatus.FAILED,
        {"event": "test", "test_result": test_result, "restored": record.id, "output_tail": run.output_tail},
    )
    return plan, result


def apply_files(
    plan: Plan,
    targets: Sequence[str],
    *,
    dry_run: bool = False,
    force: bool = False,
    run_tests: bool = True,
    use_cache: bool = True,
    on_status: Callable[[str], None] | None = None,
) -> tuple[Plan, list[ApplyResult]]:
    """Apply each target in order, each its own transaction, under the apply lock."""
    results: list[ApplyResult] = []
    if dry_run:
        for target in targets:
            plan, result = apply_file(plan, target, dry_run=True, use_cache=use_cache)
            results.append(result)
        return plan, results
    with ApplyLock(plan.root, on_note=on_status):
        for recovered in recover(plan.root):
            if on_status:
                on_status(f"restored the files of an interrupted apply ({recovered.label}, {recovered.id})")
        for target in targets:
            plan, result = apply_file(
                plan, target, force=force, run_tests=run_tests, use_cache=use_cache, on_status=on_status
            )
            results.append(result)
    return plan, results


_STANDALONE: dict[tuple[str | None, tuple[str, ...]], tuple[PropagationPlan, Path]] = {}


def standalone_propagation(plan_path: str | None, migrate: Sequence[str]) -> tuple[PropagationPlan, Path]:
    """The propagation for ``migrate`` files, for the codemods run under ``python -m libcst.tool``.

    Computed once per process, before the runner has rewritten anything, so every file it visits gets
    its part of the same plan (run LibCST's runner with ``-j 1``: a second worker process would compute
    its own plan from a tree the first one has already changed).
    """
    key = (plan_path, tuple(migrate))
    if key not in _STANDALONE:
        plan = load_plan(Path(plan_path) if plan_path else find_plan(Path.cwd()), check_files=False)
        change = compute_change(plan, list(migrate))
        _STANDALONE[key] = (change.propagation, plan.root)
    return _STANDALONE[key]
