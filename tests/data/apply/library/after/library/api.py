"""HTTP endpoints: already ``async def``, and every store call in them blocks the event loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from library.storage import Store, open_store
from library.repos import BookRepo, ShelfCache, get_book_repo, get_shelf_cache

router = APIRouter()


@router.get("/books/{isbn}")
async def get_book(isbn: str, book_repo: BookRepo = Depends(get_book_repo)) -> dict[str, str]:
    book = await book_repo.get(isbn)
    if book is None:
        raise HTTPException(status_code=404)
    return {"isbn": book.isbn, "title": book.title}


@router.get("/books/{isbn}/shelf")
async def get_shelf(isbn: str, shelf_cache: Annotated[ShelfCache, Depends(get_shelf_cache)]) -> dict[str, str | None]:
    return {"shelf": shelf_cache.shelf_for(isbn)}


@router.post("/maintenance")
async def compact(store: Annotated[Store, Depends(open_store)]) -> dict[str, int]:
    return {"books": store.compact()}  # no async counterpart yet: stays, and is reported
