"""Prices, timed."""

from __future__ import annotations

from warehouse.timing import timed
from warehouse.repos import get_stock_repo


@timed
async def price_of(sku: str) -> float:
    return await get_stock_repo().get_price(sku)


@timed
async def quote(sku: str, count: int) -> float:
    return round(await price_of(sku) * count, 2)
