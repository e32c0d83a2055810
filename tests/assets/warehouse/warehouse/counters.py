"""Counters that adjust the base count: overrides calling super()."""

from __future__ import annotations

from warehouse.base import Counter


class ReservedAwareCounter(Counter):
    def __init__(self, held: int = 0) -> None:
        self.held = held

    def count(self, sku: str) -> int:
        return max(super().count(sku) - self.held, 0)


class LoggingCounter(ReservedAwareCounter):
    def __init__(self) -> None:
        super().__init__(held=1)
        self.seen: list[str] = []

    def count(self, sku: str) -> int:
        self.seen.append(sku)
        return super().count(sku)


def count_all(counter: Counter, skus: list[str]) -> dict[str, int]:
    return dict((sku, counter.count(sku)) for sku in skus)
