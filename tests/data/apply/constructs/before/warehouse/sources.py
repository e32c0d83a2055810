"""Store-backed implementations of the interfaces in ports.py."""

from __future__ import annotations

from warehouse.db import get_store
from warehouse.ports import Reservations


class StoreSource:
    """A StockSource by shape: it does not name the protocol."""

    def level(self, sku: str) -> int:
        return get_store().stock_level(sku)


class StoreReservations(Reservations):
    def reserve(self, sku: str, count: int) -> bool:
        return get_store().reserve(sku, count)
