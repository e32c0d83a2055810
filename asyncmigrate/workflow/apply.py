"""``apply``: compute the whole change for some planned files, then write, test and record it.

``compute_change`` does everything that can be known before writing: it learns which functions of each
target gain an ``await`` from the scan's call sites (``asyncmigrate.migration.predicted_rewrites``, confirmed
later by the rewrite's decision) or, where that cannot be predicted, from a planning pass of the rewrite
codemod (``asyncmigrate.codemods.rewrite_facade_calls``), propagates
``async def`` through the project call graph (``asyncmigrate.migration.propagate``), applies the propagation to
every touched file (``asyncmigrate.codemods.propagate_async``), decides the facade call rewrites on the text that
leaves and records them in the edit plan, which it replays (``asyncmigrate.codemods.replay_rewrites``), and migrates
the test doubles of now-async methods (``asyncmigrate.codemods.migrate_test_doubles``). Every output must parse and
compile. ``apply_files`` then writes the change as one transaction, runs the touched files' tests and records the
result in the plan, restoring every file when the tests fail.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import signal
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asyncmigrate.analysis.callgraph import Project, build_project
from asyncmigrate.analysis.parsing import nested_too_deeply, parse_python_or_error, too_deep_message
from asyncmigrate.analysis.pool import Forked
from asyncmigrate.analysis.scan import check_encoding, discover, libcst_error_line
from asyncmigrate.analysis.trace import trace_state
from asyncmigrate.config.modules import plan_layout
from asyncmigrate.config.plan import Plan, keep_plan, load_plan, record_status, settings_fingerprint
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.frameworks import FRAMEWORK_OFF, Frameworks, mock, pytest, switched_off_fix
from asyncmigrate.migration.cautions import Caution, new_cleanup_awaits
from asyncmigrate.migration.edits import (
    ATTRIBUTE,
    CALL,
    CallRewrite,
    EditPlan,
    FileEdits,
    NodeRef,
    Step,
    file_edits,
    source_lines,
)
from asyncmigrate.migration.limits import excluded_blockers, excluded_edit_blockers, unreadable_blockers
from asyncmigrate.migration.predicted_rewrites import PredictedRewrites, predict_rewrites
from asyncmigrate.migration.propagate import Blocker, PropagationPlan, Seed, propagate
from asyncmigrate.types import CallSite, FileStatus
from asyncmigrate.workflow.commit import commit, locked, undo
from asyncmigrate.workspace import files as workspace_files
from asyncmigrate.workspace.cache import (
    KeyedResults,
    content_key,
    file_digest,
    files_key,
    format_version,
    one_file_of_trees,
    trace_path,
)
from asyncmigrate.workspace.transaction import FileChange, foreign_edits

if TYPE_CHECKING:
    from asyncmigrate.codemods.apply_edits import FileOutcome


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
    related_tests: list[str] = field(default_factory=list)  # test files naming a function turning async
    step: Step = field(default_factory=lambda: Step(""))  # the change as edit plan data

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
            "accepted_doubts": [a.to_json() for a in self.propagation.accepted_doubts],
            "cautions": [c.to_json() for c in self.cautions],
            "traced": [t.to_json() for t in self.propagation.traced],
        }


def project_paths(plan: Plan) -> list[str]:
    """Every Python file propagation may touch: the sources and the tests (exclusions do not apply;
    a file left out of the scan can still call a function that turns async)."""
    return discover(plan.root, [*plan.source, *plan.tests], [])


def load_project(plan: Plan, *, use_cache: bool = True) -> Project:
    project = build_project(
        plan.root,
        project_paths(plan),
        use_cache=use_cache,
        layout=plan_layout(plan),
        frameworks=Frameworks.of_plan(plan),
    )
    if use_cache:
        keep_plan(plan)  # the tree has its cache directory now
    return project


def _read_source(plan: Plan, path: str) -> bytes:
    try:
        data = (plan.root / path).read_bytes()
    except OSError as exc:
        raise AsyncMigrateError(f"{path}: cannot read: {exc.strerror}") from None
    problem = check_encoding(data)
    if problem is not None:
        raise AsyncMigrateError(f"{path}: {problem}")
    return data


def _probe(command: Any, path: str, tree: Any) -> None:
    """Run a deciding pass of a codemod over one file's tree (it fills the command's outcome and
    writes nothing); a failure is the tool's, reported with the file's name."""
    from libcst.codemod import SkipFile

    try:
        command.transform_module(tree)
    except SkipFile:
        return
    except Exception as exc:  # noqa: BLE001 - LibCST's runner reports any codemod error as a failure, so does apply
        raise AsyncMigrateError(f"{path}: {type(command).__name__} failed: {exc}") from None


def _context(plan: Plan, path: str) -> Any:
    from libcst.codemod import CodemodContext

    module, is_package = plan_layout(plan).module_name(path)
    return CodemodContext(
        filename=str(plan.root / path),
        full_module_name=module,
        full_package_name=module if is_package else module.rpartition(".")[0],
    )


def _check_output(path: str, data: bytes) -> None:
    """The output compiles with CPython: it parses, and has no ``await`` outside ``async def`` (which
    only the compiler refuses; one compile answers both).

    Syntax newer than this Python (3.12 on 3.11) is lowered first, keeping the rest to compile."""
    try:
        compile(data, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        from asyncmigrate.analysis.lowering import lower_newer_syntax

        lowered = lower_newer_syntax(data)
        if lowered is not None and lowered != data:
            _check_output(path, lowered)
            return
        raise AsyncMigrateError(
            f"{path}:{exc.lineno}: the rewrite produced code that does not compile ({exc.msg}); nothing was written"
        ) from None


def _seeds(
    plan: Plan, project: Project, path: str, qualnames: Iterable[str], rewritten: Sequence[CallSite]
) -> list[Seed]:
    module, _ = plan_layout(plan).module_name(path)
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


def _parse(path: str, data: bytes, project: Project | None = None) -> Any:
    """The file's one LibCST tree; a file that does not parse is reported with its line.

    Code nested too deeply for CPython's parser would crash LibCST's (see ``nested_too_deeply``): it is
    refused first, by ``ast``, unless ``project`` (the call graph) read these very bytes with it."""
    import libcst as cst

    read = project.digests.get(path) if project is not None and path not in project.unreadable else None
    if read is None or read != file_digest(data):
        tree = parse_python_or_error(data)
        if isinstance(tree, Exception) and nested_too_deeply(tree):
            line = tree.lineno if isinstance(tree, SyntaxError) and tree.lineno else 1
            raise AsyncMigrateError(f"{path}:{line}: does not parse: {too_deep_message(tree)}")
    try:
        return cst.parse_module(data)
    except cst.ParserSyntaxError as exc:
        raise AsyncMigrateError(f"{path}:{libcst_error_line(data, exc)}: does not parse: {exc.message}") from None


def _rewrite_edit(plan: Plan, data: bytes, call: CallSite) -> CallRewrite:
    """A rewritten facade call as the edit plan records it, named by the text at its position."""
    lines = source_lines(data.decode("utf-8", "surrogateescape"))
    text = lines[call.line - 1][call.column :] if 1 <= call.line <= len(lines) else ""
    end = text.find(call.method)
    kind = ATTRIBUTE
    if text.startswith("getattr"):
        kind, text = CALL, "getattr"
    elif end >= 0:
        text = text[: end + len(call.method)]
    add_await = bool(plan.awaits(call.method) and not call.awaited and call.wrapper is None)
    return CallRewrite(
        NodeRef(call.line, call.column, kind, text),
        call.function,
        call.receiver,
        call.method,
        call.target or "",
        add_await,
        call.wrapper,
        call.is_reference,
    )


def _rewrite_decider(
    plan: Plan, edits: FileEdits, decided: dict[str, Any] | None = None
) -> Callable[[Any, FileOutcome, Any], Any]:
    """How ``compute_change`` decides a file's call rewrites on the tree the propagation leaves: the
    rewrite codemod's own decision, recorded in ``edits`` (the edit plan), which is then replayed.
    ``decided`` keeps the codemod's own account of the run (a ``RewriteOutcome``) under the file's path."""

    def decide(tree: Any, outcome: FileOutcome, context: Any) -> Any:
        from asyncmigrate.codemods.rewrite_facade_calls import decide_rewrites

        decision = decide_rewrites(tree, context, plan, edits.rewrites)
        if decided is not None:
            decided[edits.path] = decision.outcome
        edits.rewrites = decision.rewrites
        edits.statements = decision.recorded.statements
        edits.parameters = decision.recorded.parameters
        edits.imports = decision.recorded.imports
        outcome.warnings.extend(decision.warnings)
        outcome.not_rewritten.extend(decision.missing)
        outcome.not_rewritten.extend(
            (call.line, f"rewrite of {call.receiver}.{call.method}() in {call.function}, which was not planned")
            for call in decision.unplanned
        )
        return decision.output

    return decide


def compute_change(plan: Plan, targets: Sequence[str], *, use_cache: bool = True) -> ComputedChange:
    """Decide the whole change as an edit plan step (``change.step``), then make it in memory with the
    edit plan's codemod, each file parsed once, as ``python -m libcst.tool codemod`` would from the plan.

    The result is cached under a key over all it is computed from (``_change_key``): the same targets
    on the same tree and plan settings give the change recorded, without LibCST."""
    sources: dict[str, bytes] = {path: _read_source(plan, path) for path in targets}
    project = load_project(plan, use_cache=use_cache)
    if not use_cache:
        return _compute_change(plan, targets, project, sources)
    results = KeyedResults(plan.root, "changes", format_version(ComputedChange))
    key = content_key(_change_key(plan, targets, project), *(sources[path] for path in targets))
    cached = results.get(key)
    if isinstance(cached, ComputedChange):
        return cached
    change = _compute_change(plan, targets, project, sources)
    results.put(key, change)
    return change


_SETTINGS = ("pyproject.toml", "pytest.ini", "tox.ini", "setup.cfg")


def _change_key(plan: Plan, targets: Sequence[str], project: Project) -> bytes:
    """A key over everything a change is computed from: the plan (but its histories), the targets, every
    project file (by the digest the call graph read), the pytest settings, the trace of the tests, and
    the modules the plan names (the facade's, the repositories' and their packages), wherever they live."""
    layout = plan_layout(plan)
    named = [*plan.facade.classes, *plan.facade.factories]
    for repository in plan.repositories.values():
        named.extend(q for q in (repository.class_name, repository.provider) if q)
    read: set[str] = {*_SETTINGS, trace_path(plan.root).relative_to(plan.root).as_posix()}
    outside: set[Path] = set()  # named modules outside the tree, known by their absolute path
    for qualified in named:
        parts = qualified.split(".")
        for end in range(1, len(parts) + 1):
            module = layout.module_file(".".join(parts[:end]))
            if module is None:
                continue
            try:
                relative = module.resolve().relative_to(plan.root.resolve()).as_posix()
            except ValueError:
                outside.add(module)
                continue
            if relative not in project.digests:
                read.add(relative)
    digests = [part for path in sorted(project.digests) for part in (path, project.digests[path])]
    return content_key(
        settings_fingerprint(plan),
        "\0".join(targets),
        *digests,
        files_key(plan.root, read),
        files_key(Path("/"), [p.resolve().as_posix().lstrip("/") for p in outside]),
    )


class _Mispredicted(Exception):
    """The rewrite codemod's decision did not confirm a target's predicted rewrites."""


def _compute_change(plan: Plan, targets: Sequence[str], project: Project, sources: dict[str, bytes]) -> ComputedChange:
    """The change, its targets' rewrites predicted from the scan's analysis where that can be done and
    confirmed (``asyncmigrate.migration.predicted_rewrites``), else (and on any doubt) probed with the
    rewrite codemod: the change is the same either way, the prediction only spares the probe's LibCST pass."""
    predictions = {path: predict_rewrites(plan, path, sources[path]) for path in targets}
    confirmed = {path: p for path, p in predictions.items() if p is not None}
    if len(confirmed) == len(targets):
        try:
            return _compute_change_with(plan, targets, project, sources, confirmed)
        except (_Mispredicted, AsyncMigrateError):
            pass  # computed again with the probe, which words any error as it always has
    return _compute_change_with(plan, targets, project, sources, {})


