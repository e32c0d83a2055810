"""Make an edit plan (``asyncmigrate.migration.edits``): every transform of a file on one tree.

``apply`` makes its change through :func:`transform_file`, and the same plan, written by
``asyncmigrate apply --dry-run --emit-edits edits.json``, is made by LibCST's runner, in parallel:

    python -m libcst.tool codemod -j 2 apply_edits.ApplyEditsCommand --edits edits.json server/

Each file is parsed once (by the runner, or by ``apply``); the plan's steps that edit it are made in
order on that tree, each step's transforms in the order ``apply`` runs them: the propagation (``async
def``, ``await``, locks, test case bases), the facade call rewrites, the test doubles of functions
turning async, then the facade doubles carried over to the repositories. Nothing is analysed across
files here: what to edit is the plan's, read from the document for each file (no state is shared
between files, so any number of workers gives the same output). Before a step is made, every node
it names is checked against the text; a file changed since the plan was made is refused with
file:line, as is a planned edit that could not be made.

Run from the project root (or give ``--root``); files the plan does not edit are left as they are.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, SkipFile
from libcst.codemod.visitors import RemoveImportsVisitor

from asyncmigrate.codemods.migrate_facade_doubles import DoubleBlocker, FacadeDoubles, MigrateFacadeDoublesCommand
from asyncmigrate.codemods.migrate_test_doubles import MigrateTestDoublesCommand
from asyncmigrate.codemods.propagate_async import PropagateAsyncCommand
from asyncmigrate.codemods.rewrite_facade_calls import RewriteFacadeCallsCommand
from asyncmigrate.config.plan import Plan, load_plan
from asyncmigrate.errors import AsyncMigrateError
from asyncmigrate.migration.edits import EditPlan, FileEdits, Step
from asyncmigrate.types import CallSite

CORE = "core"  # propagation, facade call rewrites, test doubles
DOUBLES = "doubles"  # the facade doubles carried over (they read what the core made of the targets)


@dataclass
class FileOutcome:
    """What making one file's edits found: the planned edits not made, the doubles that could not be carried."""

    not_propagated: list[tuple[int, str]] = field(default_factory=list)  # (line, what)
    not_rewritten: list[tuple[int, str]] = field(default_factory=list)
    rewritten: list[CallSite] = field(default_factory=list)
    double_blockers: list[DoubleBlocker] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.not_propagated or self.not_rewritten or self.double_blockers)


def unrewritten(planned: Sequence[tuple[int, str, str, str]], done: Sequence[CallSite]) -> list[tuple[int, str]]:
    """The planned rewrites (line, function, receiver, method) the rewrite did not make, matched by
    function and method: the propagation moved lines, so positions no longer match."""
    left = Counter((c.function, c.method) for c in done)
    missing = []
    for line, function, receiver, method in planned:
        key = (function, method)
        if left[key] > 0:
            left[key] -= 1
        else:
            missing.append((line, f"rewrite of {receiver}.{method}() in {function}"))
    return missing


ScheduledRemoval = tuple[str, str | None, str | None]  # (module, object, alias), as RemoveImportsVisitor takes them


