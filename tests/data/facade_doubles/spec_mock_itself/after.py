"""A MagicMock(spec=Facade) injected into migrated code stays the injected object (from_received: itself)."""

from unittest.mock import AsyncMock, MagicMock, Mock

from tally import billing
from tally.books import Books


async def test_configured_then_asserted():
    """The configuration becomes the AsyncMock; the assertions follow it."""
    books = MagicMock(spec=Books)
    books.by_number = AsyncMock(return_value={"number": 1, "balance": 2})
    books.by_number.side_effect = None
    service = billing.Teller(books)
    assert await service.balance(1) == 2
    books.by_number.assert_awaited_once_with(number=1)
    books.by_number.reset_mock()


async def test_only_asserted():
    books = Mock(spec=Books)
    books.put = AsyncMock()
    books.by_number = AsyncMock(return_value=None)
    await billing.Teller(books).deposit(1, 5)
    books.put.assert_awaited_once_with({"number": 1, "balance": 5})
    assert books.put.call_args_list == [(({"number": 1, "balance": 5},),)]


async def test_configured_in_a_branch_and_deeper(flag=True):
    books = MagicMock(Books)
    books.by_number = AsyncMock()
    books.put = AsyncMock()
    if flag:
        books.by_number.return_value = {"number": 1, "balance": 0}
    books.put.return_value.ok = True
    books.put = AsyncMock(return_value=None)
    await billing.Teller(books).deposit(1, 1)
