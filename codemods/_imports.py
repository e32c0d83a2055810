"""LibCST's import clean-up, skipped where ``ast`` shows it would remove nothing (no codemod lives here).

``RemoveImportsVisitor`` runs a scope analysis of the whole module after a codemod that asked for
imports to go; in most migrated files the code still uses the facade's factory or class, so it removes
nothing and the analysis is pure cost. ``SkipsNeedlessImportCleanup`` leaves it out exactly then.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Sequence

import libcst as cst
from libcst.codemod import Codemod, CodemodContext
from libcst.codemod.visitors import RemoveImportsVisitor

from asyncmigrate.codemods._passes import QuickImportVisitors, module_code

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


def imports_no_longer_read(before: str, after: str) -> list[ScheduledRemoval]:
    """The module-level imports of ``before`` whose names ``before`` reads and ``after`` no longer does, as
    ``RemoveImportsVisitor`` takes them. A transform that replaced every use of a name (``MagicMock()`` become
    ``AsyncMock()``, a patch of the facade's class become one of the repository's) would leave its import
    unused, which a linter rejects (pyflakes' F401, on by default in ruff); the visitor removes each only if
    scope analysis finds it unused. Relative and star imports are left alone, as is code ``ast`` cannot
    parse (nothing is asked)."""
    try:
        old, new = ast.parse(before), ast.parse(after)
    except (SyntaxError, ValueError):
        return []
    still_read = {node.id for node in ast.walk(new) if isinstance(node, ast.Name)}
    no_longer_read = {node.id for node in ast.walk(old) if isinstance(node, ast.Name)} - still_read
    found: list[ScheduledRemoval] = []
    for statement in old.body:
        if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            for alias in statement.names:
                if alias.name != "*" and (alias.asname or alias.name) in no_longer_read:
                    found.append((statement.module, alias.name, alias.asname))
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if (alias.asname or alias.name.split(".")[0]) in no_longer_read:
                    found.append((alias.name, None, alias.asname))
    return found


def remove_imports_no_longer_read(context: CodemodContext, before: cst.Module, after: cst.Module) -> None:
    """Ask ``RemoveImportsVisitor`` (through ``context``) for the imports a transform from ``before`` to
    ``after`` stopped reading (``imports_no_longer_read``)."""
    old, new = module_code(before), module_code(after)
    if old != new:
        for module, name, asname in imports_no_longer_read(old, new):
            RemoveImportsVisitor.remove_unused_import(context, module, name, asname)


class SkipsNeedlessImportCleanup(QuickImportVisitors):
    """A codemod whose import clean-up is left out when the code shows it would keep every import it was
    asked to remove (put this first among the bases)."""

    def _instantiate_and_run(self, transform: type[Codemod], tree: cst.Module) -> cst.Module:
        if transform is RemoveImportsVisitor:
            scheduled = self.context.scratch.get(RemoveImportsVisitor.CONTEXT_KEY, [])
            if imports_still_used(module_code(tree), scheduled):
                return tree
        return super()._instantiate_and_run(transform, tree)