def imports_still_used(code: str, scheduled: Sequence[ScheduledRemoval]) -> bool:
    """Does ``code`` show, with ``ast`` alone, that LibCST's ``RemoveImportsVisitor`` would remove none of
    ``scheduled``? It removes an import that matches one exactly (name and alias) and that scope analysis
    finds unused, so it keeps one whose name is bound once, at module level, by that import alone and is
    read somewhere. When that cannot be shown (a name bound twice, an import in a function, a dotted
    ``import a.b``, a star import, code ``ast`` cannot parse), the answer is False: run the visitor."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    bindings: Counter[str] = Counter()
    read: set[str] = set()
    imports: list[tuple[ast.alias, bool, bool]] = []  # (alias, from-import, at module level)
    pending: list[tuple[ast.AST, bool]] = [(tree, True)]
    while pending:
        node, module_level = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return False
                bindings[alias.asname or alias.name.split(".")[0]] += 1
                imports.append((alias, isinstance(node, ast.ImportFrom), module_level))
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                read.add(node.id)
            else:
                bindings[node.id] += 1
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bindings[node.name] += 1
        elif isinstance(node, ast.arg):
            bindings[node.arg] += 1
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bindings.update({name: 2 for name in node.names})  # bound elsewhere than it seems
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bindings[node.name] += 1
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bindings[node.rest] += 1
        opens_scope = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
        pending.extend((child, module_level and not opens_scope) for child in ast.iter_child_nodes(node))
    for module, name, asname in scheduled:
        if name is None and "." in module:
            return False
        for imported, from_import, module_level in imports:
            if name is not None:
                matches = from_import and imported.name == name
            else:
                matches = not from_import and imported.name == module
            if not matches or imported.asname != asname:
                continue
            bound = asname or imported.name
            if not module_level or bindings[bound] != 1 or bound not in read:
                return False
    return True


class _EditPlanRewrite(RewriteFacadeCallsCommand):
    """The rewrite as the edit plan makes it. LibCST's import clean-up after it (a scope analysis of
    the whole module) is left out when the code shows it would keep every import it was asked to
    remove, which is most files: their other code still uses the facade's factory or class."""

    def _instantiate_and_run(self, transform: type[Codemod], tree: cst.Module) -> cst.Module:
        if transform is RemoveImportsVisitor:
            scheduled = self.context.scratch.get(RemoveImportsVisitor.CONTEXT_KEY, [])
            if imports_still_used(tree.code, scheduled):
                return tree
        return super()._instantiate_and_run(transform, tree)


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
    plan: Callable[[], Plan],
    stage: str | None = None,
    outcome: FileOutcome | None = None,
) -> tuple[cst.Module, FileOutcome]:
    """Make one step's edits of one file on ``tree`` (``stage``: CORE or DOUBLES only; None: both).

    ``context`` makes a fresh codemod context for the file; ``plan`` gives the migration plan (read
    only when the file has facade calls to rewrite)."""
    outcome = outcome if outcome is not None else FileOutcome()
    if stage in (None, CORE):
        if edits.propagates:
            command = PropagateAsyncCommand(context(), propagation=edits.propagation(), path=path)
            tree = _run(command, tree, outcome)
            outcome.not_propagated.extend(command.missing())
        if edits.rewrites:
            # the functions holding the calls are ``async def`` by now: the propagation above made them so
            rewrite = _EditPlanRewrite(context(), plan_object=plan(), await_in_sync_def=True)
            tree = _run(rewrite, tree, outcome)
            outcome.rewritten.extend(rewrite.outcome.rewritten)
            planned = [(r.node.line, r.function, r.receiver, r.method) for r in edits.rewrites]
            outcome.not_rewritten.extend(unrewritten(planned, rewrite.outcome.rewritten))
        if edits.test_doubles:
            tree = _run(MigrateTestDoublesCommand(context(), async_functions=edits.test_doubles), tree, outcome)
    if stage in (None, DOUBLES) and edits.facade_doubles and step.facade_doubles is not None:
        doubles = MigrateFacadeDoublesCommand(context(), FacadeDoubles.from_json(step.facade_doubles))
        tree = _run(doubles, tree, outcome)
        outcome.double_blockers.extend(doubles.outcome.blockers)
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

    def _plan(self, document: EditPlan) -> Plan:
        path = self.root / document.plan_file
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AsyncMigrateError(f"{path}: cannot read the migration plan: {exc.strerror}") from None
        if hashlib.sha256(data).hexdigest() != document.plan_sha256:
            raise AsyncMigrateError(
                f"{document.plan_file}:1: changed since the edit plan was made; emit the edit plan again"
            )
        return load_plan(path, check_files=False)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        document = EditPlan.load(self.edits_path)
        path = self._relative_path()
        steps = document.for_path(path)
        if not steps:
            raise SkipFile(f"{path}: the edit plan does not edit it")
        plan: list[Plan] = []

        def migration_plan() -> Plan:
            if not plan:
                plan.append(self._plan(document))
            return plan[0]

        for step, edits in steps:
            # the step's edits name nodes of the text the earlier steps left: check them before editing
            stale = edits.stale(tree.bytes)
            if stale is not None:
                raise AsyncMigrateError(stale)
            tree, outcome = transform_file(tree, path, edits, step, context=self._sub_context, plan=migration_plan)
            for warning in outcome.warnings:
                self.warn(warning)
            problems = [f"{path}:{line}: the planned edit {what} was not made" for line, what in outcome.not_propagated]
            problems += [f"{path}:{line}: the planned {what} was not made" for line, what in outcome.not_rewritten]
            problems += [f"{path}:{b.line}: {b.message}; {b.fix}" for b in outcome.double_blockers]
            if problems:
                raise AsyncMigrateError("; ".join(problems))
        return tree
