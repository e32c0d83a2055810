"""Python read with CPython's own parser, and the code that must never reach LibCST's.

LibCST's native parser overflows its stack on code nested deep enough, and the process dies (SIGSEGV)
with no exception to catch. CPython's parser gives up on such code first, with an error: every reader of
the user's files asks here before handing a file CPython could not read to LibCST. Kept free of the
rest of the package, so that anything may import it. Also here: which fields of each node type can hold
a node (``CHILD_FIELDS``), for the walks that read every expression.
"""

from __future__ import annotations

import ast
import warnings


def parse_python(data: bytes) -> ast.Module | None:
    """CPython's tree for ``data``, or None: newer syntax than this interpreter, or broken."""
    tree = parse_python_or_error(data)
    return None if isinstance(tree, Exception) else tree


def parse_python_or_error(data: bytes) -> ast.Module | Exception:
    """CPython's tree for ``data``, or why it has none (see ``nested_too_deeply``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences are the user's business
            return ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return exc


def nested_too_deeply(error: BaseException) -> bool:
    """Did CPython's parser give up because the code nests too deeply (brackets, operator chains)?

    Such code is never to reach LibCST's native parser: some depth past CPython's limits overflows its
    stack and the process dies (SIGSEGV), with no exception to catch. Python cannot compile the file
    either, so it is reported as unreadable, like a syntax error."""
    if isinstance(error, RecursionError | MemoryError):
        return True
    return isinstance(error, SyntaxError) and "too many nested parentheses" in (error.msg or "")


def too_deep_message(error: BaseException) -> str:
    """What a file ``nested_too_deeply`` says, as a scan error."""
    if isinstance(error, SyntaxError):
        return f"syntax error at line {error.lineno or 1}: {error.msg}"
    return f"cannot parse: nested too deeply for Python's parser ({type(error).__name__})"


# A walk that reads every expression (the reach summary's, the call graph's) need not ask each node for
# every field, as ``ast.NodeVisitor.generic_visit`` does: fields holding names, flags, contexts (``Load``)
# or operators never hold a node such a walk reads.
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "arg", "asname", "module", "level", "kind", "type_comment", "is_async"}
    | {"name", "names", "conversion", "simple", "tag", "kwd_attrs", "rest"}
)


def _node_types() -> tuple[type[ast.AST], ...]:
    found: list[type[ast.AST]] = []
    pending = [ast.AST]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return tuple(found)


def _child_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    if kind is ast.Constant or kind is ast.MatchSingleton:
        return ()  # the value is a Python constant, never a node
    return tuple(field for field in kind._fields if field not in _LEAF_FIELDS)


NODE_TYPES = _node_types()  # every ``ast`` node class of this interpreter
# node type -> its fields that may hold nodes, in the order of ``_fields``; a type absent has none
# (``Name``, ``Constant``, ``Load``)
CHILD_FIELDS: dict[type, tuple[str, ...]] = {kind: fields for kind in NODE_TYPES if (fields := _child_fields(kind))}
