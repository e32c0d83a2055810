"""HTTP endpoints: already ``async def``, and every store call in them blocks the event loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from library.storage import Store, open_store

router = APIRouter()


@router.get("/books/{isbn}")
async def get_book(isbn: str, store: Store = Depends(open_store)) -> dict[str, str]:
    book = store.load_book(isbn)
    if book is None:
        raise HTTPException(status_code=404)
    return {"isbn": book.isbn, "title": book.title}


@router.get("/books/{isbn}/shelf")
async def get_shelf(isbn: str, store: Annotated[Store, Depends(open_store)]) -> dict[str, str | None]:
    return {"shelf": store.shelf_of(isbn)}


@router.post("/maintenance")
async def compact(store: Annotated[Store, Depends(open_store)]) -> dict[str, int]:
    return {"books": store.compact()}  # no async counterpart yet: stays, and is reported
