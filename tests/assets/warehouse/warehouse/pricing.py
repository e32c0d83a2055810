"""Prices, timed."""

from __future__ import annotations

from warehouse.db import get_store
from warehouse.timing import timed


@timed
def price_of(sku: str) -> float:
    return get_store().price(sku)


@timed
def quote(sku: str, count: int) -> float:
    return round(price_of(sku) * count, 2)