def _compute_change_with(
    plan: Plan,
    targets: Sequence[str],
    project: Project,
    sources: dict[str, bytes],
    predicted: Mapping[str, PredictedRewrites],
) -> ComputedChange:
    """``predicted``: each target's predicted rewrites, to be confirmed by the decision (raises
    ``_Mispredicted`` when it is not); a target not in it is probed."""
    from asyncmigrate.codemods._passes import fresh_tree_metadata, sharing
    from asyncmigrate.codemods.apply_edits import CORE, transform_file
    from asyncmigrate.codemods.migrate_facade_doubles import possible_double_words
    from asyncmigrate.codemods.rewrite_facade_calls import RewriteFacadeCallsCommand

    change = ComputedChange(tuple(targets), step=Step(" ".join(targets)))
    traced = trace_state(plan.root)  # calls the tests made that the static graph may miss (fresh ones only)
    seeds: list[Seed] = []
    probed: dict[str, Any] = {}  # a target's tree and its metadata, read by the probe, for its first edit pass
    decided: dict[str, Any] = {}  # a predicted target's RewriteOutcome, as the decision gives it
    for path in targets:
        guess = predicted.get(path)
        if guess is not None:
            change.rewritten.extend(guess.rewritten)
            change.unmapped.extend(guess.unmapped)
            seeds.extend(_seeds(plan, project, path, guess.awaiting, guess.rewritten))
            continue
        with one_file_of_trees():
            probed[path] = fresh_tree_metadata(_parse(path, sources[path], project))
            probe = RewriteFacadeCallsCommand(
                sharing(_context(plan, path), probed[path]), plan_object=plan, plan_only=True
            )
            _probe(probe, path, probed[path].module)
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
        pytest_auto_mode=pytest.asyncio_auto_mode(plan.root),
        async_variants=plan.async_variants,
        async_aware_decorators=plan.async_aware_decorators,
        accepted_doubts=plan.accepted_doubts,
        traced_edges=traced.edges_by_callee,
        frameworks=Frameworks.of_plan(plan),
    )
    change.propagation = propagation
    change.blockers.extend(propagation.blockers)
    change.blockers.extend(excluded_blockers(plan.exclude, propagation, plan.path.name))
    change.blockers.extend(unreadable_blockers(project, propagation, plan.root))
    touched = sorted(propagation.touched_paths() | set(targets))
    for path in touched:
        if path not in sources:
            sources[path] = _read_source(plan, path)
    # an async generator or an async context manager is not awaited: a test double of it is no AsyncMock
    not_awaited = {e.function for e in propagation.function_edits if e.to_async_generator or e.to_async_context_manager}
    async_functions = sorted(set(propagation.async_functions) - not_awaited)
    doubles = _test_modules_mentioning(plan, project, async_functions)
    for path in doubles:
        if path not in sources:
            sources[path] = _read_source(plan, path)
    # a test that calls a function turning async may reach it through a fixture, importing nothing of it
    names = {project.functions[f].name for f in propagation.async_functions if f in project.functions}
    calling = project.paths_where(lambda entry: entry.is_test and bool(entry.call_names & names))
    change.related_tests = sorted(set(calling) | set(doubles))
    step = change.step
    migrates_doubles = Frameworks.of_plan(plan).mock
    planned: list[tuple[str, bytes, FileEdits, list[str]]] = []
    for path, before in sorted(sources.items()):
        is_test = path in project.index and project.index[path].is_test
        rewrites = [_rewrite_edit(plan, before, c) for c in change.rewritten if c.path == path and path in targets]
        doubled = async_functions if async_functions and is_test else []
        edits = file_edits(path, before, propagation, rewrites, test_doubles=doubled if migrates_doubles else ())
        planned.append((path, before, edits, doubled))

    def edit_core(path: str, before: bytes, edits: FileEdits) -> tuple[Any, FileOutcome]:
        """The file's core edits (propagation, the targets' rewrites decided and replayed, test doubles)."""
        with one_file_of_trees():
            metadata = probed.pop(path, None) or fresh_tree_metadata(_parse(path, before, project))
            return transform_file(
                metadata.module,
                path,
                edits,
                step,
                context=lambda: _context(plan, path),
                decide=_rewrite_decider(plan, edits, decided),
                stage=CORE,
                metadata=metadata,
            )

    core = _CoreEdits(edit_core, {path: (before, edits) for path, before, edits, _ in planned if edits.edits_core})
    # The targets' edits are made here, and those of the tests the facade's doubles may then be carried in
    # (on their trees): of the tests the targets reach, those whose text names what a double would. A test
    # made in the child that turns out to need its tree is made again here (``_CoreEdits.tree``).
    doubles_in = _tests_reaching(plan, project, targets)
    words = possible_double_words(plan, (sources[path] for path in targets))
    kept = [path for path in doubles_in if path in sources and _may_name_doubles(sources[path], words)]
    core.make_all(here={*targets, *kept})
    for path, before, edits, doubled in planned:
        after = before
        if edits.edits_core:
            edits, after, outcome = core.made[path]
            step.files.append(edits)
            guess = predicted.get(path)
            if guess is not None and not _confirms(guess, decided.get(path)):
                raise _Mispredicted(path)
            # a dropped ``await`` still compiles: every planned edit must be accounted for
            change.blockers.extend(_unapplied(path, outcome.not_propagated))
            change.blockers.extend(_unapplied(path, outcome.not_rewritten, _REWRITE_FIX))
        if after != before and not change.blockers:  # with blockers nothing is written; the diff only shows
            _check_output(path, after)
        if after != before:
            change.cautions.extend(new_cleanup_awaits(path, before, after))
        change.edits.append(FileEdit(path, before, after))
        if doubled and not migrates_doubles:
            change.blockers.extend(_doubles_left(plan, path, after, doubled))
    _carry_facade_doubles(plan, project, change, core.tree, doubles_in)
    edits_made = [(e.path, e.before, e.after) for e in change.edits]
    blocked = [b.path for b in change.blockers]
    change.blockers.extend(excluded_edit_blockers(plan.exclude, edits_made, blocked, plan.path.name))
    step.blockers = list(change.blockers)
    return change


