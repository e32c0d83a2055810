"""Make an edit plan (``asyncmigrate.migration.edits``): every transform of a file on one tree.

``apply`` makes its change through :func:`transform_file`, and the same plan, written by
``asyncmigrate apply --dry-run --emit-edits edits.json``, is made by LibCST's runner, in parallel:

    python -m libcst.tool codemod -j 2 apply_edits.ApplyEditsCommand --edits edits.json server/

Each file is parsed once (by the runner, or by ``apply``); the plan's steps that edit it are made in
order on that tree, each step's transforms in the order ``apply`` runs them: the propagation (``async
def``, ``await``, locks, test case bases), the facade call rewrites as recorded (``replay_rewrites``),
the test doubles of functions turning async, then the facade doubles carried over to the repositories.
Nothing is analysed or decided here: what to edit is the plan's, read from the document for each file
(no state is shared between files, so any number of workers gives the same output), and the
migration plan the document names is not read (its sha256 stays in the document as provenance).
Before a step is made, every node it names is checked against the text; a file changed since the plan
was made is refused with file:line, as is a planned edit that could not be made.

Run from the project root (or give ``--root``); files the plan does not edit are left as they are.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst import MetadataWrapper
from libcst.codemod import Codemod, CodemodContext, SkipFile

from asyncmigrate.codemods._passes import QuickMetadataWrapper, module_bytes, module_code, sharing
from asyncmigrate.codemods.migrate_facade_doubles import DoubleBlocker, FacadeDoubles, MigrateFacadeDoublesCommand
from asyncmigrate.codemods.migrate_test_doubles import MigrateTestDoublesCommand
from asyncmigrate.codemods.propagate_async import PropagateAsyncCommand
from asyncmigrate.codemods.replay_rewrites import ReplayRewritesCommand
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.migration.edits import EditPlan, FileEdits, Step

CORE = "core"  # propagation, facade call rewrites, test doubles
DOUBLES = "doubles"  # the facade doubles carried over (they read what the core made of the targets)


@dataclass
class FileOutcome:
    """What making one file's edits found: the planned edits not made, the doubles that could not be carried."""

    not_propagated: list[tuple[int, str]] = field(default_factory=list)  # (line, what)
    not_rewritten: list[tuple[int, str]] = field(default_factory=list)
    double_blockers: list[DoubleBlocker] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.not_propagated or self.not_rewritten or self.double_blockers)


def _run(command: Codemod, tree: cst.Module, outcome: FileOutcome) -> cst.Module:
    result = command.transform_module(tree)
    outcome.warnings.extend(command.context.warnings)
    return result


def transform_file(
    tree: cst.Module,
    path: str,
    edits: FileEdits,
    step: Step,
    *,
    context: Callable[[], CodemodContext],
    decide: Callable[[cst.Module, FileOutcome, CodemodContext], cst.Module] | None = None,
    stage: str | None = None,
    outcome: FileOutcome | None = None,
    metadata: MetadataWrapper | None = None,
) -> tuple[cst.Module, FileOutcome]:
    """Make one step's edits of one file on ``tree`` (``stage``: CORE or DOUBLES only; None: both).

    ``context`` makes a fresh codemod context for the file. ``decide`` is ``compute_change``'s: given
    the tree the propagation left and a context for it, it records the call rewrites' edits in ``edits``
    (and what it could not rewrite in the outcome) and returns what deciding wrote (imports aside: they
    are recorded, and added and removed once, by the replay), which the replay must reproduce.
    ``metadata``: a wrapper over ``tree`` itself (``metadata.module is tree``) whose metadata a pass
    before this one resolved, shared with the first pass here."""
    outcome = outcome if outcome is not None else FileOutcome()
    if stage in (None, CORE):
        if edits.propagates:
            command = PropagateAsyncCommand(sharing(context(), metadata), propagation=edits.propagation(), path=path)
            tree = _run(command, tree, outcome)
            metadata = None  # a new tree
            outcome.not_propagated.extend(command.missing())
        deciding = decide is not None and bool(edits.rewrites)
        if deciding or edits.rewrite_edits:
            # the decision and its replay read the same tree: its metadata is resolved once, for both
            metadata = metadata if metadata is not None else QuickMetadataWrapper(tree)
            tree = metadata.module
        decided = decide(tree, outcome, sharing(context(), metadata)) if decide is not None and deciding else None
        edited = tree
        if edits.rewrite_edits:
            replay = ReplayRewritesCommand(sharing(context(), metadata), edits)
            tree = _run(replay, tree, outcome)
            outcome.not_rewritten.extend(replay.missing())
            edited = replay.edited or edited
            metadata = None
        if decided is not None and outcome.complete and module_code(decided) != module_code(edited):
            raise AsyncMigrateError(
                f"{path}: replaying the recorded call rewrites gives other code than deciding them; this is a bug"
            )
        if edits.test_doubles:
            doubles = MigrateTestDoublesCommand(sharing(context(), metadata), async_functions=edits.test_doubles)
            tree = _run(doubles, tree, outcome)
            metadata = None
    if stage in (None, DOUBLES) and edits.facade_doubles and step.facade_doubles is not None:
        doubled = FacadeDoubles.from_json(step.facade_doubles)
        carried = MigrateFacadeDoublesCommand(sharing(context(), metadata), doubled)
        tree = _run(carried, tree, outcome)
        outcome.double_blockers.extend(carried.outcome.blockers)
    return tree, outcome


class ApplyEditsCommand(Codemod):
    DESCRIPTION = "Make the edits of an edit plan (`asyncmigrate apply --dry-run --emit-edits FILE`)."

    def __init__(self, context: CodemodContext, edits: str, root: str | None = None) -> None:
        super().__init__(context)
        self.edits_path = edits
        self.root = Path(root) if root else Path.cwd()

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--edits", dest="edits", required=True, help="the edit plan (JSON) to make")
        arg_parser.add_argument(
            "--root", dest="root", default=None, help="the project root the plan's paths are relative to (default: .)"
        )

    def _relative_path(self) -> str:
        filename = self.context.filename or ""
        try:
            return Path(filename).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            raise SkipFile(f"{filename}: outside the project root {self.root}") from None

    def _sub_context(self) -> CodemodContext:
        return CodemodContext(
            filename=self.context.filename,
            full_module_name=self.context.full_module_name,
            full_package_name=self.context.full_package_name,
        )

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        document = EditPlan.load(self.edits_path)
        path = self._relative_path()
        steps = document.for_path(path)
        if not steps:
            raise SkipFile(f"{path}: the edit plan does not edit it")
        for step, edits in steps:
            # the step's edits name nodes of the text the earlier steps left: check them before editing
            stale = edits.stale(module_bytes(tree))
            if stale is not None:
                raise AsyncMigrateError(stale)
            tree, outcome = transform_file(tree, path, edits, step, context=self._sub_context)
            for warning in outcome.warnings:
                self.warn(warning)
            problems = [f"{path}:{line}: the planned edit {what} was not made" for line, what in outcome.not_propagated]
            problems += [f"{path}:{line}: the planned {what} was not made" for line, what in outcome.not_rewritten]
            problems += [f"{path}:{b.line}: {b.message}; {b.fix}" for b in outcome.double_blockers]
            if problems:
                raise AsyncMigrateError("; ".join(problems))
        return tree
