"""Restocking: asks the (already async) supplier API from sync code."""

from __future__ import annotations

import asyncio
import typing

from warehouse.repos import get_stock_repo


async def supplier_quote(sku: str) -> int:
    await asyncio.sleep(0)
    return 10 if sku == "pear" else 2


@typing.no_type_check
async def restock_plan(sku: str) -> int:
    on_hand = await get_stock_repo().get_level(sku)
    incoming = await supplier_quote(sku)
    return on_hand + incoming
