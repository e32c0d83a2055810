"""Planning over any StockSource and any Reservations."""

from __future__ import annotations

from warehouse.ports import Reservations, StockSource


async def total_stock(source: StockSource, skus: list[str]) -> int:
    return sum([await source.level(sku) for sku in skus])


async def out_of_stock(source: StockSource, skus: list[str]) -> bool:
    return any([await source.level(sku) == 0 for sku in skus])


async def lowest(source: StockSource, skus: list[str]) -> int:
    return min([await source.level(sku) for sku in skus])


async def ranked(source: StockSource, skus: list[str]) -> list[str]:
    return [sku for _, sku in sorted([(await source.level(sku), sku) for sku in skus])]


async def summary(source: StockSource, skus: list[str]) -> str:
    return ", ".join([f"{sku}={await source.level(sku)}" for sku in skus])


async def book(reservations: Reservations, sku: str, count: int) -> bool:
    return await reservations.reserve(sku, count)
