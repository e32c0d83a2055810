"""The interfaces planning code is written against."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol


class StockSource(Protocol):
    async def level(self, sku: str) -> int: ...


class Reservations(ABC):
    @abstractmethod
    async def reserve(self, sku: str, count: int) -> bool:
        """Hold ``count`` units of ``sku``; False when there are not enough."""
