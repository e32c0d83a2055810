from unittest.mock import patch

from tally import audit


async def test_audit():
    with patch.object(audit, "open_books"):
        await audit.check(1)
