from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

from app.repos import get_item_repo


async def values(keys: list[str]) -> AsyncIterator[int]:
    for key in keys:
        yield await get_item_repo().get(key)


@asynccontextmanager
async def reserved(key: str) -> AsyncGenerator[int, None]:
    item_repo = get_item_repo()
    yield await item_repo.get(key)
    await item_repo.put(key, 0)
