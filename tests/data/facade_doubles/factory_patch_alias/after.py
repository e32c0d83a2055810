"""The factory's return value is a local mock (made here, handed over by return_value=)."""

from unittest.mock import AsyncMock, patch

from tally import billing
from tally.stores import AccountStore


async def test_return_value_keyword():
    fake = AsyncMock(spec=AccountStore)
    fake.by_number.return_value = {"number": 3, "balance": 5}
    with patch.object(billing, "account_store", return_value=fake):
        assert await billing.deposit(3, 10) == 15
    fake.put.assert_awaited_once_with({"number": 3, "balance": 15})


async def test_assigned_after_the_patch():
    with patch("tally.billing.account_store", return_value=AsyncMock(spec=AccountStore)) as open_books:
        books = AsyncMock(spec=AccountStore)
        open_books.return_value = books
        books.by_number.return_value = None
        assert await billing.balance(1) == 0
    books.by_number.assert_awaited_once_with(number=1)


async def test_inline_mock():
    with patch("tally.billing.account_store", return_value=AsyncMock(spec=AccountStore)) as open_books:
        await billing.balance(2)
    open_books.return_value.put.assert_not_awaited()
