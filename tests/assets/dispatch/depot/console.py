"""An operator console: runs the service's operations by name, as typed."""

from __future__ import annotations

from depot.service import OrderService


class Console:
    def __init__(self, service: OrderService) -> None:
        self.service = service

    def run(self, operations: list[str], order_id: int) -> list[str]:
        results = []
        for op in operations:
            results.append(getattr(self.service, op)(order_id))
        return results
