"""patch of the factory the migrated module no longer has: decorator forms."""

from unittest.mock import AsyncMock, patch

import pytest

from tally import billing
from tally.stores import AccountStore


@patch("tally.billing.account_store", return_value=AsyncMock(spec=AccountStore))
async def test_configured(open_books):
    open_books.return_value.by_number.return_value = {"number": 7, "balance": 40}
    assert await billing.balance(7) == 40
    open_books.return_value.by_number.assert_awaited_once_with(number=7)


@patch("tally.billing.account_store", return_value=AsyncMock(spec=AccountStore))
async def test_only_keeps_the_database_away(open_books):
    open_books.return_value.by_number.return_value = None
    assert await billing.deposit(1, 5) == 5
    open_books.return_value.put.assert_awaited_once()
    assert open_books.return_value.put.call_args.args[0]["balance"] == 5
    open_books.assert_called()


@patch.object(billing, "account_store", return_value=AsyncMock(spec=AccountStore))
async def test_module_object(open_books):
    open_books.return_value.by_number.side_effect = KeyError(1)
    with pytest.raises(KeyError):
        await billing.balance(1)
