from unittest.mock import patch

from tally import billing


async def test_started_by_hand():
    patcher = patch("tally.billing.open_books")
    books = patcher.start()
    books.return_value.read_account.return_value = None
    try:
        assert await billing.balance(1) == 0
    finally:
        patcher.stop()
