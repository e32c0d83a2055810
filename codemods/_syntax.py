"""Small LibCST building blocks shared by the codemods (no codemod lives here)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState


def needs_parentheses_for_await(parent: cst.CSTNode | None, child: cst.CSTNode) -> bool:
    """``await`` binds looser than attribute access, subscription and calls: ``(await f()).x``."""
    if isinstance(parent, cst.Attribute) and parent.value is child:
        return True
    if isinstance(parent, cst.Subscript) and parent.value is child:
        return True
    if isinstance(parent, cst.Call) and parent.func is child:
        return True
    return False


def awaited(expression: cst.BaseExpression, *, parenthesize: bool) -> cst.Await:
    """``await expression``, moving the expression's own parentheses outside the ``await``."""
    lpar = list(expression.lpar)
    rpar = list(expression.rpar)
    inner = expression.with_changes(lpar=[], rpar=[])
    if not lpar and parenthesize:
        lpar, rpar = [cst.LeftParen()], [cst.RightParen()]
    return cst.Await(expression=inner, lpar=lpar, rpar=rpar)


def body_insert_index(body: cst.BaseSuite) -> int:
    """Where new statements go at the top of a block: after a docstring, if there is one."""
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return 0
    first = body.body[0]
    if (
        isinstance(first, cst.SimpleStatementLine)
        and first.body
        and isinstance(first.body[0], cst.Expr)
        and isinstance(first.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    ):
        return 1
    return 0


def dotted_expression(dotted: str) -> cst.BaseExpression:
    parts = dotted.split(".")
    node: cst.BaseExpression = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


# --- recorded source text: what a codemod wrote, printed as it stands in the file and parsed back ---------


def block_indent(block: cst.IndentedBlock, module: cst.Module) -> str:
    """What one indented block adds to the indentation of its lines."""
    return block.indent if block.indent is not None else module.default_indent


def source_text(node: cst.CSTNode, module: cst.Module, indents: Sequence[str]) -> str:
    """``node`` printed as it stands in ``module`` inside blocks indented by ``indents``: continuation
    lines keep the block's indentation, so the text is the file's from the node's start."""
    state = CodegenState(
        default_indent=module.default_indent, default_newline=module.default_newline, indent_tokens=list(indents)
    )
    node._codegen(state)
    return "".join(state.tokens)


def _parsed_in_block(source: str, module: cst.Module, indent: str) -> cst.BaseStatement:
    """``source`` (one statement) parsed as it would be inside blocks indented by ``indent``: the text of
    a continuation line says whether that line starts with the block's indentation, which LibCST keeps."""
    config = module.config_for_parsing
    if not indent:
        return cst.parse_statement(source + module.default_newline, config=config)
    newline = module.default_newline
    wrapper = cst.parse_module(f"if 1:{newline}{indent}{source}{newline}", config=config).body[0]
    assert isinstance(wrapper, cst.If) and isinstance(wrapper.body, cst.IndentedBlock)
    return wrapper.body.body[0]


def parse_expression_text(text: str, module: cst.Module, indent: str) -> cst.BaseExpression:
    """The expression ``source_text`` printed at a place indented by ``indent``."""
    if "\n" not in text and "\r" not in text:  # one line: the indentation cannot matter
        return cst.parse_expression(text, config=module.config_for_parsing)
    statement = _parsed_in_block(f"_ = {text}", module, indent)
    assert isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.Assign)
    return statement.body[0].value


def parse_parameters_text(text: str, module: cst.Module, indent: str) -> cst.Parameters:
    """The parameters ``source_text`` printed for a def indented by ``indent``."""
    body = f"{module.default_newline}{indent}{module.default_indent}pass"
    statement = _parsed_in_block(f"def _({text}):{body}", module, indent)
    assert isinstance(statement, cst.FunctionDef)
    return statement.params


def with_statements_after(
    updated: cst.SimpleStatementLine, keep: bool, added: Sequence[cst.SimpleStatementLine]
) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
    """``updated`` (or nothing, unless ``keep``) followed by ``added``; the statements added take the place
    of a removed one, its leading blank lines and comments included."""
    statements: list[cst.BaseStatement] = list(added)
    if statements and keep:
        statements = [s.with_changes(leading_lines=()) for s in statements]
    elif statements:
        statements[0] = statements[0].with_changes(leading_lines=updated.leading_lines)
    result: list[cst.BaseStatement] = [updated, *statements] if keep else statements
    if not result:
        return cst.RemoveFromParent()
    if len(result) == 1:
        return result[0]
    return cst.FlattenSentinel(result)
