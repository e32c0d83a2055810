from unittest.mock import patch

from tally import ledger


@patch("tally.ledger.open_books")
async def test_posting_reads_the_account(open_books):
    open_books.return_value.read_account.return_value = {"number": 7, "balance": 40}
    open_books.return_value.compact.return_value = None
    assert await ledger.post(7) == 40


@patch("tally.ledger.open_books")
def test_compaction_only(open_books):
    ledger.compact()
    open_books.return_value.compact.assert_called_once_with()
