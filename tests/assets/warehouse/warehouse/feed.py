"""A lazy feed of stock levels."""

from __future__ import annotations

from collections.abc import Iterator

from warehouse.db import get_store


def level_of(sku: str) -> int:
    return get_store().stock_level(sku)


def levels(skus: list[str]) -> Iterator[int]:
    return (level_of(sku) for sku in skus)
