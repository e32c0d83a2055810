"""The depot's synchronous facade (the thing being retired): every call waits on storage.

The waits are fixed, so a trace of the tests measures known durations: audit 80 ms, count 40 ms,
put 10 ms, get 2 ms.
"""

from __future__ import annotations

import time


class Ledger:
    def __init__(self) -> None:
        self.orders: dict[int, dict[str, object]] = {}

    def get_order(self, order_id: int) -> dict[str, object] | None:
        time.sleep(0.002)
        return self.orders.get(order_id)

    def put_order(self, order: dict[str, object]) -> None:
        time.sleep(0.01)
        self.orders[int(str(order["id"]))] = order

    def count_orders(self) -> int:
        time.sleep(0.04)
        return len(self.orders)

    def audit_orders(self) -> list[int]:
        time.sleep(0.08)
        return sorted(self.orders)


_LEDGER = Ledger()


def open_ledger() -> Ledger:
    return _LEDGER
