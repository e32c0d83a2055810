"""Store-backed implementations of the interfaces in ports.py."""

from __future__ import annotations

from warehouse.ports import Reservations
from warehouse.repos import get_order_repo, get_stock_repo


class StoreSource:
    """A StockSource by shape: it does not name the protocol."""

    async def level(self, sku: str) -> int:
        return await get_stock_repo().get_level(sku)


class StoreReservations(Reservations):
    async def reserve(self, sku: str, count: int) -> bool:
        return await get_order_repo().reserve(sku, count)
