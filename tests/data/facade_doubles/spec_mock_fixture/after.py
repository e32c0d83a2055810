"""A fixture of this module makes the spec'd double; tests that take it follow it."""

from unittest.mock import AsyncMock, MagicMock

import pytest

from tally import billing
from tally.books import Books


@pytest.fixture
def books():
    fake = MagicMock(spec=Books)
    fake.by_number = AsyncMock(return_value={"number": 1, "balance": 9})
    return fake


@pytest.fixture
def bare_books():
    return MagicMock(spec=Books)


async def test_fixture_configured(books):
    books.put = AsyncMock()
    assert await billing.Teller(books).balance(1) == 9
    books.by_number.assert_awaited_once_with(number=1)
    books.put.assert_not_awaited()


async def test_bare_fixture(bare_books):
    bare_books.by_number = AsyncMock(return_value=None)
    assert await billing.Teller(bare_books).balance(1) == 0
