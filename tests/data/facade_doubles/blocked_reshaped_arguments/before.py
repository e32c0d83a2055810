from unittest.mock import MagicMock, patch

from tally import billing
from tally.books import Books


async def test_transfer_moves_the_account():
    books = MagicMock(spec=Books)
    books.move_account.return_value = None
    await billing.Teller(books).transfer(1, "east")
    books.move_account.assert_called_once_with(1, "east")


async def test_transfer_through_a_patched_method():
    with patch.object(Books, "move_account") as move_account:
        await billing.transfer(2, "west")
    move_account.assert_called_once()
    assert move_account.call_args.args == (2, "west")