class _CoreEdits:
    """Each file's core edits in a step, made once: ``made`` holds (edits, code after, outcome) by path.

    A step edits its targets (the rewrites decided, then replayed) and often other files: the callers the
    propagation turns async, the tests whose doubles become ``AsyncMock``. Those other files depend on
    nothing the targets' edits decide, so a forked child (``Forked``) makes them on the other core while
    this process makes the targets'; what the child made comes back as code, and the same edits are made
    again here only for a file whose tree a later pass needs (the facade's doubles are carried on the
    tree the core edits left, never on a new parse of it). The child computes exactly what this process
    would: the same function on the same memory."""

    def __init__(
        self,
        edit: Callable[[str, bytes, FileEdits], tuple[Any, FileOutcome]],
        files: Mapping[str, tuple[bytes, FileEdits]],
    ) -> None:
        self._edit = edit
        self._files = files  # path -> (text before, edits), of every file the step makes core edits in
        self._trees: dict[str, Any] = {}
        self.made: dict[str, tuple[FileEdits, bytes, FileOutcome]] = {}

    def _made(self, path: str) -> tuple[Any, tuple[FileEdits, bytes, FileOutcome]]:
        from asyncmigrate.codemods._passes import module_bytes

        before, edits = self._files[path]
        tree, outcome = self._edit(path, before, edits)
        return tree, (edits, module_bytes(tree), outcome)

    def make(self, path: str) -> None:
        """Make the core edits of ``path`` here, keeping its tree."""
        self._trees[path], self.made[path] = self._made(path)

    def make_all(self, here: Collection[str]) -> None:
        """Make every file's core edits: those of the files in ``here`` in this process, keeping their trees;
        the others meanwhile in a forked child when there are both and a second core, else here after."""
        others = [path for path in self._files if path not in here]
        overlap = bool(others) and len(others) < len(self._files) and (os.cpu_count() or 1) > 1
        elsewhere = Forked(lambda: [(path, self._made(path)[1]) for path in others]) if overlap else None
        with elsewhere or contextlib.nullcontext():
            for path in self._files:
                if path in here:
                    self.make(path)
            self.made.update(elsewhere.result() if elsewhere is not None else [])
        for path in others:
            if path not in self.made:
                self.make(path)

    def tree(self, path: str) -> Any | None:
        """The tree the core edits of ``path`` left (made again here if they were made elsewhere); None
        when the step makes none in it."""
        if path not in self._files:
            return None
        if path not in self._trees:
            self.make(path)
        return self._trees[path]


