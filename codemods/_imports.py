"""LibCST's import clean-up, made without its scope analysis where ``ast`` tells what it would remove
(no codemod lives here).

``RemoveImportsVisitor`` runs a scope analysis of the whole module after a codemod that asked for
imports to go, and walks the whole tree. In most migrated files the code still uses the facade's factory
or class, so it removes nothing: ``SkipsNeedlessImportCleanup`` leaves it out then. Where the code shows
an import line at the top of the module is read nowhere, ``KnownUnusedImportsRemover`` removes it as the
visitor would, walking the module's top-level lines alone. Anything ``ast`` cannot settle goes to the
visitor (``imports_known_unused``); ``tests/codemods/test_import_cleanup_skip.py`` holds the two to the
same output.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager

import libcst as cst
from libcst.codemod import Codemod, CodemodContext
from libcst.codemod.visitors import RemoveImportsVisitor
from libcst.helpers import get_full_name_for_node

from asyncmigrate.codemods._passes import QuickImportsRemover, QuickImportVisitors, module_code

ScheduledRemoval = tuple[str, str | None, str | None]  # (module, object, alias), as RemoveImportsVisitor takes them


def imports_still_used(code: str, scheduled: Sequence[ScheduledRemoval]) -> bool:
    """Does ``code`` show, with ``ast`` alone, that LibCST's ``RemoveImportsVisitor`` would remove none of
    ``scheduled``? (``imports_known_unused`` says so with an empty answer.)"""
    return imports_known_unused(code, scheduled) == set()


def imports_known_unused(code: str, scheduled: Sequence[ScheduledRemoval]) -> set[ScheduledRemoval] | None:
    """Which of ``scheduled`` LibCST's ``RemoveImportsVisitor`` would remove from ``code``, where ``ast`` alone
    can tell; None where it cannot: then run the visitor.

    The visitor removes an import that matches one exactly (name and alias) and that scope analysis finds
    unused. So it keeps one whose name is bound once, at module level, by that import alone and is read
    somewhere; and it removes one so bound that is read nowhere, mentioned in no string (``__all__``, a
    string annotation) and imported by an absolute import of the module asked for. Only an import line
    at the top of the module is answered for (``KnownUnusedImportsRemover`` edits no other). Anything
    else (a name bound twice, an import in a function or under an ``if``, a dotted ``import a.b``, a star
    or relative import, code ``ast`` cannot parse) is left to the visitor."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    bindings: Counter[str] = Counter()
    read: set[str] = set()
    texts: list[str] = []  # the strings a name may be read from (a docstring is none of them)
    statement_strings: set[int] = set()  # ids of the strings standing alone as statements (docstrings)
    imports: list[tuple[ast.alias, ast.Import | ast.ImportFrom, bool]] = []  # (alias, statement, at module level)
    pending: list[tuple[ast.AST, bool]] = [(tree, True)]
    while pending:
        node, module_level = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return None
                bindings[alias.asname or alias.name.split(".")[0]] += 1
                imports.append((alias, node, module_level))
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
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            statement_strings.add(id(node.value))  # the walk meets the string after its statement
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in statement_strings:
            texts.append(node.value)
        opens_scope = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
        pending.extend((child, module_level and not opens_scope) for child in ast.iter_child_nodes(node))
    top = {id(statement) for statement in tree.body}
    unused: set[ScheduledRemoval] = set()
    for module, name, asname in scheduled:
        if name is None and "." in module:
            return None
        for imported, statement, module_level in imports:
            from_import = isinstance(statement, ast.ImportFrom)
            if name is not None:
                matches = from_import and imported.name == name
            else:
                matches = not from_import and imported.name == module
            if not matches or imported.asname != asname:
                continue
            bound = asname or imported.name
            if not module_level or bindings[bound] != 1:
                return None
            if bound in read:
                continue  # read: kept
            if isinstance(statement, ast.ImportFrom) and (statement.level or statement.module != module):
                if statement.level:
                    return None  # which module a relative import names is the visitor's to work out
                continue  # another module's name: the visitor leaves it
            if module == "__future__" or id(statement) not in top or any(bound in text for text in texts):
                return None
            unused.add((module, name, asname))
    return unused


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
    asked to remove, and made by ``KnownUnusedImportsRemover`` when the code shows which it would remove;
    LibCST's visitor runs only where ``ast`` cannot tell (put this first among the bases)."""

    def _instantiate_and_run(self, transform: type[Codemod], tree: cst.Module) -> cst.Module:
        if transform is RemoveImportsVisitor:
            scheduled = self.context.scratch.get(RemoveImportsVisitor.CONTEXT_KEY, [])
            unused = imports_known_unused(module_code(tree), scheduled)
            if unused is not None:
                return KnownUnusedImportsRemover(self.context, unused).transform_module(tree) if unused else tree
        return super()._instantiate_and_run(transform, tree)


class KnownUnusedImportsRemover(QuickImportsRemover):
    """``QuickImportsRemover`` told which imports are unused (``imports_known_unused``), each on an import
    line at the top of the module: no scope analysis, and a walk of the module's top-level lines alone.
    It removes them as the visitor does (its own ``leave_Import`` and ``leave_ImportFrom``), keeping the
    module's spacing as ``QuickImportsRemover`` does."""

    def __init__(self, context: CodemodContext, unused: Collection[ScheduledRemoval]) -> None:
        super().__init__(context, sorted(unused, key=repr))  # besides those the context schedules
        self._known = set(unused)
        self._top: set[int] = set()

    @contextmanager
    def _handle_metadata_reference(self, module: cst.Module) -> Iterator[cst.Module]:
        yield module  # no metadata is read

    def visit_Module(self, node: cst.Module) -> None:
        self._top = set(map(id, node.body))
        for statement in node.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        if (alias.evaluated_name, None, alias.evaluated_alias) in self._known:
                            self._unused_imports[alias] = small
                elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                    if isinstance(small.names, cst.ImportStar):
                        continue
                    module = get_full_name_for_node(small.module)
                    for alias in small.names:
                        if (module, alias.evaluated_name, alias.evaluated_alias) in self._known:
                            self._unused_imports[alias] = small

    def on_visit(self, node: cst.CSTNode) -> bool:
        descend = super().on_visit(node)
        if isinstance(node, cst.Module):
            return descend
        return descend and id(node) in self._top and isinstance(node, cst.SimpleStatementLine)
