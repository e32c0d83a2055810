"""Stock counting: a base class that subclasses in other modules extend through super()."""

from __future__ import annotations

from warehouse.db import get_store


class Counter:
    def count(self, sku: str) -> int:
        return get_store().stock_level(sku)

    def describe(self, sku: str) -> str:
        return f"{sku}: {self.count(sku)}"