def _confirms(guess: PredictedRewrites, outcome: Any) -> bool:
    """Does the decision's ``RewriteOutcome`` (None: no decision was made) confirm the prediction?"""
    if outcome is None:
        return False
    return guess.confirmed_by(outcome.rewritten, outcome.unmapped, outcome.awaiting_functions, len(outcome.unsafe))


def _tests_reaching(plan: Plan, project: Project, targets: Sequence[str]) -> list[str]:
    """The test modules the facade's doubles may be carried in when ``targets`` migrate: those that name a
    target's module, or one importing it. A test reaches migrated code through the project's own modules
    too (``create_app(fake)`` hands a spec'd facade mock to the endpoints the app module includes): its
    doubles move with the code."""
    layout = plan_layout(plan)
    reaching = _modules_importing(project, [layout.module_name(path)[0] for path in targets])
    return [
        path
        for path in project.paths_where(lambda entry: entry.is_test)
        if _mentions_module(plan, project, path, reaching)
    ]


def _carry_facade_doubles(
    plan: Plan,
    project: Project,
    change: ComputedChange,
    core_tree: Callable[[str], Any | None],
    tests: Sequence[str],
) -> None:
    """Move the tests' doubles of the facade (a patched factory, a patched facade method, an injected
    ``Mock(spec=Facade)``) to what the migrated targets now call, in ``tests`` (``_tests_reaching``); a
    double that cannot be carried over is a blocker. Made on the tree each file's other edits were made
    on (``core_tree``; None: the file had none)."""
    from asyncmigrate.codemods._passes import fresh_tree_metadata, module_bytes
    from asyncmigrate.codemods.apply_edits import DOUBLES, transform_file
    from asyncmigrate.codemods.migrate_facade_doubles import double_words, facade_doubles

    if not tests:
        return
    edits = {edit.path: edit for edit in change.edits}
    layout = plan_layout(plan)
    migrated = {
        layout.module_name(path)[0]: (edits[path].before, edits[path].after) for path in change.targets if path in edits
    }
    doubles = facade_doubles(plan, migrated)
    words = double_words(doubles)
    step = change.step
    step.facade_doubles = doubles.to_json()
    for path in tests:
        edit = edits.get(path)
        before = edit.before if edit is not None else _read_source(plan, path)
        current = edit.after if edit is not None else before
        if not _may_name_doubles(current, words):
            continue  # nothing to carry, and nothing to parse (the codemod would return it as it is)
        file = step.file(path)
        planned = file if file is not None else file_edits(path, before, PropagationPlan())
        planned.facade_doubles = True
        with one_file_of_trees():
            edited, metadata = core_tree(path), None
            if edited is None:
                metadata = fresh_tree_metadata(_parse(path, current, project))
                edited = metadata.module
            tree, outcome = transform_file(
                edited,
                path,
                planned,
                step,
                context=lambda path=path: _context(plan, path),  # type: ignore[misc]
                stage=DOUBLES,
                metadata=metadata,
            )
            after = module_bytes(tree)
        if not Frameworks.of_plan(plan).mock:
            planned.facade_doubles = False  # not migrated: what needed migrating blocks
            lines = [b.line for b in outcome.double_blockers]
            if after != current:
                lines.append(_first_change(current, after))
            if lines:
                change.blockers.append(_mock_off_blocker(path, min(lines), "the facade's doubles"))
            continue
        for blocked in outcome.double_blockers:
            change.blockers.append(Blocker(path, blocked.line, "test-double", blocked.message, (path,), blocked.fix))
        if after == current and not outcome.double_blockers:
            planned.facade_doubles = False  # nothing to carry in this file
            continue
        if file is None:
            step.files.append(planned)
        if after == current:
            continue
        if not change.blockers:
            _check_output(path, after)
        change.cautions.extend(new_cleanup_awaits(path, current, after))
        new_edit = FileEdit(path, before, after)
        change.edits = [new_edit if e.path == path else e for e in change.edits] if edit else [*change.edits, new_edit]


