"""The facade-doubles codemod: golden pairs per form, a blocker case per kind, and a real apply.

The golden cases under ``tests/data/facade_doubles/<case>/`` are test modules of the fixture codebase
``tests/assets/tally`` (facade ``Books`` from ``open_books()``, repository ``AccountStore`` from
``account_store()``). ``blocked_*`` cases hold a ``blockers.txt`` instead of ``after.py``: the blockers
expected, in order, and the file must come back unchanged.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

from asyncmigrate.codemods.migrate_facade_doubles import (
    DoubleTarget,
    FacadeDoubles,
    MigratedModule,
    MigrateFacadeDoublesCommand,
    facade_doubles,
    may_hold_doubles,
)
from asyncmigrate.config.plan import load_plan
from asyncmigrate.types import FileStatus
from asyncmigrate.workflow.apply import apply_files
from tests.sarif_helpers import compiles_and_passes_pyflakes

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "facade_doubles"
TALLY = ROOT / "tests" / "assets" / "tally"
CASES = sorted(case.name for case in DATA.iterdir() if case.is_dir() and not case.name.startswith("blocked_"))
BLOCKED = sorted(case.name for case in DATA.iterdir() if case.is_dir() and case.name.startswith("blocked_"))

ACCOUNT = "tally.stores.AccountStore"
DOUBLES = FacadeDoubles(
    classes=frozenset({"tally.books.Books"}),
    targets={
        "read_account": DoubleTarget("account", "by_number", True, ACCOUNT, (("acct", "number"),), "itself"),
        "write_account": DoubleTarget("account", "put", True, ACCOUNT, (), "itself"),
        "read_rate": DoubleTarget("rate", "rate_for", False, "tally.stores.RateTable", (), "attribute:rates"),
        "post_entry": DoubleTarget("journal", "append", True, "tally.stores.Journal", (), "attribute:journal.log"),
        "close_account": DoubleTarget("archive", "close", True, "tally.stores.Archive", (), None),
        # move_account(n, to) -> relocate(to, n, audit=True); sum_accounts goes through an adapter
        "move_account": DoubleTarget("account", "relocate", True, ACCOUNT, (), "itself", reshaped=True),
        "sum_accounts": DoubleTarget("account", "numbers", True, ACCOUNT, (), "itself", adapter="tally.glue.total"),
    },
    modules={
        "tally.billing": MigratedModule(frozenset({"open_books"}), {"account": "account_store"}),
        "tally.reports": MigratedModule(frozenset({"open_books"}), {"account": "account_store", "rate": "rates"}),
        "tally.audit": MigratedModule(frozenset({"open_books"}), {}),
        # keeps open_books for its unmapped calls, reaches the accounts through account_store
        "tally.ledger": MigratedModule(frozenset(), {"account": "account_store"}, frozenset({"open_books"})),
    },
    class_attributes={
        "tally.books.Books": frozenset(
            {"read_account", "write_account", "read_rate", "close_account", "rates", "move_account", "sum_accounts"}
        )
    },
)


def run(code: str, doubles: FacadeDoubles = DOUBLES) -> tuple[str, list[str]]:
    context = CodemodContext(filename="test_x.py", full_module_name="tests.test_x", full_package_name="tests")
    command = MigrateFacadeDoublesCommand(context, doubles)
    output = command.transform_module(cst.parse_module(code)).code
    return output, [f"test_x.py:{b.line}: {b.message} | fix: {b.fix}" for b in command.outcome.blockers]


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    before = (DATA / case / "before.py").read_text()
    output, blockers = run(before)
    assert blockers == []
    assert output == (DATA / case / "after.py").read_text()
    again, _ = run(output)
    assert again == output  # a second run changes nothing


@pytest.mark.parametrize("case", BLOCKED)
def test_blocked_double_is_a_blocker_and_nothing_is_written(case: str) -> None:
    before = (DATA / case / "before.py").read_text()
    output, blockers = run(before)
    assert output == before
    assert blockers == (DATA / case / "blockers.txt").read_text().splitlines()
    assert blockers


def test_noop_case_is_byte_identical() -> None:
    before = (DATA / "noop_unrelated" / "before.py").read_text()
    assert run(before)[0] == before


def test_inputs_from_the_plan_and_the_rewritten_module(tmp_path: Path) -> None:
    """What the rewrite removed and what it imports now, read from the module's text before and after."""
    shutil.copytree(TALLY, tmp_path / "tally")
    plan = load_plan(tmp_path / "tally" / "migration_plan.yaml")
    before = b"from tally.books import open_books\n\nasync def f():\n    return open_books().read_account(acct=1)\n"
    after = (
        b"from tally.stores import account_store\n\n"
        b"async def f():\n    return await account_store().by_number(number=1)\n"
    )

    doubles = facade_doubles(plan, {"tally.billing": (before, after), "tally.other": (before, before)})

    assert doubles.modules == {"tally.billing": MigratedModule(frozenset({"open_books"}), {"account": "account_store"})}
    assert doubles.targets["read_account"] == DoubleTarget("account", "by_number", True, ACCOUNT, (("acct", "number"),))
    assert doubles.class_attributes["tally.books.Books"] >= {"read_account", "write_account"}
    assert "accounts" not in doubles.class_attributes["tally.books.Books"]  # set in __init__: spec refuses it
    # ``from_received`` (the plan schema of received facades) is carried when the plan has it.
    received = dataclasses.replace(plan.repositories["account"], from_received="attribute:accounts")
    with_received = dataclasses.replace(plan, repositories={"account": received})
    assert facade_doubles(with_received, {}).targets["read_account"].from_received == "attribute:accounts"


