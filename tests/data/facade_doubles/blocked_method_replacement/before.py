from unittest.mock import patch

from tally import billing
from tally.books import Books


def fake_read(self, acct):
    return None


async def test_function_replacement():
    with patch.object(Books, "read_account", fake_read):
        await billing.balance(1)
