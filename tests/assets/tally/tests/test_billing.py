"""Billing's tests double the facade: they patch its factory where billing looks it up, and its methods."""

from unittest.mock import MagicMock, patch

from tally import billing
from tally.books import Books


@patch("tally.billing.open_books")
async def test_balance_reads_the_account(open_books):
    open_books.return_value.read_account.return_value = {"number": 7, "balance": 40}
    assert await billing.balance(7) == 40
    open_books.return_value.read_account.assert_called_once_with(acct=7)


async def test_deposit_writes_the_new_balance():
    fake = MagicMock()
    fake.read_account.return_value = {"number": 3, "balance": 5}
    with patch.object(billing, "open_books", return_value=fake):
        assert await billing.deposit(3, 10) == 15
    fake.write_account.assert_called_once_with({"number": 3, "balance": 15})


async def test_missing_account_is_worth_nothing():
    with patch.object(Books, "read_account", return_value=None) as read_account:
        assert await billing.balance(404) == 0
    read_account.assert_called_once_with(acct=404)
