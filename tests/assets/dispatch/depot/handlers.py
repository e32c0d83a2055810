"""A registry of pricing handlers, filled by name: callers say which one to run."""

from __future__ import annotations

from depot import pricing

HANDLER_NAMES = ("price_order", "tax_order")
HANDLERS = {name: getattr(pricing, name) for name in HANDLER_NAMES}


def handle(name: str, order_id: int) -> int:
    handler = HANDLERS[name]
    return handler(order_id)
