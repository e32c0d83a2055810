"""Lending: module functions that open the store themselves (under another name)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from library.storage import Book
from library.storage import open_store as storage
from library.repos import get_book_repo


async def overdue_titles(isbns: list[str]) -> AsyncIterator[str]:
    for isbn in isbns:
        book = await get_book_repo().get(isbn)
        if book is not None:
            yield book.title


@asynccontextmanager
async def checkout(isbn: str) -> AsyncIterator[Book]:
    """Hand a book out for the duration of the block, and put it back afterwards."""
    book_repo = get_book_repo()
    book = await book_repo.get(isbn)
    if book is None:
        raise LookupError(isbn)
    yield book
    await book_repo.put(book)


async def lend(isbn: str) -> str:
    async with checkout(isbn) as book:
        return book.title


async def report(isbns: list[str]) -> list[str]:
    return [title.upper() async for title in overdue_titles(isbns)]


def tidy() -> int:
    return storage().compact()  # no async counterpart: the aliased factory stays in use
