"""Small LibCST building blocks shared by the codemods (no codemod lives here)."""

from __future__ import annotations

import libcst as cst


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
