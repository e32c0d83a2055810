"""Endpoints, and a service class that keeps the database on self."""

from typing import Annotated

from fastapi import APIRouter, Depends

from app.db import Database, get_db
from app.repos import ItemRepo, LabelCache, get_item_repo, get_label_cache

router = APIRouter()


class Inventory:
    """Counts things."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.db = get_db()  # the facade, kept for what has no repository yet
        self.item_repo = get_item_repo()
        self.labels = get_label_cache()
        self.seen = 0

    async def count(self, key: str) -> int:
        # one read, one write
        value = await self.item_repo.get(key)
        await self.item_repo.put(
            key,
            value + 1,
            replace=True,
        )
        return value

    def label(self, key: str) -> str:
        return self.labels.find(key)

    def size(self) -> int:
        return self.db.vacuum()


@router.get("/items/{key}")
async def read_item(key: str, item_repo: ItemRepo = Depends(get_item_repo)) -> dict[str, int]:
    return {"value": await item_repo.get(key)}


@router.get("/labels/{key}")
async def read_label(
    key: str,
    labels: Annotated[LabelCache, Depends(get_label_cache)],
) -> str:
    return labels.find(key)


@router.post("/items/{key}")
async def write_item(key: str, value: int, db: Annotated[Database, Depends(get_db)], item_repo: Annotated[ItemRepo, Depends(get_item_repo)]) -> int:
    await item_repo.put(key, value)
    return db.vacuum()  # no repository method yet: the facade parameter stays


@router.get("/counts/{key}")
async def count(key: str) -> int:
    return await Inventory("web").count(key)
