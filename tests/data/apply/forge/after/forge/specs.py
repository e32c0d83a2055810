"""Parameter objects of the async repositories."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ItemSpec:
    owner: str | None = None
    size: int = 1
