from unittest.mock import patch

from tally import billing


async def test_fixture_books(shared_books):
    with patch("tally.billing.open_books", return_value=shared_books):
        await billing.balance(1)
