"""The caravan's synchronous store: every method blocks on the database. What the migration retires.

The application builds one ``Store`` and hands it to whatever needs it (constructors, the web app's
state, FastAPI dependencies). While modules move to the async repositories one by one, the same object
hands out the async side too: ``store.wagons``, ``store.routes`` and ``store.manifests``, and the trader
methods of ``TraderBook`` on the store itself.
"""

from __future__ import annotations

import sqlite3

from caravan.models import Trader, Wagon
from caravan.repos import ManifestRepo, RouteMap, TraderBook, WagonRepo
from caravan.schema import connect


class Store(TraderBook):
    def __init__(self, db: sqlite3.Connection | None = None) -> None:
        self.db = db if db is not None else connect()

    # -- wagons ----------------------------------------------------------------------------------------
    def get_wagon(self, wagon_id: int) -> Wagon | None:
        row = self.db.execute(
            "SELECT wagon_id, capacity, load, route_id FROM wagons WHERE wagon_id = ?", (wagon_id,)
        ).fetchone()
        return Wagon(*row) if row else None

    async def get_wagon_async(self, wagon_id: int) -> Wagon | None:
        """Added late, for async callers; it still blocks underneath."""
        return self.get_wagon(wagon_id)

    def load_wagon(self, wagon_id: int, goods: str, weight: int = 1) -> Wagon:
        wagon = self.get_wagon(wagon_id)
        if wagon is None:
            raise KeyError(wagon_id)
        if wagon.load + weight > wagon.capacity:
            raise ValueError(f"wagon {wagon_id} cannot take {weight} more of {goods}")
        self.db.execute("UPDATE wagons SET load = load + ? WHERE wagon_id = ?", (weight, wagon_id))
        wagon.load += weight
        return wagon

    def assign_wagon(self, wagon_id: int, route_id: str) -> None:
        if self.get_wagon(wagon_id) is None:
            raise KeyError(wagon_id)
        self.db.execute("UPDATE wagons SET route_id = ? WHERE wagon_id = ?", (route_id, wagon_id))

    # -- traders ---------------------------------------------------------------------------------------
    def find_trader(self, name: str) -> Trader | None:
        row = self.db.execute("SELECT name, purse FROM traders WHERE name = ?", (name,)).fetchone()
        return Trader(*row) if row else None

    def pay_trader(self, name: str, amount: int) -> int:
        self.db.execute("UPDATE traders SET purse = purse + ? WHERE name = ?", (amount, name))
        return int(self.db.execute("SELECT purse FROM traders WHERE name = ?", (name,)).fetchone()[0])

    # -- routes ----------------------------------------------------------------------------------------
    def route_distance(self, origin: str, destination: str) -> int:
        row = self.db.execute(
            "SELECT leagues FROM routes WHERE origin = ? AND destination = ?", (origin, destination)
        ).fetchone()
        if row is None:
            raise LookupError(f"no route from {origin} to {destination}")
        return int(row[0])

    async def route_distance_async(self, origin: str, destination: str) -> int:
        return self.route_distance(origin, destination)

    # -- manifests -------------------------------------------------------------------------------------
    def record_manifest(self, wagon_id: int, goods: str, weight: int) -> None:
        self.db.execute("INSERT INTO manifests (wagon_id, goods, weight) VALUES (?, ?, ?)", (wagon_id, goods, weight))

    def manifest_size(self, wagon_id: int) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM manifests WHERE wagon_id = ?", (wagon_id,)).fetchone()[0])

    def cargo_weight(self, wagon_id: int) -> int:
        row = self.db.execute("SELECT COALESCE(SUM(weight), 0) FROM manifests WHERE wagon_id = ?", (wagon_id,))
        return int(row.fetchone()[0])

    def vacuum(self) -> None:
        """Maintenance with no async counterpart: it stays on the store."""
        self.db.execute("VACUUM")

    # -- the async side, from the same object ----------------------------------------------------------
    @property
    def wagons(self) -> WagonRepo:
        return WagonRepo(self.db)

    @property
    def routes(self) -> RouteMap:
        return RouteMap(self.db)

    @property
    def manifests(self) -> ManifestRepo:
        return ManifestRepo(self.db)


def stock(store: Store) -> Store:
    """Empty the tables and put back the caravan every test starts from."""
    store.db.executescript(
        """
        DELETE FROM wagons; DELETE FROM traders; DELETE FROM routes; DELETE FROM manifests;
        INSERT INTO wagons (wagon_id, capacity) VALUES (1, 10), (2, 6);
        INSERT INTO traders (name, purse) VALUES ('ada', 100), ('brom', 20);
        INSERT INTO routes (origin, destination, leagues) VALUES ('oasis', 'port', 90), ('port', 'hills', 40);
        """
    )
    return store


_STORE: Store | None = None


def open_store() -> Store:
    """The process-wide store (also the FastAPI dependency)."""
    global _STORE
    if _STORE is None:
        _STORE = stock(Store())
    return _STORE
