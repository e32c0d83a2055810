"""Routes a named action to its function, straight out of the registry."""

from __future__ import annotations

from depot import shipping

ROUTES = {name: getattr(shipping, name) for name in ("ship_order",)}


def route(name: str, order_id: int) -> str:
    return ROUTES[name](order_id)
