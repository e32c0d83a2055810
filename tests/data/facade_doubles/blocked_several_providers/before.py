from unittest.mock import patch

from ledger import reports


@patch("ledger.reports.open_books")
async def test_statement(open_books):
    open_books.return_value.read_account.return_value = None
    assert await reports.statement(1) == ""
