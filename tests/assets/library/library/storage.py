"""The library's synchronous storage facade: what the migration retires."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Book:
    isbn: str
    title: str
    shelf: str = "new arrivals"


class Store:
    """Everything in memory; the real one talked to a database and blocked while it did."""

    def __init__(self) -> None:
        self.books: dict[str, Book] = {}

    def load_book(self, isbn: str) -> Book | None:
        return self.books.get(isbn)

    def save_book(self, book: Book, overwrite: bool = True) -> None:
        if overwrite or book.isbn not in self.books:
            self.books[book.isbn] = book

    def find_books(self, title: str = "", limit: int = 10) -> list[Book]:
        found = [b for b in self.books.values() if title.lower() in b.title.lower()]
        return sorted(found, key=lambda b: b.isbn)[:limit]

    def shelf_of(self, isbn: str) -> str | None:
        book = self.books.get(isbn)
        return book.shelf if book else None

    def compact(self) -> int:
        return len(self.books)


_STORE: Store | None = None


def open_store() -> Store:
    global _STORE
    if _STORE is None:
        _STORE = Store()
    return _STORE
