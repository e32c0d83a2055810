"""Async code that awaits the services: what the tests exercise through their doubles."""

from __future__ import annotations

from bazaar import repos
from bazaar.service import App, Checkout, PaymentDeclined


async def checkout_order(checkout: Checkout, order_id: int) -> str:
    try:
        total = await checkout.place_order(order_id)
    except PaymentDeclined:
        return "declined"
    return f"{total} {checkout.currency()}"


async def place_with_new_checkout(order_id: int) -> int:
    return await Checkout().place_order(order_id)


async def order_summary(order_id: int) -> str:
    order = await repos.fetch_order(order_id)
    return "missing" if order is None else f"order {order.order_id}: {order.total}"


async def repo_total(repo: repos.OrderRepo, order_id: int) -> int:
    order = await repo.get(order_id)
    return 0 if order is None else order.total


async def strike(app: App, target: str) -> int:
    return await app.services.combat.attack(target)
