"""Reordering: runs the supplier API with loop options."""

from __future__ import annotations

import asyncio

from warehouse.db import get_store
from warehouse.restock import supplier_quote


def reorder_amount(sku: str) -> int:
    on_hand = get_store().stock_level(sku)
    quoted = asyncio.run(supplier_quote(sku), debug=False)
    return max(quoted - on_hand, 0)