def test_apply_carries_the_tests_doubles_and_keeps_them_green(tmp_path: Path) -> None:
    """The tally's tests patch the factory billing imports and a facade method; after ``apply`` they
    patch the provider and the repository method, and pass (un-awaited coroutines failing them)."""
    root = tmp_path / "tally"
    shutil.copytree(TALLY, root)
    plan_file = root / "migration_plan.yaml"
    plan_file.write_text(
        plan_file.read_text().replace(
            "test_command: [python, -m, pytest, -q, -p, no:cacheprovider]",
            f"test_command: [{sys.executable}, -W, 'error::RuntimeWarning', -m, pytest, -q, -p, no:cacheprovider]",
        )
    )
    plan, results = apply_files(load_plan(plan_file), ["tally/billing.py"])

    (result,) = results
    assert result.change.blockers == []
    assert result.test_passed, result.test_output
    assert plan.entry("tally/billing.py").status is FileStatus.VERIFIED  # type: ignore[union-attr]
    tests = (root / "tests" / "test_billing.py").read_text()
    assert '@patch("tally.billing.account_store", return_value=AsyncMock(spec=AccountStore))' in tests
    assert "open_books.return_value.by_number.assert_awaited_once_with(number=7)" in tests
    assert 'patch.object(AccountStore, "by_number", return_value=None, new_callable=AsyncMock)' in tests
    for facade_double in ('"open_books"', '"read_account"', "return_value.read_account", "fake.write_account"):
        assert facade_double not in tests
    # the facade's class and the sync mock the doubles used are no longer imported: no F401 for a linter
    assert compiles_and_passes_pyflakes(root, ["tests/test_billing.py", "tally/billing.py"]) is None
    assert "from tally.books import Books" not in tests and "MagicMock" not in tests


# -- the golden pairs run: each "before" against the code before the migration, each "after" against it
# migrated as the plan says (``itself`` for accounts, ``attribute:rates`` for rates). Both must pass: the
# tests keep testing the same thing.

