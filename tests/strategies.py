"""Hypothesmith's program strategies, built once per process, and only when a test draws from them.

Building hypothesmith's grammar strategy takes over a second each time it is asked for; made at module
level, it was paid while collecting, by every pytest-xdist worker, five times over, whether the worker
then ran those tests or not.
"""

from __future__ import annotations

import functools

from hypothesis import strategies as st


@functools.cache
def _from_grammar() -> st.SearchStrategy[str]:
    import hypothesmith

    return hypothesmith.from_grammar()


@functools.cache
def _from_node() -> st.SearchStrategy[str]:
    import hypothesmith

    return hypothesmith.from_node()


def grammar_programs() -> st.SearchStrategy[str]:
    """``hypothesmith.from_grammar()``: programs the grammar admits."""
    return st.deferred(lambda: _from_grammar())


def python_programs() -> st.SearchStrategy[str]:
    """Programs from the grammar or from LibCST's nodes (``hypothesmith.from_node()``)."""
    return st.deferred(lambda: st.one_of(_from_grammar(), _from_node()))
