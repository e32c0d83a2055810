from unittest.mock import patch

from ledger import audit


async def test_audit():
    with patch.object(audit, "open_books"):
        await audit.check(1)
