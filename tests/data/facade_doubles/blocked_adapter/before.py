from unittest.mock import MagicMock, patch

from tally import billing
from tally.books import Books


async def test_total_from_a_spec_mock():
    books = MagicMock(spec=Books)
    books.sum_accounts.return_value = 12
    assert await billing.Teller(books).total() == 12


@patch.object(Books, "sum_accounts", return_value=3)
async def test_total_from_a_patched_method(sum_accounts):
    assert await billing.total() == 3
