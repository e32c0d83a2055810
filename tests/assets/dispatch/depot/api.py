"""Async endpoints that still call the sync facade: each call blocks the event loop."""

from __future__ import annotations

from depot.ledger import open_ledger


async def order_report() -> dict[str, object]:
    ledger = open_ledger()
    ledger.put_order({"id": 99, "state": "report"})
    total = ledger.count_orders()
    audited = ledger.audit_orders()
    return {"total": total, "audited": audited}
