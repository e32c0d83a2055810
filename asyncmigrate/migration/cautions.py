"""Behaviour a rewrite changes without breaking anything a compiler or a test run would notice.

A sync call in a ``finally:`` block always runs to its end: nothing can interrupt it. Once it is an
``await``, a cancellation of the task (a client that disconnects, a timeout, a server shutting down)
is delivered right there, and the cleanup stops half-way; a test suite rarely exercises that. The
rewrite is still right, so it is not a blocker: ``apply`` reports each such ``await`` it introduced,
with file:line and the usual fix, and records it in the plan's history.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_TRY = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)


@dataclass(frozen=True)
class Caution:
    path: str
    line: int
    message: str
    fix: str

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "message": self.message, "fix": self.fix}

    def describe(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _cleanup_awaits(tree: ast.AST) -> list[ast.Await]:
    """Every ``await`` that runs as part of a ``finally:`` block of the same function, once (a
    ``try/finally`` nested in a ``finally:`` block would otherwise yield its awaits twice)."""
    found: dict[int, ast.Await] = {}
    for node in ast.walk(tree):
        if isinstance(node, _TRY):
            for statement in node.finalbody:
                found.update((id(a), a) for a in _awaits_in(statement))
    return list(found.values())


def _awaits_in(node: ast.AST) -> Iterator[ast.Await]:
    if isinstance(node, _SCOPES):  # a function defined in the cleanup does not run as part of it
        return
    if isinstance(node, ast.Await):
        yield node
    for child in ast.iter_child_nodes(node):
        yield from _awaits_in(child)


def new_cleanup_awaits(path: str, before: bytes, after: bytes) -> list[Caution]:
    """The awaits in ``finally:`` blocks of ``after`` that ``before`` did not have (compared by their
    expression, so lines that moved do not count as new)."""
    if b"finally" not in after or b"await" not in after:
        # Keywords have one spelling (a non-ASCII look-alike is a name), so without both words there is
        # no ``await`` in a ``finally:`` block; most files a step edits are left unparsed here.
        return []
    try:
        old_tree = ast.parse(before)
        new_tree = ast.parse(after)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # newer syntax than this interpreter's ast: nothing to say rather than a guess
    old = Counter(ast.unparse(node.value) for node in _cleanup_awaits(old_tree))
    cautions: list[Caution] = []
    for node in sorted(_cleanup_awaits(new_tree), key=lambda n: (n.lineno, n.col_offset)):
        expression = ast.unparse(node.value)
        if old[expression] > 0:
            old[expression] -= 1
            continue
        cautions.append(
            Caution(
                path,
                node.lineno,
                f"`await {_short(expression)}` now runs in a `finally:` block; a cancellation of the task "
                "can stop it half-way, where the sync call always ran to its end",
                "if the cleanup must complete, await it through asyncio.shield(...) or move it out of the "
                "cancellable path",
            )
        )
    return cautions


def _short(expression: str, limit: int = 80) -> str:
    return expression if len(expression) <= limit else expression[: limit - 1] + "…"
