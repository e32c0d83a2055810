"""The async repository, and a sync cache, that replace the facade."""

from app.db import get_db


class ItemRepo:
    async def get(self, key: str) -> int:
        return get_db().rows.get(key, 0)

    async def put(self, key: str, value: int, replace: bool = True) -> None:
        if replace or key not in get_db().rows:
            get_db().rows[key] = value


class LabelCache:
    def find(self, key: str) -> str:
        return key.upper()


def get_item_repo() -> ItemRepo:
    return ItemRepo()


def get_label_cache() -> LabelCache:
    return LabelCache()
