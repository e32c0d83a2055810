"""A fixture of this module makes the spec'd double; tests that take it follow it."""

from unittest.mock import MagicMock

import pytest

from tally import billing
from tally.books import Books


@pytest.fixture
def books():
    fake = MagicMock(spec=Books)
    fake.read_account.return_value = {"number": 1, "balance": 9}
    return fake


@pytest.fixture
def bare_books():
    return MagicMock(spec=Books)


async def test_fixture_configured(books):
    assert await billing.Teller(books).balance(1) == 9
    books.read_account.assert_called_once_with(acct=1)
    books.write_account.assert_not_called()


async def test_bare_fixture(bare_books):
    bare_books.read_account.return_value = None
    assert await billing.Teller(bare_books).balance(1) == 0
