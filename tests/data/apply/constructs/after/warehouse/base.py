"""Stock counting: a base class that subclasses in other modules extend through super()."""

from __future__ import annotations

from warehouse.repos import get_stock_repo


class Counter:
    async def count(self, sku: str) -> int:
        return await get_stock_repo().get_level(sku)

    async def describe(self, sku: str) -> str:
        return f"{sku}: {await self.count(sku)}"
