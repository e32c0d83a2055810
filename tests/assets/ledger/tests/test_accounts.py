from ledger.accounts import balance
from ledger.api import account_view
from ledger.books import Entry, seed
from ledger.fmt import describe


def test_balance_sums_the_entries() -> None:
    seed(Entry("cash", 5), Entry("cash", 7))
    assert balance("cash") == 12


def test_account_view() -> None:
    seed(Entry("bank", 3))
    assert account_view("bank") == {"account": "bank", "balance": 3}


def test_describe_comes_from_the_package() -> None:
    assert describe("cash") == "cash: 0"
