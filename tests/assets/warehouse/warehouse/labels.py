"""Shelf labels; the banner is logged with the same decorator but never touches the store."""

from __future__ import annotations

from warehouse.db import get_store
from warehouse.timing import logged


@logged
def shelf_label(sku: str) -> str:
    return f"{sku} @ {get_store().price(sku):.2f}"


@logged
def banner() -> str:
    return "WAREHOUSE"
