"""The async repositories that replace the store."""

from __future__ import annotations

from warehouse.db import get_store


class StockRepo:
    async def get_level(self, sku: str) -> int:
        return get_store().levels.get(sku, 0)

    async def get_price(self, sku: str) -> float:
        return get_store().prices.get(sku, 0.0)


class OrderRepo:
    async def reserve(self, sku: str, count: int) -> bool:
        return get_store().reserve(sku, count)

    async def flush(self) -> int:
        return get_store().flush()


def get_stock_repo() -> StockRepo:
    return StockRepo()


def get_order_repo() -> OrderRepo:
    return OrderRepo()