def _may_name_doubles(data: bytes, words: Collection[str]) -> bool:
    """The facade-doubles codemod's own precondition (for doubles naming one of ``words``), read off the
    bytes before any parse; a file that is not UTF-8 (a coding cookie) is left to the codemod, which reads
    it in its declared encoding."""
    from asyncmigrate.codemods.migrate_facade_doubles import may_name_doubles

    try:
        code = data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return may_name_doubles(code, words)


def _doubles_left(plan: Plan, path: str, data: bytes, async_functions: Sequence[str]) -> list[Blocker]:
    """With the mock adapter off, the doubles of functions turning async are not migrated: a double that
    would have become an ``AsyncMock`` is a blocker (left alone it returns a value where the code awaits)."""
    from asyncmigrate.codemods._passes import fresh_tree_metadata, module_bytes
    from asyncmigrate.codemods.apply_edits import CORE, transform_file

    probe = file_edits(path, data, PropagationPlan(), test_doubles=async_functions)
    metadata = fresh_tree_metadata(_parse(path, data))
    tree, _ = transform_file(
        metadata.module,
        path,
        probe,
        Step(path),
        context=lambda: _context(plan, path),
        stage=CORE,
        metadata=metadata,
    )
    after = module_bytes(tree)
    if after == data:
        return []
    return [_mock_off_blocker(path, _first_change(data, after), "doubles of functions turning async")]


