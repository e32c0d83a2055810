from __future__ import annotations

import pytest

from caravan.audit import AUDIT_TRAIL
from caravan.store import Store, open_store, stock


@pytest.fixture(autouse=True)
def depot() -> Store:
    """The process-wide store, stocked afresh for every test."""
    AUDIT_TRAIL.clear()
    return stock(open_store())


def row(store: Store, sql: str, *args: object) -> tuple[object, ...]:
    """Read the tables directly: what a test checks is what was stored, whichever side stored it."""
    return tuple(store.db.execute(sql, args).fetchone())
