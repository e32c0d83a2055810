"""Catalogue lookups: a class that keeps the store on ``self``."""

from __future__ import annotations

from library.storage import Book, open_store


class Catalog:
    def __init__(self) -> None:
        self.store = open_store()
        self.lent: set[str] = set()

    def title_of(self, isbn: str) -> str | None:
        book = self.store.load_book(isbn)
        return book.title if book else None

    def add(self, isbn: str, title: str, *, replace: bool = False) -> Book:
        book = Book(isbn, title)
        self.store.save_book(book, overwrite=replace)
        return book

    def shelf_label(self, isbn: str) -> str:
        # The shelf cache answers synchronously: this method stays a plain def.
        return f"shelf {self.store.shelf_of(isbn) or '?'}"

    def search(self, text: str) -> list[str]:
        return [book.title for book in self.store.find_books(title=text, limit=5)]


def describe(isbn: str) -> str:
    catalog = Catalog()
    return f"{isbn}: {catalog.title_of(isbn)} ({catalog.shelf_label(isbn)})"
