"""Reads and writes that open the database themselves."""

from app.repos import get_item_repo, get_label_cache


async def read(key: str) -> int:
    """The stored value."""
    item_repo = get_item_repo()
    return await item_repo.get(key)


async def write(key: str, value: int, keep: bool = False) -> None:
    await get_item_repo().put(key, value, replace=not keep)  # keep what is there when asked


def label(key: str) -> str:
    return get_label_cache().find(key)


async def doubled(key: str) -> int: return (await get_item_repo().get(key)).real * 2
