"""What the caravan's records hold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Wagon:
    wagon_id: int
    capacity: int
    load: int = 0
    route_id: str | None = None


@dataclass
class Trader:
    name: str
    purse: int


@dataclass
class ManifestEntry:
    wagon_id: int
    goods: str
    weight: int
