from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import MagicMock

import pytest
from fastapi.testclient import TestClient

from caravan.app import create_app
from caravan.models import Trader, Wagon
from caravan.store import Store, open_store

from tests.conftest import row


@pytest.fixture
def store() -> MagicMock:
    return MagicMock(spec=Store)


@pytest.fixture
def client(store: MagicMock) -> Iterator[TestClient]:
    app = create_app(store)
    app.dependency_overrides[open_store] = lambda: store
    with TestClient(app) as test_client:
        yield test_client


def test_read_wagon_from_the_app_state(client: TestClient, store: MagicMock) -> None:
    store.get_wagon.return_value = Wagon(1, 10, load=4)
    assert client.get("/wagons/1").json() == {"capacity": 10, "load": 4, "route": None}
    store.get_wagon.assert_called_once_with(1)


def test_a_missing_wagon_is_404(client: TestClient, store: MagicMock) -> None:
    store.get_wagon.return_value = None
    assert client.get("/wagons/9").status_code == 404


def test_read_trader_through_the_dependency(client: TestClient, store: MagicMock) -> None:
    store.find_trader.return_value = Trader("ada", 100)
    assert client.get("/traders/ada").json() == {"name": "ada", "purse": 100}
    store.find_trader.assert_called_once_with("ada")


def test_the_real_store_end_to_end(depot: Store) -> None:
    with TestClient(create_app(depot)) as real:
        assert real.get("/wagons/2").json() == {"capacity": 6, "load": 0, "route": None}
        assert real.get("/traders/brom").json() == {"name": "brom", "purse": 20}
        assert real.get("/traders/zed").status_code == 404
        assert real.get("/routes/oasis/port").json() == {"leagues": 90}
        dispatched = real.post("/wagons/2/dispatch", params={"route_id": "r2", "origin": "port", "destination": "hills"})
        assert dispatched.json() == {"days": 2}
        assert real.post("/maintenance/compact").status_code == 204
    assert row(depot, "SELECT route_id FROM wagons WHERE wagon_id = ?", 2) == ("r2",)
