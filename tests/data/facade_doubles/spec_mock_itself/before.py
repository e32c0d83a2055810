"""A MagicMock(spec=Facade) injected into migrated code stays the injected object (from_received: itself)."""

from unittest.mock import MagicMock, Mock

from tally import billing
from tally.books import Books


async def test_configured_then_asserted():
    """The configuration becomes the AsyncMock; the assertions follow it."""
    books = MagicMock(spec=Books)
    books.read_account.return_value = {"number": 1, "balance": 2}
    books.read_account.side_effect = None
    service = billing.Teller(books)
    assert await service.balance(1) == 2
    books.read_account.assert_called_once_with(acct=1)
    books.read_account.reset_mock()


async def test_only_asserted():
    books = Mock(spec=Books)
    books.read_account.return_value = None
    await billing.Teller(books).deposit(1, 5)
    books.write_account.assert_called_once_with({"number": 1, "balance": 5})
    assert books.write_account.call_args_list == [(({"number": 1, "balance": 5},),)]


async def test_configured_in_a_branch_and_deeper(flag=True):
    books = MagicMock(Books)
    if flag:
        books.read_account.return_value = {"number": 1, "balance": 0}
    books.write_account.return_value.ok = True
    books.write_account = Mock(return_value=None)
    await billing.Teller(books).deposit(1, 1)
