"""A StockSource with fixed levels, for demos and tests."""

from __future__ import annotations


class FixedSource:
    def __init__(self, levels: dict[str, int]) -> None:
        self.levels = levels

    def level(self, sku: str) -> int:
        return self.levels.get(sku, 0)
