"""Prices, read from the orders the facade keeps."""

from __future__ import annotations

from depot.ledger import open_ledger


def price_order(order_id: int) -> int:
    order = open_ledger().get_order(order_id)
    return 10 if order is None else 10 + len(order)


def tax_order(order_id: int) -> int:
    order = open_ledger().get_order(order_id)
    return 2 if order is None else 2 * len(order)
