from unittest.mock import MagicMock, patch

from ledger import billing


async def test_new_given():
    with patch("ledger.billing.open_books", new=MagicMock()):
        await billing.balance(1)
