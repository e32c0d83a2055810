"""Python 3.12 syntax, read on 3.11: lower it to text ``ast`` accepts, keeping every call where it was.

The call graph reads files with ``ast``, which on 3.11 rejects ``type X = ...``, PEP 695 type parameters
(``def f[T](...)``, ``class C[T]:``) and PEP 701 f-strings (``f"{x["k"]}"``). LibCST parses them. Each
such construct is replaced, in place, by text of the same shape: type parameters become spaces, an
alias ``type X[T] = v`` becomes ``X = v`` with ``v`` where it was, an f-string becomes a tuple of its
expressions, each at its own line and column. Calls keep their positions, so the edits the propagation
plans by line and column land on the real file.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider


class _Finder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.blanks: list[CodeRange] = []  # text to turn into spaces
        self.aliases: list[tuple[CodeRange, str, CodeRange]] = []  # statement, name, value
        self.fstrings: list[tuple[CodeRange, list[CodeRange]]] = []  # f-string, its expressions

    def _range(self, node: cst.CSTNode) -> CodeRange:
        return self.get_metadata(PositionProvider, node)

    def visit_TypeParameters(self, node: cst.TypeParameters) -> bool:
        self.blanks.append(self._range(node))
        return False

    def visit_TypeAlias(self, node: cst.TypeAlias) -> bool:
        self.aliases.append((self._range(node), node.name.value, self._range(node.value)))
        return False

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        code = cst.Module([]).code_for_node(node)
        try:
            ast.parse(code, mode="eval")
            return True  # 3.11 reads it as it is
        except SyntaxError:
            pass
        expressions = [
            self._range(part.expression) for part in node.parts if isinstance(part, cst.FormattedStringExpression)
        ]
        self.fstrings.append((self._range(node), expressions))
        return False


def _offsets(lines: Sequence[str]) -> list[int]:
    starts, total = [], 0
    for line in lines:
        starts.append(total)
        total += len(line)
    return starts


def lower_newer_syntax(source: bytes) -> bytes | None:
    """``source`` with 3.12-only syntax lowered for ``ast`` on 3.11; None when LibCST cannot parse it either."""
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    finder = _Finder()
    MetadataWrapper(module, unsafe_skip_copy=True).visit(finder)
    text = module.code
    lines = text.splitlines(keepends=True)
    starts = _offsets(lines)
    chars = list(text)

    def at(line: int, column: int) -> int:
        return starts[line - 1] + column

    def blank(start: int, end: int) -> None:
        for index in range(start, end):
            if chars[index] not in "\r\n":
                chars[index] = " "

    for where in finder.blanks:
        blank(at(where.start.line, where.start.column), at(where.end.line, where.end.column))
    for statement, name, value in finder.aliases:
        start, value_start = at(statement.start.line, statement.start.column), at(value.start.line, value.start.column)
        blank(start, value_start)
        replacement = f"{name} = "
        if value.start.line != statement.start.line or len(replacement) > value_start - start:
            return None  # no room to keep the value in place: rare, and then unread rather than misread
        chars[value_start - len(replacement) + len(name) + 1 : value_start] = [" "] * (len(replacement) - len(name) - 1)
        chars[start : start + len(name)] = list(name)
        chars[value_start - 2] = "="
    for string, expressions in finder.fstrings:
        start, end = at(string.start.line, string.start.column), at(string.end.line, string.end.column)
        kept = [(at(e.start.line, e.start.column), at(e.end.line, e.end.column)) for e in expressions]
        original = chars[start:end]
        blank(start, end)
        chars[start] = "("
        chars[end - 1] = ")"
        for first, last in kept:
            chars[first:last] = original[first - start : last - start]
            if last < end - 1:
                chars[last] = ","  # where the closing brace (or the conversion) was
    encoding = module.encoding
    try:
        return "".join(chars).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return None
