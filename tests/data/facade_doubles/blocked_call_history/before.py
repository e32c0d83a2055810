from unittest.mock import MagicMock

from tally import billing
from tally.books import Books


async def test_arguments_read_back():
    books = MagicMock(spec=Books)
    books.read_account.return_value = None
    await billing.Teller(books).balance(1)
    assert books.read_account.call_args.kwargs == {"acct": 1}
