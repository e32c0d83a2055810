"""``code_ranges`` (``codemods/_positions.py``) gives LibCST's ``PositionProvider`` answer, node for node.

The quick metadata tests hold it to LibCST's on every file of ``server/`` and of every fixture, through
``QuickMetadataWrapper``; here it is held to it on newline styles the corpus does not have, and on
programs hypothesmith generates.
"""

from __future__ import annotations

import libcst as cst
import pytest
from hypothesis import HealthCheck, given
from libcst.metadata import MetadataWrapper, PositionProvider

from asyncmigrate.codemods._passes import QuickMetadataWrapper
from asyncmigrate.codemods._positions import CodeRanges, code_ranges
from tests.corpus import property_tiers
from tests.strategies import grammar_programs


def _libcsts(module: cst.Module) -> dict[cst.CSTNode, object]:
    return dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))


def _assert_same(code: str) -> None:
    module = cst.parse_module(code)
    found = code_ranges(module)
    expected = _libcsts(module)
    assert set(found) == set(expected)
    for node, position in expected.items():
        assert found[node] == position, (type(node).__name__, position)


NEWLINES = [
    "def f(a,\r\n      b):\r\n    '''doc\r\n    more'''\r\n    return (a +\r\n            b)\r\n",
    "x = 1\ry = [\r    2,\r]\r",
    "s = '''one\r\ntwo\rthree\nfour'''  # mixed\nt = 1\r\n",
    "if x:\n\tif y:\n\t\tpass  # tabs\n\n\n# trailing comment\n",
    "x = (  # a comment inside brackets\n    1\n    + 2\n)\n",
    "",
]


@pytest.mark.parametrize("code", NEWLINES)
def test_newline_styles_give_libcsts_positions(code: str) -> None:
    _assert_same(code)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # generated code calls literals, and so on
@property_tiers(60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(grammar_programs())
def test_generated_programs_give_libcsts_positions(code: str) -> None:
    try:
        cst.parse_module(code)
    except (cst.ParserSyntaxError, RecursionError):
        return  # hypothesmith's grammar admits a few programs LibCST's parser refuses
    _assert_same(code)


def test_the_quick_wrapper_answers_with_code_ranges() -> None:
    """The wrapper the codemods resolve metadata with computes positions here, not with LibCST's state."""
    module = cst.parse_module("value = compute(1)\n")
    positions = QuickMetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert isinstance(positions, CodeRanges)
    call = module.body[0].body[0].value  # type: ignore[attr-defined]
    assert positions[call].start.column == 8
    assert positions.get(cst.Name("elsewhere")) is None
    assert positions.get(cst.Name("elsewhere"), "absent") == "absent"
    assert positions[call] is positions[call]  # made once
