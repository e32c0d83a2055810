from ledger.accounts import balance
from ledger.api import account_view
from ledger.books import Entry, open_books
from ledger.fmt import describe


def test_balance_sums_the_entries() -> None:
    books = open_books()
    books.record(Entry("cash", 5))
    books.record(Entry("cash", 7))
    assert balance("cash") == 12


def test_account_view() -> None:
    open_books().record(Entry("bank", 3))
    assert account_view("bank") == {"account": "bank", "balance": 3}


def test_describe_comes_from_the_package() -> None:
    assert describe("cash") == "cash: 0"
