"""What replaces the facade: the same orders, reached asynchronously."""

from __future__ import annotations

from depot.ledger import open_ledger


class OrderStore:
    async def get(self, order_id: int) -> dict[str, object] | None:
        return open_ledger().orders.get(order_id)

    async def put(self, order: dict[str, object]) -> None:
        open_ledger().orders[int(str(order["id"]))] = order

    async def count(self) -> int:
        return len(open_ledger().orders)

    async def audit(self) -> list[int]:
        return sorted(open_ledger().orders)


def order_store() -> OrderStore:
    return OrderStore()
