"""The factory's return value is a local mock (made here, handed over by return_value=)."""

from unittest import mock
from unittest.mock import MagicMock, patch

from tally import billing
from tally.books import Books


async def test_return_value_keyword():
    fake = MagicMock()
    fake.read_account.return_value = {"number": 3, "balance": 5}
    with patch.object(billing, "open_books", return_value=fake):
        assert await billing.deposit(3, 10) == 15
    fake.write_account.assert_called_once_with({"number": 3, "balance": 15})


async def test_assigned_after_the_patch():
    with patch("tally.billing.open_books") as open_books:
        books = mock.Mock(spec=Books)
        open_books.return_value = books
        books.read_account.return_value = None
        assert await billing.balance(1) == 0
    books.read_account.assert_called_once_with(acct=1)


async def test_inline_mock():
    with patch("tally.billing.open_books", return_value=MagicMock()) as open_books:
        await billing.balance(2)
    open_books.return_value.write_account.assert_not_called()
