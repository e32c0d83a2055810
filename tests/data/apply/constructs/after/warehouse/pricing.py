"""Prices, timed."""

from __future__ import annotations
from warehouse.timing import timed
from warehouse.repos import get_stock_repo


@timed
async def price_of(sku: str) -> float:
    stock_repo = get_stock_repo()
    return await stock_repo.get_price(sku)


@timed
async def quote(sku: str, count: int) -> float:
    return round(await price_of(sku) * count, 2)
