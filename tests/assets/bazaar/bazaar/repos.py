"""Async repository functions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Order:
    order_id: int
    total: int = 0


_ORDERS: dict[int, Order] = {1: Order(1, 30)}


async def fetch_order(order_id: int) -> Order | None:
    return _ORDERS.get(order_id)


class OrderRepo:
    async def get(self, order_id: int) -> Order | None:
        return await fetch_order(order_id)

    def count(self) -> int:
        return len(_ORDERS)
