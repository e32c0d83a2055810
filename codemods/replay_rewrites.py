"""Make the facade call rewrites an edit plan records, as ``rewrite_facade_calls`` decided and wrote them.

Nothing is decided here: the migration plan is not read and no receiver is resolved. Each recorded
edit names its node by a span of the text the step's propagation leaves (the tree this codemod is
given): a replaced call (or ``await``) becomes the recorded source text, parsed; a statement gets the
recorded statements after it, and goes when the record says so; a function gets the recorded
parameters; the recorded imports are asked of LibCST's AddImportsVisitor / RemoveImportsVisitor, as the
rewrite asked them. Before anything is made, the text at every span is checked against the text the
record expects; an edit whose node is not there, or that was not made, is named by ``missing()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import PositionProvider

from asyncmigrate.codemods._imports import SkipsNeedlessImportCleanup
from asyncmigrate.codemods._passes import QuickVisitorCommand, WalksEditedLines, module_code
from asyncmigrate.codemods._syntax import (
    block_indent,
    parse_expression_text,
    parse_parameters_text,
    with_statements_after,
)
from asyncmigrate.migration.edits import (
    ADD,
    AWAIT,
    CALL,
    FUNCTION,
    STATEMENT,
    CallRewrite,
    FileEdits,
    ParameterEdit,
    Replacement,
    Span,
    StatementEdit,
    source_lines,
)

_Edit = TypeVar("_Edit")


class ReplayRewritesCommand(SkipsNeedlessImportCleanup, WalksEditedLines, QuickVisitorCommand):
    DESCRIPTION = "Make the facade call rewrites an edit plan records (replacements, statements, parameters, imports)."
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, context: CodemodContext, edits: FileEdits) -> None:
        super().__init__(context)
        self.edits = edits
        self._replacements: dict[tuple[str, int, int, int, int], tuple[CallRewrite, Replacement]] = {}
        self._statements: dict[tuple[str, int, int, int, int], StatementEdit] = {}
        self._parameters: dict[tuple[str, int, int, int, int], ParameterEdit] = {}
        self._made: set[tuple[str, int, int, int, int]] = set()
        self._refused: list[tuple[int, str]] = []
        self._indents: list[str] = []
        self.edited: cst.Module | None = None  # the tree with the recorded node edits made, before the imports

    def missing(self) -> list[tuple[int, str]]:
        """(line, what) of each recorded edit not made: a rewrite by the line of its call in the text the
        step starts from, a statement or parameter edit by its line in the text the propagation leaves."""
        missing = list(self._refused)
        missing += [(r.node.line, r.what) for key, (r, _) in self._replacements.items() if key not in self._made]
        missing += [
            (e.node.line, f"statement edit at `{e.node.text}`")
            for k, e in self._statements.items()
            if k not in self._made
        ]
        missing += [
            (e.node.line, f"parameter edit of `{e.node.text}`")
            for k, e in self._parameters.items()
            if k not in self._made
        ]
        return sorted(missing)

    def _expect(self, span: Span, lines: list[str], line: int, what: str) -> bool:
        problem = span.mismatch(lines)
        if problem is not None:
            self._refused.append((line, f"{what}: {problem}"))
        return problem is None

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        lines = source_lines(module_code(tree))
        for rewrite in self.edits.rewrites:
            for replacement in rewrite.replace:
                if self._expect(replacement.node, lines, rewrite.node.line, rewrite.what):
                    self._replacements[replacement.node.key] = (rewrite, replacement)
        for statement in self.edits.statements:
            if self._expect(statement.node, lines, statement.node.line, "statement edit"):
                self._statements[statement.node.key] = statement
        for parameters in self.edits.parameters:
            if self._expect(parameters.node, lines, parameters.node.line, "parameter edit"):
                self._parameters[parameters.node.key] = parameters
        for item in self.edits.imports:
            if item.action == ADD:
                AddImportsVisitor.add_needed_import(self.context, item.module, item.name, item.alias, item.relative)
            else:
                RemoveImportsVisitor.remove_unused_import(self.context, item.module, item.name, item.alias)
        self.edited = tree
        if self._replacements or self._statements or self._parameters:
            # every edit is made where the walk leaves the node its span names: walk only toward those lines
            spans = (*self._replacements, *self._statements, *self._parameters)
            self.edited_lines = sorted({line for _, line, _, _, _ in spans})
            self.edited = super().transform_module_impl(tree)
        return self.edited

    @property
    def _module(self) -> cst.Module:
        module = self.context.module
        assert module is not None  # set while the tree is transformed
        return module

    def _found(
        self, table: Mapping[tuple[str, int, int, int, int], _Edit], node: cst.CSTNode, kind: str
    ) -> _Edit | None:
        position = self.get_metadata(PositionProvider, node)
        key = (kind, position.start.line, position.start.column, position.end.line, position.end.column)
        edit = table.get(key)
        if edit is not None:
            self._made.add(key)
        return edit

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._indents.append(block_indent(node, self._module))

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self._indents.pop()
        return updated_node

    def _replaced(
        self, original_node: cst.BaseExpression, updated_node: cst.BaseExpression, kind: str
    ) -> cst.BaseExpression:
        found = self._found(self._replacements, original_node, kind)
        if found is None:
            return updated_node
        return parse_expression_text(found[1].text, self._module, "".join(self._indents))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        return self._replaced(original_node, updated_node, CALL)

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        return self._replaced(original_node, updated_node, AWAIT)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        edit = self._found(self._statements, original_node, STATEMENT)
        if edit is None:
            return updated_node
        added = [cst.ensure_type(cst.parse_statement(source), cst.SimpleStatementLine) for source in edit.insert_after]
        return with_statements_after(updated_node, not edit.remove, added)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        edit = self._found(self._parameters, original_node, FUNCTION)
        if edit is None:
            return updated_node
        return updated_node.with_changes(params=parse_parameters_text(edit.text, self._module, "".join(self._indents)))