def _mock_off_blocker(path: str, line: int, what: str) -> Blocker:
    return Blocker(
        path,
        line,
        FRAMEWORK_OFF,
        f"{what} in this test must change with the migration, and the plan's frameworks leave {mock.NAME} out",
        (path,),
        f"{switched_off_fix(mock.NAME)}, or change these doubles by hand and apply again",
    )


def _first_change(before: bytes, after: bytes) -> int:
    """The first line (1-based) of ``before`` that ``after`` changes, an import the change needs aside."""
    old, new = before.splitlines(), after.splitlines()
    changed = [
        index
        for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
        if tag != "equal"
        for index in (range(i1, i2) if i2 > i1 else (i1,))
    ]
    plain = [i for i in changed if i >= len(old) or not old[i].lstrip().startswith((b"import ", b"from "))]
    return min(plain or changed or [0]) + 1


def _modules_importing(project: Project, modules: Iterable[str]) -> set[str]:
    """``modules`` and every project module importing one of them, directly or through other modules."""
    reached = set(modules)
    frontier = set(reached)
    while frontier:
        found = {
            entry.module
            for entry in project.index.values()
            if entry.module not in reached
            and any(target == name or target.startswith(name + ".") for target in entry.imported for name in frontier)
        }
        reached |= found
        frontier = found
    return reached


