"""patch.object / patch of a facade method: the repository method, awaited or not."""

from unittest.mock import MagicMock, patch

from tally import billing
from tally.books import Books


async def test_context_manager():
    with patch.object(Books, "read_account", return_value=None) as read_account:
        assert await billing.balance(404) == 0
    read_account.assert_called_once_with(acct=404)
    assert read_account.called


@patch("tally.books.Books.write_account")
@patch.object(Books, "read_account", return_value={"number": 1, "balance": 1})
async def test_decorators(read_account, write_account):
    await billing.deposit(1, 1)
    read_account.assert_called_once_with(acct=1)
    write_account.assert_called_once()


async def test_new_and_autospec():
    with patch.object(Books, "read_account", new=MagicMock(return_value=None)):
        await billing.balance(1)
    with patch.object(Books, "write_account", autospec=True):
        await billing.deposit(1, 1)


async def test_sync_target_and_unmapped_method():
    with patch.object(Books, "read_rate", return_value=2) as read_rate, patch.object(Books, "compact"):
        await billing.balance(1)
    read_rate.assert_not_called()


@patch.object(Books, "read_account", MagicMock(return_value=None))
async def test_decorator_with_a_replacement():
    assert await billing.balance(5) == 0
