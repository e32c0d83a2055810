"""Shipping, recorded through the facade."""

from __future__ import annotations

from depot.ledger import open_ledger


def ship_order(order_id: int) -> str:
    open_ledger().put_order({"id": order_id, "state": "shipped"})
    return f"shipped {order_id}"
