"""The test-doubles codemod: inline cases, whole-file golden pairs, and the doubles run for real.

The golden pairs under ``tests/data/test_doubles/<case>/`` are test modules of the fixture
codebase ``tests/assets/bazaar`` (whose functions are async); ``warnings.txt`` beside them lists
the warnings expected, in order.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libcst.codemod import CodemodContext, CodemodTest

from asyncmigrate.codemods.migrate_test_doubles import MigrateTestDoublesCommand

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "test_doubles"
BAZAAR = ROOT / "tests" / "assets" / "bazaar"
CASES = sorted(case.name for case in DATA.iterdir() if case.is_dir())
# Golden cases whose output must equal their input, byte for byte.
UNCHANGED = {"noop_plain", "spec_noop", "not_converted"}
# Golden cases that cannot run: their mocks come from places the case does not include.
NOT_RUNNABLE = {"not_converted"}

ASYNC_FUNCTIONS = (
    "bazaar.service.Checkout.place_order",
    "bazaar.service.Combat.attack",
    "bazaar.service.order_total",
    "bazaar.repos.fetch_order",
    "bazaar.repos.OrderRepo.get",
)
GUESS = "made an AsyncMock by name only: {name} matches async {matches}; check that the mock stands for it"


def run(
    code: str,
    async_functions: Sequence[str] = ASYNC_FUNCTIONS,
    module: str = "tests.test_orders",
    package: str = "tests",
    filename: str = "test_orders.py",
) -> tuple[str, list[str]]:
    context = CodemodContext(filename=filename, full_module_name=module, full_package_name=package)
    output = MigrateTestDoublesCommand(context, async_functions).transform_module(cst.parse_module(code)).code
    return output, list(context.warnings)


def guess(line: int, label: str, name: str, matches: str) -> str:
    return f"test_orders.py:{line}: {label} " + GUESS.format(name=name, matches=matches)


PLACE_ORDER = "bazaar.service.Checkout.place_order"


class TestMigrateTestDoubles(CodemodTest):
    TRANSFORM = MigrateTestDoublesCommand

    def check(
        self,
        before: str,
        after: str,
        warnings: Sequence[str] = (),
        async_functions: Sequence[str] = ASYNC_FUNCTIONS,
        module: str = "tests.test_orders",
        package: str = "tests",
    ) -> None:
        context = CodemodContext(filename="test_orders.py", full_module_name=module, full_package_name=package)
        self.assertCodemod(
            before, after, async_functions=async_functions, context_override=context, expected_warnings=warnings
        )
        # Idempotent: the output goes through unchanged.
        expected = CodemodTest.make_fixture_data(after)
        again, _ = run(expected, async_functions, module, package)
        self.assertEqual(expected, again)

    # -- no-op ------------------------------------------------------------------------------------

    def test_file_without_mocks_is_unchanged(self) -> None:
        code = """
            from bazaar.service import Checkout

            def place(checkout: Checkout) -> int:
                return checkout.place_order(1)
        """
        self.check(code, code)

    def test_sync_method_and_unknown_names_are_unchanged(self) -> None:
        code = """
            from unittest.mock import Mock, patch

            from bazaar.service import Checkout

            with patch.object(Checkout, "currency", return_value="USD"):
                pass
            with patch("bazaar.service.Checkout.refund"):
                pass
            double = Mock()
            double.refund.return_value = 1
            double.currency = Mock(return_value="EUR")
        """
        self.check(code, code)

    def test_nothing_is_async(self) -> None:
        code = """
            from unittest.mock import Mock

            double = Mock()
            double.place_order.return_value = 1
        """
        self.check(code, code, async_functions=())

    def test_already_async_aware_mocks_are_unchanged(self) -> None:
        code = """
            from unittest.mock import AsyncMock, patch

            from bazaar.service import Checkout

            def test_it() -> None:
                checkout = AsyncMock()
                checkout.place_order.return_value = 1
                with patch("bazaar.handlers.Checkout", autospec=True) as cls:
                    cls.return_value.place_order.return_value = 2
                with patch.object(Checkout, "place_order", new_callable=AsyncMock):
                    pass
        """
        self.check(code, code)

    def test_patch_with_unpacked_arguments_is_unchanged(self) -> None:
        code = """
            from unittest.mock import patch

            from bazaar.service import Checkout

            def test_it(options: dict[str, object]) -> None:
                with patch.object(Checkout, "place_order", **options):
                    pass
        """
        self.check(code, code)

    # -- 1. patch ---------------------------------------------------------------------------------

    def test_aliased_class_in_patch_object(self) -> None:
        self.check(
            """
            from unittest.mock import patch

            from bazaar.service import Checkout as C

            @patch.object(C, "place_order")
            def test_it(place_order) -> None:
                pass
            """,
            """
            from unittest.mock import AsyncMock, patch

            from bazaar.service import Checkout as C

            @patch.object(C, "place_order", new_callable=AsyncMock)
            def test_it(place_order) -> None:
                pass
            """,
        )

    def test_aliased_module_in_patch_object(self) -> None:
        self.check(
            """
            import bazaar.repos as store
            from unittest import mock

            mock.patch.object(store, "fetch_order", return_value=None).start()
            """,
            """
            import bazaar.repos as store
            from unittest import mock

            mock.patch.object(store, "fetch_order", return_value=None, new_callable=mock.AsyncMock).start()
            """,
        )

    def test_class_of_the_test_module_itself(self) -> None:
        self.check(
            """
            from unittest.mock import patch

            class FakeGateway:
                async def charge(self) -> None: ...

            with patch.object(FakeGateway, "charge"):
                pass
            """,
            """
            from unittest.mock import AsyncMock, patch

            class FakeGateway:
                async def charge(self) -> None: ...

            with patch.object(FakeGateway, "charge", new_callable=AsyncMock):
                pass
            """,
            async_functions=["tests.test_orders.FakeGateway.charge"],
        )

    def test_relative_import_resolved_from_the_package(self) -> None:
        self.check(
            """
            from unittest.mock import patch

            from ..service import Checkout

            patch.object(Checkout, "place_order")
            """,
            """
            from unittest.mock import AsyncMock, patch

            from ..service import Checkout

            patch.object(Checkout, "place_order", new_callable=AsyncMock)
            """,
            module="bazaar.tests.test_service",
            package="bazaar.tests",
        )

    def test_patch_spec_true_keeps_its_spec(self) -> None:
        self.check(
            """
            from unittest.mock import patch

            patch("bazaar.repos.fetch_order", spec=True)
            """,
            """
            from unittest.mock import AsyncMock, patch

            patch("bazaar.repos.fetch_order", spec=True, new_callable=AsyncMock)
            """,
        )

    # -- 2. configured chains -----------------------------------------------------------------------

    def test_side_effect_then_return_value_merge_in_source_order(self) -> None:
        self.check(
            """
            from unittest.mock import Mock

            def test_it() -> None:
                checkout = Mock()
                checkout.place_order.side_effect = [1, 2]
                checkout.place_order.return_value = 3
            """,
            """
            from unittest.mock import AsyncMock, Mock

            def test_it() -> None:
                checkout = Mock()
                checkout.place_order = AsyncMock(side_effect=[1, 2], return_value=3)
            """,
            [guess(5, "checkout.place_order", "place_order", PLACE_ORDER)],
        )

    def test_lines_apart_are_not_merged(self) -> None:
        self.check(
            """
            from unittest.mock import Mock

            def test_it() -> None:
                checkout = Mock()
                checkout.place_order.return_value = 3

                # Then the card is declined.
                checkout.place_order.side_effect = KeyError
            """,
            """
            from unittest.mock import AsyncMock, Mock

            def test_it() -> None:
                checkout = Mock()
                checkout.place_order = AsyncMock(return_value=3)

                # Then the card is declined.
                checkout.place_order.side_effect = KeyError
            """,
            [guess(5, "checkout.place_order", "place_order", PLACE_ORDER)],
        )

    def test_value_reading_the_chain_is_not_merged(self) -> None:
        self.check(
            """
            from unittest.mock import Mock

            checkout = Mock()
            checkout.place_order.return_value = 3
            checkout.place_order.side_effect = lambda order: checkout.place_order.return_value
            """,
            """
            from unittest.mock import AsyncMock, Mock

            checkout = Mock()
            checkout.place_order = AsyncMock(return_value=3)
            checkout.place_order.side_effect = lambda order: checkout.place_order.return_value
            """,
            [guess(4, "checkout.place_order", "place_order", PLACE_ORDER)],
        )

    def test_one_line_with_block(self) -> None:
        self.check(
            """
            from unittest.mock import patch

            with patch("bazaar.handlers.Checkout") as cls: cls.return_value.place_order.return_value = 1
            """,
            """
            from unittest.mock import AsyncMock, patch

            with patch("bazaar.handlers.Checkout") as cls: cls.return_value.place_order = AsyncMock(return_value=1)
            """,
            [guess(3, "cls.return_value.place_order", "place_order", PLACE_ORDER)],
        )

    def test_spec_applies_one_level_deep_only(self) -> None:
        self.check(
            """
            from unittest.mock import MagicMock

            from bazaar.service import App, Checkout

            def test_it() -> None:
                checkout = MagicMock(spec=Checkout)
                checkout.place_order.return_value = 1
                app = MagicMock(spec=App)
                app.services.combat.attack.return_value = 2
                listed = MagicMock(spec=["place_order"])
                listed.place_order.return_value = 3
            """,
            """
            from unittest.mock import AsyncMock, MagicMock

            from bazaar.service import App, Checkout

            def test_it() -> None:
                checkout = MagicMock(spec=Checkout)
                checkout.place_order.return_value = 1
                app = MagicMock(spec=App)
                app.services.combat.attack = AsyncMock(return_value=2)
                listed = MagicMock(spec=["place_order"])
                listed.place_order = AsyncMock(return_value=3)
            """,
            [
                guess(9, "app.services.combat.attack", "attack", "bazaar.service.Combat.attack"),
                guess(11, "listed.place_order", "place_order", PLACE_ORDER),
            ],
        )

    def test_chain_below_an_assigned_mock(self) -> None:
        self.check(
            """
            from unittest.mock import MagicMock, Mock

            from bazaar.service import Combat

            def test_it() -> None:
                app = Mock()
                app.services.combat = MagicMock(spec=Combat)
                app.services.combat.attack.return_value = 1
            """,
            """
            from unittest.mock import MagicMock, Mock

            from bazaar.service import Combat

            def test_it() -> None:
                app = Mock()
                app.services.combat = MagicMock(spec=Combat)
                app.services.combat.attack.return_value = 1
            """,
        )

    def test_fixture_names_bind_only_in_tests_and_fixtures(self) -> None:
        self.check(
            """
            from unittest.mock import Mock

            import pytest

            @pytest.fixture
            def checkout() -> Mock:
                return Mock()

            def configure(checkout: Mock) -> None:
                checkout.place_order.return_value = 1

            def test_it(checkout: Mock) -> None:
                checkout.place_order.side_effect = KeyError
            """,
            """
            from unittest.mock import AsyncMock, Mock

            import pytest

            @pytest.fixture
            def checkout() -> Mock:
                return Mock()

            def configure(checkout: Mock) -> None:
                checkout.place_order.return_value = 1

            def test_it(checkout: Mock) -> None:
                checkout.place_order = AsyncMock(side_effect=KeyError)
            """,
            [
                "test_orders.py:10: checkout.place_order left as is: cannot see where checkout is created; if it is a "
                f"mock without a spec, make checkout.place_order an AsyncMock ({PLACE_ORDER} is async)",
                guess(13, "checkout.place_order", "place_order", PLACE_ORDER),
            ],
        )

    def test_deep_configuration_sharing_a_line_is_warned(self) -> None:
        code = """
            from unittest.mock import Mock

            repo = Mock(); repo.get.return_value.total = 3
        """
        self.check(
            code,
            code,
            ["test_orders.py:3: repo.get left as is: put this configuration on a line of its own"],
        )

    # -- 3. assigned mocks ----------------------------------------------------------------------------

    def test_assigned_to_a_class_attribute_is_exact(self) -> None:
        self.check(
            """
            from unittest.mock import MagicMock

            import bazaar.service

            bazaar.service.Checkout.place_order = MagicMock(return_value=1)
            """,
            """
            from unittest.mock import AsyncMock

            import bazaar.service

            bazaar.service.Checkout.place_order = AsyncMock(return_value=1)
            """,
        )

    def test_mock_with_spec_or_wraps_is_not_assigned_over(self) -> None:
        code = """
            from unittest.mock import Mock

            from bazaar.service import Checkout

            def test_it(checkout: Checkout) -> None:
                checkout.place_order = Mock(spec=Checkout.place_order)
                checkout.place_order = Mock(wraps=checkout.place_order)
        """
        self.check(code, code)

    # -- 5. guesses ----------------------------------------------------------------------------------

    def test_name_shared_with_a_sync_function_is_converted_and_warned(self) -> None:
        # bazaar.cache.Cache.get is sync, but the codemod only knows OrderRepo.get is async.
        self.check(
            """
            from unittest.mock import Mock

            def test_cache() -> None:
                cache = Mock()
                cache.get.return_value = "hit"
            """,
            """
            from unittest.mock import AsyncMock, Mock

            def test_cache() -> None:
                cache = Mock()
                cache.get = AsyncMock(return_value="hit")
            """,
            [guess(5, "cache.get", "get", "bazaar.repos.OrderRepo.get")],
        )

    def test_every_async_function_of_the_name_is_named(self) -> None:
        self.check(
            """
            from unittest.mock import Mock

            repo = Mock(get=Mock(return_value=None))
            """,
            """
            from unittest.mock import AsyncMock, Mock

            repo = Mock(get=AsyncMock(return_value=None))
            """,
            [guess(3, "get=", "get", "bazaar.repos.OrderRepo.get, bazaar.stock.StockRepo.get")],
            async_functions=[*ASYNC_FUNCTIONS, "bazaar.stock.StockRepo.get"],
        )

    # -- 6. the AsyncMock import ------------------------------------------------------------------------

    def test_existing_async_mock_import_is_used(self) -> None:
        self.check(
            """
            from unittest.mock import AsyncMock as AM, Mock

            double = Mock()
            double.place_order.return_value = 1
            """,
            """
            from unittest.mock import AsyncMock as AM, Mock

            double = Mock()
            double.place_order = AM(return_value=1)
            """,
            [guess(4, "double.place_order", "place_order", PLACE_ORDER)],
        )

    def test_module_imported_under_an_alias(self) -> None:
        self.check(
            """
            import unittest.mock as um

            double = um.Mock()
            double.place_order.return_value = 1
            """,
            """
            import unittest.mock as um

            double = um.Mock()
            double.place_order = um.AsyncMock(return_value=1)
            """,
            [guess(4, "double.place_order", "place_order", PLACE_ORDER)],
        )

    def test_module_imported_by_its_full_name(self) -> None:
        self.check(
            """
            import unittest.mock

            unittest.mock.patch("bazaar.repos.fetch_order")
            """,
            """
            import unittest.mock

            unittest.mock.patch("bazaar.repos.fetch_order", new_callable=unittest.mock.AsyncMock)
            """,
        )

    def test_mock_backport_names(self) -> None:
        self.check(
            """
            from mock import Mock

            double = Mock()
            double.place_order.return_value = 1
            """,
            """
            from mock import AsyncMock, Mock

            double = Mock()
            double.place_order = AsyncMock(return_value=1)
            """,
            [guess(4, "double.place_order", "place_order", PLACE_ORDER)],
        )


def test_a_local_handed_as_new_and_called_elsewhere_is_left_and_warned() -> None:
    """A local mock given to ``patch`` as the replacement of a function now async becomes an ``AsyncMock``
    only when nothing but its attributes is read elsewhere: called directly, an ``AsyncMock`` would hand that
    call a coroutine. Bound twice, it is not known to be the mock the patch receives."""
    code = textwrap.dedent(
        """
        from unittest.mock import MagicMock, patch

        from bazaar.service import Checkout


        def test_called_directly():
            fake = MagicMock(return_value=3)
            assert fake(1) == 3
            with patch.object(Checkout, "place_order", fake):
                pass


        def test_bound_twice():
            fake = MagicMock(return_value=3)
            fake = MagicMock(return_value=4)
            with patch.object(Checkout, "place_order", fake):
                pass
        """
    )
    output, warnings = run(code)
    assert output == code
    assert warnings == [
        "test_orders.py:9: fake is handed to patch as the replacement of a function now async and also read "
        "here: left a sync mock; make it an AsyncMock if it stands for that function"
    ]


# -- golden files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    folder = DATA / case
    before = (folder / "before.py").read_text()
    expected = (folder / "after.py").read_text()
    expected_warnings = (folder / "warnings.txt").read_text().splitlines()
    output, warnings = run(before, module=f"tests.test_{case}", filename="before.py")
    assert output == expected
    assert warnings == expected_warnings
    again, _ = run(output, module=f"tests.test_{case}", filename="before.py")
    assert again == output, "a second run changed the file"


@pytest.mark.parametrize("case", sorted(UNCHANGED))
def test_golden_no_op_cases_are_byte_identical(case: str) -> None:
    folder = DATA / case
    assert (folder / "after.py").read_bytes() == (folder / "before.py").read_bytes()


def run_pytest(files: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(BAZAAR)}
    # importlib mode: every golden file is named before.py/after.py.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib"]
    command += ["-W", "error::RuntimeWarning", "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml")]
    return subprocess.run([*command, *map(str, files)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_rewritten_doubles_work_when_awaited() -> None:
    """The golden outputs pass against the async bazaar code; their inputs do not."""
    runnable = [DATA / case for case in CASES if case not in NOT_RUNNABLE]
    after = run_pytest([folder / "after.py" for folder in runnable])
    assert after.returncode == 0, after.stdout + after.stderr
    before = run_pytest([folder / "before.py" for folder in runnable])
    assert before.returncode == 1, before.stdout + before.stderr
    assert "can't be used in 'await' expression" in before.stdout


# -- running it --------------------------------------------------------------------------------------


def test_add_args_collects_repeated_names() -> None:
    parser = argparse.ArgumentParser()
    MigrateTestDoublesCommand.add_args(parser)
    assert parser.parse_args([]).async_functions == []
    parsed = parser.parse_args(["--async-function", "a.B.c", "--async-function", "a.d"])
    assert parsed.async_functions == ["a.B.c", "a.d"]


def test_line_endings_and_tabs_survive() -> None:
    before = "from unittest.mock import Mock\r\ndef test():\r\n\tm = Mock()\r\n\tm.place_order.return_value = 1\r\n"
    output, _ = run(before)
    assert output == (
        "from unittest.mock import AsyncMock, Mock\r\n"
        "def test():\r\n\tm = Mock()\r\n\tm.place_order = AsyncMock(return_value=1)\r\n"
    )


def test_runs_under_libcst_tool(tmp_path: Path) -> None:
    target = tmp_path / "test_orders.py"
    target.write_text((DATA / "chain_config" / "before.py").read_text())
    command = [sys.executable, "-m", "libcst.tool", "codemod", "migrate_test_doubles.MigrateTestDoublesCommand"]
    command += ["--hide-progress", *(f"--async-function={name}" for name in ASYNC_FUNCTIONS), str(target)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == (DATA / "chain_config" / "after.py").read_text()
    assert "made an AsyncMock by name only" in result.stderr


# -- generated test modules ----------------------------------------------------------------------------

ROOTS = ("checkout", "app", "self.double", "shared")
METHODS = ("place_order", "get", "currency", "attack")
CONSTRUCTORS = (
    "Mock()",
    "MagicMock()",
    "Mock(spec=Checkout)",
    "AsyncMock()",
    "create_autospec(Checkout)",
    "Mock(wraps=x)",
)
PATCHES = (
    'patch.object(Checkout, "{method}"{extra})',
    'patch("bazaar.service.Checkout.{method}"{extra})',
    'patch("bazaar.handlers.Checkout"{extra})',
)
EXTRAS = ("", ", return_value=1", ", new=Mock()", ", new_callable=MagicMock", ", autospec=True", ", **kw")


@st.composite
def simple_statement(draw: st.DrawFn) -> str:
    root = draw(st.sampled_from(ROOTS))
    method = draw(st.sampled_from(METHODS))
    middle = draw(st.sampled_from(("", "services.", "return_value.")))
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return f"{root} = {draw(st.sampled_from(CONSTRUCTORS))}"
    if kind == 1:
        key = draw(st.sampled_from(("return_value", "side_effect", "return_value.total")))
        return f"{root}.{middle}{method}.{key} = {draw(st.sampled_from(('1', 'KeyError', f'{root}.{method}')))}"
    if kind == 2:
        return f"{root}.{method} = {draw(st.sampled_from(CONSTRUCTORS))}"
    if kind == 3:
        return draw(st.sampled_from(PATCHES)).format(method=method, extra=draw(st.sampled_from(EXTRAS)))
    return f"print({root}.{middle}{method})"


def block(header: str, body: list[str]) -> list[str]:
    return [header, *("    " + line for line in body)]


statements = st.recursive(
    simple_statement().map(lambda line: [line]),
    lambda inner: st.tuples(
        st.sampled_from(("if flag:", "for i in range(2):", "with x:", "with {patch} as checkout:")),
        st.sampled_from(PATCHES),
        st.sampled_from(EXTRAS),
        st.lists(inner, min_size=1, max_size=3),
    ).map(
        lambda parts: block(
            parts[0].format(patch=parts[1].format(method="place_order", extra=parts[2])),
            [line for lines in parts[3] for line in lines],
        )
    ),
    max_leaves=6,
)


@st.composite
def generated_test_module(draw: st.DrawFn) -> str:
    lines = [
        "from unittest.mock import AsyncMock, MagicMock, Mock, create_autospec, patch",
        "import pytest",
        "from bazaar.service import Checkout",
        "",
    ]
    for index in range(draw(st.integers(1, 3))):
        fixture = draw(st.booleans())
        header = f"def {'checkout' if fixture else f'test_{index}'}(self, app, flag, x, kw):"
        body = [line for lines in draw(st.lists(statements, min_size=1, max_size=4)) for line in lines]
        if fixture:
            lines.append("@pytest.fixture")
            body.append(f"return {draw(st.sampled_from(CONSTRUCTORS))}")
        lines += block(header, body)
        lines.append("")
    return "\n".join(lines)


@settings(max_examples=25, deadline=None)
@given(generated_test_module())
def test_generated_modules_parse_and_settle_in_one_run(code: str) -> None:
    output, _ = run(code)
    cst.parse_module(output)
    again, _ = run(output)
    assert again == output
    # With nothing async, every module comes out byte for byte.
    assert run(code, async_functions=())[0] == code


def _every_function_of(root: Path, package: str) -> list[str]:
    """Every function and method of a codebase, by qualified name: the widest set of async names."""
    import ast

    found: list[str] = []
    for path in sorted((root / package).rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for node in ast.parse(path.read_bytes()).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append(f"{module}.{node.name}")
            elif isinstance(node, ast.ClassDef):
                found += [
                    f"{module}.{node.name}.{item.name}"
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
    return found


@pytest.mark.parametrize(
    ("root", "package", "tests"),
    [(ROOT, "server", "server/tests"), (BAZAAR, "bazaar", "tests")],
    ids=["server", "bazaar"],
)
def test_a_module_skipped_before_scope_analysis_is_one_the_codemod_leaves_alone(
    root: Path, package: str, tests: str
) -> None:
    async_functions = _every_function_of(root, package)
    skipped = 0
    for path in sorted((root / tests).rglob("test_*.py")):
        code = path.read_text()
        command = MigrateTestDoublesCommand(CodemodContext(filename=str(path)), async_functions)
        if command._may_name_a_double(code):
            continue
        skipped += 1
        output = MigrateTestDoublesCommand(CodemodContext(filename=str(path)), async_functions)
        # the whole pass, past the pre-check: the same code and no warning
        result = super(MigrateTestDoublesCommand, output).transform_module(cst.parse_module(code))
        assert result.code == code, path
        assert output.context.warnings == [], path
    assert skipped or package == "bazaar"  # the server's suites hold modules with no double to touch


@pytest.mark.parametrize(
    ("code", "may"),
    [
        ("def test():\n    assert service.attack(1)\n", False),  # a call only
        ("def test(svc):\n    svc.attack.return_value = 1\n", True),
        ("def test(svc):\n    svc.attack.return_value.total = 1\n", True),
        ("def test(svc):\n    svc.attack = Mock()\n", True),
        ("def test():\n    m = Mock(attack=Mock())\n", True),
        ("@patch('pkg.mod.Combat.attack')\ndef test(m):\n    pass\n", True),
        ("@patch.object(Combat, 'attack')\ndef test(m):\n    pass\n", True),
        ("def test(:\n", True),  # ast cannot read it: the codemod decides
    ],
)
def test_the_pre_check_finds_every_place_a_rewrite_starts(code: str, may: bool) -> None:
    command = MigrateTestDoublesCommand(CodemodContext(), ["pkg.mod.Combat.attack"])
    assert command._may_name_a_double(code) is may
