"""Which tests of the corpus the README's test command runs, and which only CI's ``corpus`` step runs.

The differential tests hold the tool's analyses and quicker metadata to LibCST's on every file of
``server/`` and of every fixture, and on generated programs. Most of those files repeat syntax other
files already hold, and each costs the oracle's whole-file scope analysis. The README's command reads a
covering subset: the files that together hold every kind of syntax the corpus holds, each kind being a
Python ``ast`` node type, the field it sits in and its parent's type (``Call.func`` holding an
``Attribute``, ``AsyncWith.items`` holding a ``withitem``...). The other files carry the ``corpus``
mark, which the README's command deselects and ``.ci/run`` runs as its own step (``python -m pytest -m
corpus``), so CI still reads every file. A file ``ast`` cannot read (an encoding or syntax kept broken
on purpose) holds no kind and is always read: it is the case the oracle's fallback must answer. A
property test runs a third of its examples in the README's command and all of them in the ``corpus``
step (``property_tiers``).
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import pytest

CORPUS = pytest.mark.corpus

T = TypeVar("T")
_Kind = tuple[str, str, str]  # parent node type, field, child node type


def syntax_kinds(data: bytes) -> frozenset[_Kind] | None:
    """Every (parent type, field, child type) in ``data``'s ``ast``; None when ``ast`` cannot read it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in fixture code: not this module's concern
            tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return None
    kinds: set[_Kind] = set()
    for node in ast.walk(tree):
        parent = type(node).__name__
        for name, value in ast.iter_fields(node):
            for child in value if isinstance(value, list) else (value,):
                if isinstance(child, ast.AST):
                    kinds.add((parent, name, type(child).__name__))
    return frozenset(kinds)


def covering_subset(files: Sequence[tuple[str, bytes]]) -> set[str]:
    """The names of a small set of ``files`` holding every syntax kind the whole set holds, and of every
    file ``ast`` cannot read. Greedy: the file adding the most kinds not yet held, the first listed on
    a tie (so the choice is the same in every worker and every run); then each picked file that the
    others make redundant is dropped, the largest first."""
    chosen: set[str] = set()
    remaining: dict[str, frozenset[_Kind]] = {}
    for name, data in files:
        kinds = syntax_kinds(data)
        if kinds is None:
            chosen.add(name)
        else:
            remaining[name] = kinds
    kinds_of = dict(remaining)
    wanted = frozenset().union(*remaining.values()) if remaining else frozenset()
    held: set[_Kind] = set()
    picked: list[str] = []
    while held != wanted:
        name = max(remaining, key=lambda n: len(remaining[n] - held))
        held |= remaining.pop(name)
        picked.append(name)
    # a file picked early may hold nothing the later ones do not: the largest such go first
    sizes = {name: len(data) for name, data in files}
    for name in sorted(picked, key=lambda n: -sizes[n]):
        others = [kinds_of[other] for other in picked if other != name]
        if frozenset().union(*others) >= wanted:
            picked.remove(name)
    return chosen | set(picked)


def corpus_params(
    items: Iterable[T],
    name: Callable[[T], str],
    data: Callable[[T], bytes],
    *,
    values: Callable[[T], tuple[Any, ...]] = lambda item: (item,),
    ids: Callable[[int, T], str] | None = None,
) -> list[Any]:
    """``items`` as pytest parameters, those outside the covering subset marked ``corpus``. ``values``
    gives the test's arguments for an item (the item itself by default); ``ids`` names each parameter."""
    listed = list(items)
    covered = covering_subset([(name(item), data(item)) for item in listed])
    return [
        pytest.param(
            *values(item),
            id=ids(index, item) if ids is not None else name(item),
            marks=() if name(item) in covered else (CORPUS,),
        )
        for index, item in enumerate(listed)
    ]


def property_tiers(max_examples: int, **options: Any) -> Callable[[Callable[..., None]], Callable[[int], None]]:
    """A Hypothesis property test in the same two tiers: a third of its ``max_examples`` in the README's
    command, all of them in CI's corpus step. Put it above ``@given``, in place of ``@settings``
    (``options``: the other settings, such as ``deadline``)."""
    from hypothesis import settings

    def decorate(test: Callable[..., None]) -> Callable[[int], None]:
        def run(examples: int) -> None:
            settings(max_examples=examples, **options)(test)()

        run.__name__, run.__qualname__, run.__doc__ = test.__name__, test.__qualname__, test.__doc__
        run.__module__ = test.__module__
        tiers = [
            pytest.param(max(1, max_examples // 3), id="quick"),
            pytest.param(max_examples, id="thorough", marks=CORPUS),
        ]
        return pytest.mark.parametrize("examples", tiers)(run)  # type: ignore[no-any-return]

    return decorate