BOOKS = """
class Books:
    rates = None  # the rate table hangs from the facade: a Mock(spec=Books) allows books.rates

    def __init__(self):
        self.accounts = {}

    def read_account(self, acct):
        return self.accounts.get(acct)

    def write_account(self, account):
        self.accounts[account["number"]] = account

    def read_rate(self):
        return 1

    def close_account(self, number):
        return self.accounts.pop(number, None) is not None

    def compact(self):
        return 0


_BOOKS = Books()


def open_books():
    return _BOOKS
"""
STORES = """
from tally.books import open_books


class AccountStore:
    async def by_number(self, number):
        return open_books().accounts.get(number)

    async def put(self, account):
        open_books().accounts[account["number"]] = account


class RateTable:
    def rate_for(self):
        return 1


def account_store():
    return AccountStore()
"""
BILLING_BEFORE = """
from tally.books import open_books


async def balance(number):
    account = open_books().read_account(acct=number)
    return 0 if account is None else account["balance"]


async def deposit(number, amount):
    books = open_books()
    account = books.read_account(acct=number) or {"number": number, "balance": 0}
    account = {**account, "balance": account["balance"] + amount}
    books.write_account(account)
    return account["balance"]


class Teller:
    def __init__(self, books):
        self.books = books

    async def balance(self, number):
        account = self.books.read_account(acct=number)
        return 0 if account is None else account["balance"]

    async def deposit(self, number, amount):
        account = self.books.read_account(acct=number) or {"number": number, "balance": 0}
        account = {**account, "balance": account["balance"] + amount}
        self.books.write_account(account)
        return account["balance"]

    async def converted(self, amount):
        return self.books.read_rate() * amount
"""
BILLING_AFTER = """
from tally.stores import account_store


async def balance(number):
    account = await account_store().by_number(number=number)
    return 0 if account is None else account["balance"]


async def deposit(number, amount):
    accounts = account_store()
    account = await accounts.by_number(number=number) or {"number": number, "balance": 0}
    account = {**account, "balance": account["balance"] + amount}
    await accounts.put(account)
    return account["balance"]


class Teller:
    def __init__(self, books):
        self.books = books

    async def balance(self, number):
        account = await self.books.by_number(number=number)
        return 0 if account is None else account["balance"]

    async def deposit(self, number, amount):
        account = await self.books.by_number(number=number) or {"number": number, "balance": 0}
        account = {**account, "balance": account["balance"] + amount}
        await self.books.put(account)
        return account["balance"]

    async def converted(self, amount):
        return self.books.rates.rate_for() * amount
"""
RUNNABLE = [case for case in CASES if case != "noop_unrelated"]  # it patches a name the package lacks


@pytest.mark.parametrize(
    ("side", "billing", "passes"),
    [("before", BILLING_BEFORE, True), ("after", BILLING_AFTER, True), ("before", BILLING_AFTER, False)],
    ids=["before-on-sync-code", "after-on-migrated-code", "unconverted-on-migrated-code"],
)
def test_golden_pairs_pass_against_the_code_they_test(tmp_path: Path, side: str, billing: str, passes: bool) -> None:
    package = tmp_path / "tally"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "books.py").write_text(BOOKS)
    (package / "stores.py").write_text(STORES)
    (package / "billing.py").write_text(billing)
    (tmp_path / "tests").mkdir()
    for case in RUNNABLE:
        shutil.copy(DATA / case / f"{side}.py", tmp_path / "tests" / f"test_{case}.py")
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nasyncio_mode = "auto"\n')
    run_ = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        timeout=300,
    )
    assert (run_.returncode == 0) is passes, run_.stdout[-3000:] + run_.stderr[-2000:]
    if not passes:  # every golden case depends on its conversion
        failed = {
            line.split("::")[0].removeprefix("FAILED ")
            for line in run_.stdout.splitlines()
            if line.startswith("FAILED")
        }
        assert failed == {f"tests/test_{case}.py" for case in RUNNABLE}


def test_a_lambda_beside_a_spec_mock_does_not_stop_the_carry() -> None:
    """A lambda in the test body (``lambda: books`` for a dependency override) is not walked into, and
    leaving it must not unbalance the walk of the uses."""
    before = (
        "from unittest.mock import MagicMock\n\nfrom tally.books import Books\n\n\n"
        "def test_x(app):\n"
        "    books = MagicMock(spec=Books)\n"
        "    app.overrides = lambda: books\n"
        "    books.read_account.return_value = None\n"
        "    books.read_account.assert_called_once_with(acct=1)\n"
    )
    output, blockers = run(before)
    assert blockers == []
    assert "    books.by_number = AsyncMock(return_value=None)\n" in output
    assert "    books.by_number.assert_awaited_once_with(number=1)\n" in output
    assert "app.overrides = lambda: books" in output


