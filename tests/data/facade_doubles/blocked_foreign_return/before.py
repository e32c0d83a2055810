from unittest.mock import patch

from ledger import billing
from ledger.books import Books


async def test_real_books():
    with patch("ledger.billing.open_books", return_value=Books()):
        await billing.balance(1)
