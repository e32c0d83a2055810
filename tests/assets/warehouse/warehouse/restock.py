"""Restocking: asks the (already async) supplier API from sync code."""

from __future__ import annotations

import asyncio
import typing

from warehouse.db import get_store


async def supplier_quote(sku: str) -> int:
    await asyncio.sleep(0)
    return 10 if sku == "pear" else 2


@typing.no_type_check
def restock_plan(sku: str) -> int:
    on_hand = get_store().stock_level(sku)
    incoming = asyncio.run(supplier_quote(sku))
    return on_hand + incoming
