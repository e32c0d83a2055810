"""Services whose methods became async."""

from __future__ import annotations

from bazaar import repos
from bazaar.repos import Order


class PaymentDeclined(Exception):
    pass


class Checkout:
    def __init__(self, repo: repos.OrderRepo | None = None) -> None:
        self.repo = repo or repos.OrderRepo()

    async def place_order(self, order_id: int) -> int:
        order = await repos.fetch_order(order_id)
        if order is None:
            raise KeyError(order_id)
        return order.total

    def currency(self) -> str:
        return "EUR"


class Combat:
    async def attack(self, target: str) -> int:
        return len(target)


class Services:
    def __init__(self) -> None:
        self.combat = Combat()


class App:
    def __init__(self) -> None:
        self.services = Services()


async def order_total(order: Order) -> int:
    return order.total
