from unittest.mock import patch

from ledger import billing


async def test_fixture_books(shared_books):
    with patch("ledger.billing.open_books", return_value=shared_books):
        await billing.balance(1)
