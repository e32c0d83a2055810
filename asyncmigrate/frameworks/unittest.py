"""unittest: test cases, their hooks, and the asyncio test case they become.

unittest calls a ``TestCase``'s ``test*`` methods and its ``setUp``/``tearDown`` hooks itself,
synchronously: when one of them must await, the class becomes an ``IsolatedAsyncioTestCase`` (which awaits
``async def`` tests) and the hooks become ``asyncSetUp``/``asyncTearDown``. The class hooks
(``setUpClass``/``tearDownClass``) have no async counterpart.

Its own adapter, not pytest's: pytest runs unittest classes too, but awaits none of their coroutines
(pytest-asyncio does not apply to them), and a project may run them with ``python -m unittest`` alone.
Nor the mock adapter's: ``unittest.mock`` is a library of doubles used under any runner.
"""

from __future__ import annotations

NAME = "unittest"

MODULE = "unittest"
TESTCASE_BASES = frozenset({"unittest.TestCase", "unittest.case.TestCase"})
ASYNC_TESTCASE = "IsolatedAsyncioTestCase"
ASYNC_TESTCASE_BASES = frozenset({f"unittest.{ASYNC_TESTCASE}", f"unittest.async_case.{ASYNC_TESTCASE}"})
# unittest's per-test hooks and their coroutine counterparts in IsolatedAsyncioTestCase
ASYNC_TEST_HOOKS = {"setUp": "asyncSetUp", "tearDown": "asyncTearDown"}
CLASS_HOOKS = frozenset({"setUpClass", "tearDownClass"})
TEST_PREFIX = "test"


def is_test_method(name: str) -> bool:
    """unittest runs a test case's ``test*`` methods wherever the module lives and whatever it is called."""
    return name.startswith(TEST_PREFIX)


def class_hook_message(qualname: str, name: str) -> str:
    return (
        f"{qualname} would need to await, but unittest calls {name} synchronously "
        f"({ASYNC_TESTCASE} has no async counterpart)"
    )


CLASS_HOOK_FIX = (
    "move the awaited set-up into `async def asyncSetUp(self)` (it runs before each test), or run it "
    "with `asyncio.run(...)` inside the class hook"
)


def conversion(name: str) -> str:
    """How the report names a test case's conversion."""
    return f"unittest.TestCase {name} -> unittest.{ASYNC_TESTCASE}"
