"""patch of the factory the migrated module no longer has: decorator forms."""

from unittest.mock import patch

import pytest

from tally import billing


@patch("tally.billing.open_books")
async def test_configured(open_books):
    open_books.return_value.read_account.return_value = {"number": 7, "balance": 40}
    assert await billing.balance(7) == 40
    open_books.return_value.read_account.assert_called_once_with(acct=7)


@patch("tally.billing.open_books")
async def test_only_keeps_the_database_away(open_books):
    open_books.return_value.read_account.return_value = None
    assert await billing.deposit(1, 5) == 5
    open_books.return_value.write_account.assert_called_once()
    assert open_books.return_value.write_account.call_args.args[0]["balance"] == 5
    open_books.assert_called()


@patch.object(billing, "open_books")
async def test_module_object(open_books):
    open_books.return_value.read_account.side_effect = KeyError(1)
    with pytest.raises(KeyError):
        await billing.balance(1)
