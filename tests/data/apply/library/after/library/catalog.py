"""Catalogue lookups: a class that keeps the store on ``self``."""

from __future__ import annotations

from library.storage import Book, open_store
from library.repos import get_book_repo, get_shelf_cache


class Catalog:
    def __init__(self) -> None:
        self.store = open_store()
        self.book_repo = get_book_repo()
        self.shelf_cache = get_shelf_cache()
        self.lent: set[str] = set()

    async def title_of(self, isbn: str) -> str | None:
        book = await self.book_repo.get(isbn)
        return book.title if book else None

    async def add(self, isbn: str, title: str, *, replace: bool = False) -> Book:
        book = Book(isbn, title)
        await self.book_repo.put(book, replace=replace)
        return book

    def shelf_label(self, isbn: str) -> str:
        # The shelf cache answers synchronously: this method stays a plain def.
        return f"shelf {self.shelf_cache.shelf_for(isbn) or '?'}"

    async def search(self, text: str) -> list[str]:
        return [book.title for book in await self.book_repo.search(query=text, max_results=5)]


async def describe(isbn: str) -> str:
    catalog = Catalog()
    return f"{isbn}: {await catalog.title_of(isbn)} ({catalog.shelf_label(isbn)})"
