"""Endpoints, and a service class that keeps the database on self."""

from typing import Annotated

from fastapi import APIRouter, Depends

from app.db import Database, get_db

router = APIRouter()


class Inventory:
    """Counts things."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.db = get_db()  # the facade, kept for what has no repository yet
        self.seen = 0

    def count(self, key: str) -> int:
        # one read, one write
        value = self.db.fetch(key)
        self.db.store(
            key,
            value + 1,
            overwrite=True,
        )
        return value

    def label(self, key: str) -> str:
        return self.db.lookup(key)

    def size(self) -> int:
        return self.db.vacuum()


@router.get("/items/{key}")
async def read_item(key: str, db: Database = Depends(get_db)) -> dict[str, int]:
    return {"value": db.fetch(key)}


@router.get("/labels/{key}")
async def read_label(
    key: str,
    db: Annotated[Database, Depends(get_db)],
) -> str:
    return db.lookup(key)


@router.post("/items/{key}")
async def write_item(key: str, value: int, db: Annotated[Database, Depends(get_db)]) -> int:
    db.store(key, value)
    return db.vacuum()  # no repository method yet: the facade parameter stays


@router.get("/counts/{key}")
async def count(key: str) -> int:
    return Inventory("web").count(key)
