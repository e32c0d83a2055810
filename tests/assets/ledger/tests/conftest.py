import pytest

from ledger.books import reset_books


@pytest.fixture(autouse=True)
def fresh_books() -> None:
    reset_books()
