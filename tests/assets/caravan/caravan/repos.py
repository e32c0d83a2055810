"""The async repositories that replace the store's blocking methods.

``TraderBook`` is the async trader side the store object itself carries (there is no provider: traders
are only ever reached through a store the code was given); the route map stays synchronous (it reads a
small table the service keeps warm); the manifest repository mixes an async write with a sync count.
"""

from __future__ import annotations

import sqlite3

from caravan.cargo import Cargo
from caravan.models import ManifestEntry, Trader, Wagon


class WagonRepo:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    async def get(self, wagon_id: int) -> Wagon | None:
        row = self.db.execute(
            "SELECT wagon_id, capacity, load, route_id FROM wagons WHERE wagon_id = ?", (wagon_id,)
        ).fetchone()
        return Wagon(*row) if row else None

    async def load(self, wagon_id: int, cargo: Cargo) -> Wagon:
        wagon = await self.get(wagon_id)
        if wagon is None:
            raise KeyError(wagon_id)
        if wagon.load + cargo.weight > wagon.capacity:
            raise ValueError(f"wagon {wagon_id} cannot take {cargo.weight} more of {cargo.goods}")
        self.db.execute("UPDATE wagons SET load = load + ? WHERE wagon_id = ?", (cargo.weight, wagon_id))
        wagon.load += cargo.weight
        return wagon

    async def assign(self, route_id: str, wagon_id: int, *, checked: bool) -> None:
        if checked and await self.get(wagon_id) is None:
            raise KeyError(wagon_id)
        self.db.execute("UPDATE wagons SET route_id = ? WHERE wagon_id = ?", (route_id, wagon_id))


class TraderBook:
    """The async trader side, mixed into the store itself."""

    db: sqlite3.Connection

    async def trader_named(self, name: str) -> Trader | None:
        row = self.db.execute("SELECT name, purse FROM traders WHERE name = ?", (name,)).fetchone()
        return Trader(*row) if row else None

    async def credit(self, name: str, coins: int) -> int:
        self.db.execute("UPDATE traders SET purse = purse + ? WHERE name = ?", (coins, name))
        return int(self.db.execute("SELECT purse FROM traders WHERE name = ?", (name,)).fetchone()[0])


class RouteMap:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def leagues(self, origin: str, destination: str) -> int:
        row = self.db.execute(
            "SELECT leagues FROM routes WHERE origin = ? AND destination = ?", (origin, destination)
        ).fetchone()
        if row is None:
            raise LookupError(f"no route from {origin} to {destination}")
        return int(row[0])


class ManifestRepo:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    async def record(self, wagon_id: int, goods: str, weight: int) -> None:
        self.db.execute("INSERT INTO manifests (wagon_id, goods, weight) VALUES (?, ?, ?)", (wagon_id, goods, weight))

    def count(self, wagon_id: int) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM manifests WHERE wagon_id = ?", (wagon_id,)).fetchone()[0])

    async def entries(self, wagon_id: int) -> list[ManifestEntry]:
        rows = self.db.execute(
            "SELECT wagon_id, goods, weight FROM manifests WHERE wagon_id = ? ORDER BY entry_id", (wagon_id,)
        ).fetchall()
        return [ManifestEntry(*row) for row in rows]


def wagon_repo() -> WagonRepo:
    from caravan.store import open_store

    return WagonRepo(open_store().db)


def route_map() -> RouteMap:
    from caravan.store import open_store

    return RouteMap(open_store().db)


def manifest_repo() -> ManifestRepo:
    from caravan.store import open_store

    return ManifestRepo(open_store().db)
