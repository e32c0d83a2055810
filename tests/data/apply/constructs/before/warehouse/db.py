"""The warehouse's synchronous data access: what the migration retires."""

from __future__ import annotations


class Store:
    """Everything in memory; the real one held a database connection and blocked on it."""

    def __init__(self) -> None:
        self.levels: dict[str, int] = {"apple": 5, "pear": 0, "plum": 3}
        self.prices: dict[str, float] = {"apple": 1.5, "pear": 2.0, "plum": 0.5}
        self.reserved: dict[str, int] = {}
        self.flushes = 0

    def stock_level(self, sku: str) -> int:
        return self.levels.get(sku, 0)

    def price(self, sku: str) -> float:
        return self.prices.get(sku, 0.0)

    def reserve(self, sku: str, count: int) -> bool:
        if self.levels.get(sku, 0) < count:
            return False
        self.levels[sku] -= count
        self.reserved[sku] = self.reserved.get(sku, 0) + count
        return True

    def flush(self) -> int:
        self.flushes += 1
        return self.flushes


_STORE: Store | None = None


def get_store() -> Store:
    global _STORE
    if _STORE is None:
        _STORE = Store()
    return _STORE


def reset_store() -> None:
    global _STORE
    _STORE = None