def _mentions_module(plan: Plan, project: Project, path: str, modules: Iterable[str]) -> bool:
    """A test module that uses a mock library and imports (or names in a string) a migrated module."""
    entry = project.index[path]
    try:
        data = (plan.root / path).read_bytes()
    except OSError:
        return False
    if not mock.may_make_doubles(data):
        return False
    return any(
        any(target == name or target.startswith(name + ".") for target in entry.imported) or name.encode() in data
        for name in modules
    )


_REWRITE_FIX = "rewrite this facade call by hand as the plan maps it, then apply again"
_EDIT_FIX = (
    "make the edit by hand, as planned (for `asyncio.run(coro, debug=...)`: `await coro`), or simplify the code "
    "at this line so the tool can, then apply again"
)


def _unapplied(path: str, missing: Sequence[tuple[int, str]], fix: str = _EDIT_FIX) -> list[Blocker]:
    return [
        Blocker(
            path,
            line,
            "edit_not_applied",
            f"the planned edit {what} was not applied (the code there is not the shape the plan expected)",
            (path,),
            fix,
        )
        for line, what in missing
    ]


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
        if not mock.may_make_doubles(data):
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


class Interrupted(BaseException):
    """A signal ended the apply (SIGTERM from CI or `timeout`, SIGINT from Ctrl-C).

    A BaseException, like KeyboardInterrupt, so that nothing on the way treats it as an ordinary error;
    ``detail`` says what was done about the step it interrupted.
    """

    def __init__(self, signame: str, detail: str = "") -> None:
        super().__init__(signame)
        self.signame = signame
        self.detail = detail


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises :class:`Interrupted` in the main thread, as SIGINT raises KeyboardInterrupt, so the
    test process group is stopped and the files restored. A second SIGTERM while that cleanup runs is
    ignored: the cleanup is what ends the process, and a SIGKILL is settled by the next command."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Interrupted("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    if change.propagation.traced:  # calls only the tests' trace showed: the evidence for these edits
        event["traced"] = [t.describe() for t in change.propagation.traced]
    if change.propagation.accepted_doubts:  # the plan's choice, kept where `report` and people look
        event["accepted_doubts"] = [a.to_json() for a in change.propagation.accepted_doubts]
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
    timeout: float | None = None,
    on_status: Callable[[str], None] | None = None,
    all_tests: bool | None = None,
) -> tuple[Plan, ApplyResult]:
    """Apply one planned file as one transaction; returns the updated plan and what happened.

    Files and plan move together (:mod:`asyncmigrate.workflow.commit`): the files are written with the entry set
    to migrated as one step, and when the tests fail, time out (``timeout``, default the plan's
    ``test_timeout``) or are interrupted, the files are restored with the entry set to failed as one step.
    ``all_tests``: run the whole suite rather than the tests that can reach the change (None: as the
    plan's ``test_selection`` says).
    """
    from asyncmigrate.workflow.testrun import run_tests as run_test_command
    from asyncmigrate.workflow.testrun import select_tests, whole_suite

    say = on_status or (lambda _message: None)
    if all_tests is None:
        all_tests = plan.test_selection == "all"
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
    used = sorted({c.target.split(".", 1)[0] for c in change.rewritten if c.path == target and c.target})
    record, plan = commit(
        plan,
        [FileChange(e.path, e.before, e.after) for e in changed],
        label=f"apply {target}",
        entries=[target],
        status=FileStatus.MIGRATED,
        event=_history(change),
        repositories=used,
    )
    result.written, result.transaction = True, record.id
    if not run_tests:
        result.status = FileStatus.MIGRATED
        return plan, result

    def fail(event: dict[str, Any]) -> Plan:
        event = {"event": "test", "restored": record.id, **event}
        _, updated = undo(plan, record.id, entries=[target], status=FileStatus.FAILED, event=event)
        return updated

    limit = timeout if timeout is not None else plan.test_timeout
    try:
        if all_tests:
            tests = list(whole_suite(plan))
            say(f"running the whole test suite ({', '.join(tests)}) for {target}")
        else:
            tests = select_tests(plan, [e.path for e in changed], related=change.related_tests)
            say(f"running {len(tests)} test module(s) for {target}")
        result.test_paths = tuple(tests)
        run = run_test_command(plan, tests, timeout=limit)
    except Interrupted as exc:
        fail({"reason": f"interrupted by {exc.signame}"})
        exc.detail = f"the files of {target} were restored and it is marked failed"
        raise
    except KeyboardInterrupt:
        fail({"reason": "interrupted by SIGINT"})
        raise Interrupted("SIGINT", f"the files of {target} were restored and it is marked failed") from None
    except AsyncMigrateError as exc:
        # the tests could not even run (command missing): the change is not verified
        fail({"reason": "the test command could not run", "output_tail": str(exc)})
        raise AsyncMigrateError(f"{exc}; the files of {target} were restored and it is marked failed") from None
    except Exception as exc:
        fail({"reason": f"the test run failed: {type(exc).__name__}: {exc}".splitlines()[0]})
        raise
    result.test_passed, result.test_output = run.passed, run.output_tail
    test_result = {
        "passed": run.passed,
        "returncode": run.returncode,
        "modules": len(tests),
        "seconds": round(run.duration, 2),
        "test_modules": "all" if all_tests else list(tests),
    }
    if run.passed:
        result.status = FileStatus.VERIFIED
        plan = record_status(
            plan, target, FileStatus.VERIFIED, {"event": "test", "transaction": record.id, "test_result": test_result}
        )
        return plan, result
    result.status = FileStatus.FAILED
    event: dict[str, Any] = {"test_result": test_result, "output_tail": run.output_tail}
    if run.timed_out:
        event["reason"] = f"the tests did not finish within {limit:g} s"
    plan = fail(event)
    return plan, result


