"""No facade here: every byte must survive, odd spacing included."""
from app.repos import get_item_repo


def lookup(cache, key):   # a different object with a method of the same name
    return cache.fetch( key )


async def read(key: str) -> int:
    return await get_item_repo().get(key)
