"""The nightly snapshot."""

from __future__ import annotations

from warehouse.db import get_store

SKUS = ("apple", "pear", "plum")


def snapshot() -> dict[str, int]:
    levels = {}
    for sku in SKUS:
        levels[sku] = get_store().stock_level(sku)
    return levels
