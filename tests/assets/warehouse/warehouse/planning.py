"""Planning over any StockSource and any Reservations."""

from __future__ import annotations

from warehouse.ports import Reservations, StockSource


def total_stock(source: StockSource, skus: list[str]) -> int:
    return sum(source.level(sku) for sku in skus)


def out_of_stock(source: StockSource, skus: list[str]) -> bool:
    return any(source.level(sku) == 0 for sku in skus)


def lowest(source: StockSource, skus: list[str]) -> int:
    return min(source.level(sku) for sku in skus)


def ranked(source: StockSource, skus: list[str]) -> list[str]:
    return [sku for _, sku in sorted((source.level(sku), sku) for sku in skus)]


def summary(source: StockSource, skus: list[str]) -> str:
    return ", ".join(f"{sku}={source.level(sku)}" for sku in skus)


def book(reservations: Reservations, sku: str, count: int) -> bool:
    return reservations.reserve(sku, count)
