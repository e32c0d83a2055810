"""Lending: module functions that open the store themselves (under another name)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from library.storage import Book
from library.storage import open_store as storage


def overdue_titles(isbns: list[str]) -> Iterator[str]:
    for isbn in isbns:
        book = storage().load_book(isbn)
        if book is not None:
            yield book.title


@contextmanager
def checkout(isbn: str) -> Iterator[Book]:
    """Hand a book out for the duration of the block, and put it back afterwards."""
    store = storage()
    book = store.load_book(isbn)
    if book is None:
        raise LookupError(isbn)
    yield book
    store.save_book(book)


def lend(isbn: str) -> str:
    with checkout(isbn) as book:
        return book.title


def report(isbns: list[str]) -> list[str]:
    return [title.upper() for title in overdue_titles(isbns)]


def tidy() -> int:
    return storage().compact()  # no async counterpart: the aliased factory stays in use
