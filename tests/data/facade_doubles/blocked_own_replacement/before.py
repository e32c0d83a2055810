from unittest.mock import MagicMock, patch

from tally import billing


async def test_new_given():
    with patch("tally.billing.open_books", new=MagicMock()):
        await billing.balance(1)
