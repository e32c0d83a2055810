from unittest.mock import MagicMock

from tally import billing
from tally.books import Books


async def test_strict():
    books = MagicMock(spec_set=Books)
    books.read_account.return_value = None
    await billing.Teller(books).balance(1)
