from unittest.mock import patch

from tally import reports


@patch("tally.reports.open_books")
async def test_statement(open_books):
    open_books.return_value.read_account.return_value = None
    assert await reports.statement(1) == ""
