from tally import billing


async def test_conftest_books(books):
    books.read_account.return_value = None
    assert await billing.Teller(books).balance(1) == 0
