"""A sync cache: its ``get`` shares a name with the async ``OrderRepo.get``."""

from __future__ import annotations


class Cache:
    def __init__(self) -> None:
        self._items: dict[str, object] = {}

    def get(self, key: str) -> object | None:
        return self._items.get(key)
