"""A repository reached through an attribute of the received facade (from_received: attribute:rates)."""

from unittest.mock import MagicMock

from tally import billing
from tally.books import Books


async def test_rate_through_the_attribute():
    books = MagicMock(spec=Books)
    books.rates.rate_for = MagicMock(return_value=3)
    assert await billing.Teller(books).converted(1) == 3
    books.rates.rate_for.assert_called_once_with()
