"""Flush the store when the process exits."""

from __future__ import annotations

import atexit

from warehouse.db import get_store


@atexit.register
def flush_on_exit() -> int:
    return get_store().flush()