def apply_files(
    plan: Plan,
    targets: Sequence[str],
    *,
    dry_run: bool = False,
    force: bool = False,
    run_tests: bool = True,
    use_cache: bool = True,
    timeout: float | None = None,
    on_status: Callable[[str], None] | None = None,
    all_tests: bool | None = None,
    on_result: Callable[[ApplyResult], None] | None = None,
) -> tuple[Plan, list[ApplyResult]]:
    """Apply each target in order, each its own transaction, under the apply lock.

    ``on_result`` hears each target's result as soon as it is settled (tests run, files kept or
    restored), so that a long ``--all`` shows each outcome as it happens rather than at the end.
    What an earlier apply or rollback left half done is settled first. SIGTERM ends the run like
    SIGINT: the test process group is stopped, the step in progress undone, and :class:`Interrupted`
    raised.
    """
    results: list[ApplyResult] = []

    def settled(result: ApplyResult) -> None:
        results.append(result)
        if on_result:
            on_result(result)

    if dry_run:
        for target in targets:
            plan, result = apply_file(plan, target, dry_run=True, use_cache=use_cache)
            settled(result)
        return plan, results
    with _sigterm_interrupts(), locked(plan, on_note=on_status) as (_lock, recovered):
        for record in recovered:
            if on_status:
                on_status(f"restored the files of an interrupted {record.label} ({record.id})")
        for target in targets:
            plan, result = apply_file(
                plan,
                target,
                force=force,
                run_tests=run_tests,
                use_cache=use_cache,
                timeout=timeout,
                on_status=on_status,
                all_tests=all_tests,
            )
            settled(result)
    return plan, results


# --- the edit plan --------------------------------------------------------------------------------


def plan_edits(plan: Plan, targets: Sequence[str], *, use_cache: bool = True) -> tuple[EditPlan, list[ComputedChange]]:
    """The edit plan of applying ``targets`` in order, as ``apply`` would, writing nothing.

    Each target's change is planned on the text the earlier ones leave (``apply`` writes each before
    computing the next), so the project's files are copied to a scratch directory where each
    unblocked change is written; the edits name nodes of the text their step starts from."""
    import shutil
    import tempfile

    document = EditPlan(plan.path.relative_to(plan.root).as_posix(), hashlib.sha256(plan.path.read_bytes()).hexdigest())
    changes: list[ComputedChange] = []
    if len(targets) == 1:  # nothing to write between steps: plan in place
        change = compute_change(plan, targets, use_cache=use_cache)
        document.steps.append(change.step)
        return document, [change]
    with tempfile.TemporaryDirectory(prefix="asyncmigrate-edits-") as scratch:
        root = Path(scratch)
        names = {*project_paths(plan), plan.path.relative_to(plan.root).as_posix()}
        names |= {name for name in _SETTINGS if (plan.root / name).is_file()}
        for name in sorted(names):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(plan.root / name, root / name)
        copy = load_plan(root / plan.path.relative_to(plan.root), check_files=False)
        for target in targets:
            change = compute_change(copy, [target], use_cache=use_cache)
            change.step.target = target
            document.steps.append(change.step)
            changes.append(change)
            if not change.blockers:
                for edit in change.changed:
                    (root / edit.path).write_bytes(edit.after)
    return document, changes


def write_edit_plan(document: EditPlan, destination: Path) -> None:
    """Write the edit plan atomically: a reader sees the old file or the whole new one."""
    try:
        workspace_files.write_text_atomic(destination, document.dumps())
    except OSError as exc:
        raise AsyncMigrateError(f"{destination}: cannot write the edit plan: {exc.strerror}") from None
