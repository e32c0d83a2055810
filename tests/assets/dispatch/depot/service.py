"""Order operations, each reading or writing through the facade."""

from __future__ import annotations

from depot.ledger import open_ledger


class OrderService:
    def open_order(self, order_id: int) -> str:
        open_ledger().put_order({"id": order_id, "state": "open"})
        return f"open {order_id}"

    def close_order(self, order_id: int) -> str:
        order = open_ledger().get_order(order_id) or {"id": order_id}
        open_ledger().put_order({**order, "state": "closed"})
        return f"closed {order_id}"
