"""An audit trail: a project decorator that records what each audited operation returned."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

AUDIT_TRAIL: list[str] = []


def audited(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = await operation(*args, **kwargs)
        AUDIT_TRAIL.append(f"{operation.__name__} -> {result!r}")
        return result

    return wrapper
