"""The parameter object the wagon repository takes for a load."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cargo:
    goods: str
    weight: int = 1