def test_doubles_move_in_tests_that_reach_the_module_through_another_module(tmp_path: Path) -> None:
    """The caravan's API tests import the app factory, not the endpoints module: the spec'd store they
    put on the app's state is carried over when the endpoints migrate."""
    root = tmp_path / "caravan"
    shutil.copytree(ROOT / "tests" / "assets" / "caravan", root, ignore=shutil.ignore_patterns("__pycache__"))
    assert "caravan.api" not in (root / "tests" / "test_api.py").read_text()
    plan, results = apply_files(load_plan(root / "migration_plan.yaml"), ["caravan/api.py"], run_tests=False)

    (result,) = results
    assert result.change.blockers == []
    tests = (root / "tests" / "test_api.py").read_text()
    assert "store.wagons.get = AsyncMock(return_value=Wagon(1, 10, load=4))" in tests
    assert 'store.trader_named.assert_awaited_once_with("ada")' in tests


def test_a_factory_kept_for_unmapped_calls_is_read_as_retained(tmp_path: Path) -> None:
    shutil.copytree(TALLY, tmp_path / "tally")
    plan = load_plan(tmp_path / "tally" / "migration_plan.yaml")
    before = (
        b"from tally.books import open_books\n\n"
        b"def f():\n    open_books().compact()\n    return open_books().read_account(acct=1)\n"
    )
    after = (
        b"from tally.books import open_books\nfrom tally.stores import account_store\n\n"
        b"async def f():\n    open_books().compact()\n    return await account_store().by_number(number=1)\n"
    )

    doubles = facade_doubles(plan, {"tally.kept": (before, after), "tally.same": (before, before)})

    assert doubles.modules == {
        "tally.kept": MigratedModule(frozenset(), {"account": "account_store"}, frozenset({"open_books"}))
    }


def _without_precondition(code: str) -> tuple[str, list[int]]:
    """The codemod's full analysis, its ``may_hold_doubles`` shortcut skipped."""
    from libcst.codemod import Codemod

    context = CodemodContext(filename="test_x.py", full_module_name="tests.test_x", full_package_name="tests")
    command = MigrateFacadeDoublesCommand(context, DOUBLES)
    output = Codemod.transform_module(command, cst.parse_module(code)).code
    return output, [b.line for b in command.outcome.blockers]


PRECONDITION_CASES = {
    **{f"data:{case}": (DATA / case / "before.py").read_text() for case in CASES + BLOCKED},
    **{
        f"tally:{path.relative_to(TALLY).as_posix()}": path.read_text()
        for path in sorted(TALLY.rglob("*.py"))
        if "__pycache__" not in path.parts
    },
    "received from a conftest fixture": "def test_read(books):\n    books.read_account.return_value = 1\n",
    "facade words, no double": (
        "from tally.books import Books\n\ndef test_read():\n    assert Books().read_account(1)\n"
    ),
    "a patch under an alias": (
        "from unittest import mock as m\n\n@m.patch('tally.billing.open_books')\ndef test_bill(books):\n"
        "    books.return_value.read_account.return_value = 1\n"
    ),
}


@pytest.mark.parametrize("case", sorted(PRECONDITION_CASES))
def test_code_the_precondition_passes_over_holds_nothing_to_carry_or_block(case: str) -> None:
    """``may_hold_doubles`` only spares the analysis: where it says no, the analysis finds nothing."""
    code = PRECONDITION_CASES[case]
    if may_hold_doubles(code, DOUBLES):
        return
    assert _without_precondition(code) == (code, [])


def test_the_precondition_passes_over_code_without_doubles_and_keeps_what_has_them() -> None:
    assert not may_hold_doubles(PRECONDITION_CASES["facade words, no double"], DOUBLES)
    assert may_hold_doubles(PRECONDITION_CASES["received from a conftest fixture"], DOUBLES)
    assert _without_precondition(PRECONDITION_CASES["received from a conftest fixture"])[1]  # blocked
    assert may_hold_doubles(PRECONDITION_CASES["a patch under an alias"], DOUBLES)
    changed = [c for c in CASES if run((DATA / c / "before.py").read_text())[0] != (DATA / c / "before.py").read_text()]
    assert changed and all(may_hold_doubles((DATA / c / "before.py").read_text(), DOUBLES) for c in changed)
