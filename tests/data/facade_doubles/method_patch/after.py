"""patch.object / patch of a facade method: the repository method, awaited or not."""

from unittest.mock import AsyncMock, patch

from tally import billing
from tally.books import Books
from tally.stores import AccountStore, RateTable


async def test_context_manager():
    with patch.object(AccountStore, "by_number", return_value=None, new_callable=AsyncMock) as read_account:
        assert await billing.balance(404) == 0
    read_account.assert_awaited_once_with(number=404)
    assert read_account.called


@patch("tally.stores.AccountStore.put", new_callable=AsyncMock)
@patch.object(AccountStore, "by_number", return_value={"number": 1, "balance": 1}, new_callable=AsyncMock)
async def test_decorators(read_account, write_account):
    await billing.deposit(1, 1)
    read_account.assert_awaited_once_with(number=1)
    write_account.assert_awaited_once()


async def test_new_and_autospec():
    with patch.object(AccountStore, "by_number", new=AsyncMock(return_value=None)):
        await billing.balance(1)
    with patch.object(AccountStore, "put", autospec=True):
        await billing.deposit(1, 1)


async def test_sync_target_and_unmapped_method():
    with patch.object(RateTable, "rate_for", return_value=2) as read_rate, patch.object(Books, "compact"):
        await billing.balance(1)
    read_rate.assert_not_called()


@patch.object(AccountStore, "by_number", AsyncMock(return_value=None))
async def test_decorator_with_a_replacement():
    assert await billing.balance(5) == 0
