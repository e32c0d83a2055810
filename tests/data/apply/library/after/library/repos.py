"""What replaces the store: books are read and written asynchronously, the shelf cache stays sync."""

from __future__ import annotations

from library.storage import Book, open_store


class BookRepo:
    async def get(self, isbn: str) -> Book | None:
        return open_store().books.get(isbn)

    async def put(self, book: Book, *, replace: bool = True) -> None:
        if replace or book.isbn not in open_store().books:
            open_store().books[book.isbn] = book

    async def search(self, query: str = "", max_results: int = 10) -> list[Book]:
        found = [b for b in open_store().books.values() if query.lower() in b.title.lower()]
        return sorted(found, key=lambda b: b.isbn)[:max_results]


class ShelfCache:
    """Loaded once at start-up; reading it never waits."""

    def shelf_for(self, isbn: str) -> str | None:
        book = open_store().books.get(isbn)
        return book.shelf if book else None


def get_book_repo() -> BookRepo:
    return BookRepo()


def get_shelf_cache() -> ShelfCache:
    return ShelfCache()
