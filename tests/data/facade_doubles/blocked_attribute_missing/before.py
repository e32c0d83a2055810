from unittest.mock import MagicMock

from tally import billing
from tally.books import Books


async def test_journal():
    books = MagicMock(spec=Books)
    books.post_entry.return_value = None
    await billing.Teller(books).deposit(1, 1)
