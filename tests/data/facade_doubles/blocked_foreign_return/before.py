from unittest.mock import patch

from tally import billing
from tally.books import Books


async def test_real_books():
    with patch("tally.billing.open_books", return_value=Books()):
        await billing.balance(1)
