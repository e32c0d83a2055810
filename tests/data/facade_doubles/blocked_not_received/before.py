from unittest.mock import MagicMock

from tally import billing
from tally.books import Books


async def test_archive():
    books = MagicMock(spec=Books)
    books.close_account.return_value = True
    await billing.Teller(books).close(1)
