"""unittest.mock (and its ``mock`` backport): the doubles a test makes, and what they become.

A plain ``Mock``/``MagicMock`` standing in for a function that turned async returns a value where the
code now awaits one; its ``AsyncMock`` counterpart returns an awaitable. Doubles are made by a
constructor (``Mock(...)``, ``MagicMock(spec=...)``, ``create_autospec(...)``), by ``patch(...)`` /
``patch.object(...)`` (a decorator, a context manager or a call), and configured through the mock's own
attributes (``return_value``, ``side_effect``, the ``assert_called*`` family).
"""

from __future__ import annotations

NAME = "unittest_mock"

MOCK_MODULES = ("unittest.mock", "mock")
MODULE = MOCK_MODULES[0]
PARENT_MODULE = "unittest"  # ``from unittest import mock``
SUBMODULE = "mock"
MOCK = "Mock"
MAGIC_MOCK = "MagicMock"
ASYNC_MOCK = "AsyncMock"
AUTOSPEC = "create_autospec"
PATCH = "patch"
PATCH_OBJECT = "patch.object"
SYNC_MOCK_CLASSES = (MOCK, MAGIC_MOCK)
# The bytes every file making a double contains (``Mock``, ``MagicMock``, ``AsyncMock``, ``patch``).
SOURCE_MARKERS = (b"Mock", b"patch")

CONFIG_KEYS = ("return_value", "side_effect")
# The constructor parameters of Mock/MagicMock: a keyword with one of these names is not a child.
MOCK_PARAMETERS = frozenset(
    {"spec", "spec_set", "side_effect", "return_value", "wraps", "name", "parent", "unsafe", "_new_name"}
)
# A call assertion on an awaited method asserts the await instead.
AWAIT_ASSERTIONS = {
    "assert_called_once_with": "assert_awaited_once_with",
    "assert_called_with": "assert_awaited_with",
    "assert_called_once": "assert_awaited_once",
    "assert_called": "assert_awaited",
    "assert_not_called": "assert_not_awaited",
    "assert_any_call": "assert_any_await",
}
ASSERTIONS_WITH_ARGUMENTS = frozenset({"assert_called_once_with", "assert_called_with", "assert_any_call"})
CALL_HISTORY = frozenset({"call_args", "call_args_list", "mock_calls"})
# A mock's own attributes: ``facade.m.return_value = …`` configures a test double, it calls nothing.
OWN_ATTRIBUTES = frozenset(
    {
        *CONFIG_KEYS,
        *CALL_HISTORY,
        *AWAIT_ASSERTIONS,
        *AWAIT_ASSERTIONS.values(),
        "called",
        "call_count",
        "method_calls",
        "await_count",
        "await_args",
        "await_args_list",
        "reset_mock",
        "configure_mock",
        "assert_has_calls",
        "assert_has_awaits",
    }
)
# Decorators that work unchanged on a coroutine function: a patch decorator awaits an async test.
PATCH_DECORATORS = frozenset(
    {"unittest.mock.patch", "unittest.mock.patch.object", "unittest.mock.patch.dict", "unittest.mock.patch.multiple"}
)
# A call naming a module in a dotted string imports it: ``patch("a.b.f")`` imports ``a.b``.
STRING_IMPORTERS = frozenset({PATCH})


def qualified(name: str) -> frozenset[str]:
    """``name`` (``AsyncMock``, ``patch.object``) as each mock module spells it."""
    return frozenset(f"{module}.{name}" for module in MOCK_MODULES)


def may_make_doubles(data: bytes | str) -> bool:
    """A source (its bytes or its text) that may make a double: it names a mock class or a patch."""
    if isinstance(data, str):
        return any(marker.decode() in data for marker in SOURCE_MARKERS)
    return any(marker in data for marker in SOURCE_MARKERS)
