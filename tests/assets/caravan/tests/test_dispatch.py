from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from caravan.dispatch import Dispatcher, ExpressDispatcher
from caravan.models import Wagon
from caravan.store import Store

from tests.conftest import row


def test_dispatch_assigns_the_route_and_counts_the_days() -> None:
    store = MagicMock(spec=Store)
    store.get_wagon.return_value = Wagon(1, 10)
    store.route_distance.return_value = 90
    assert Dispatcher(store, pace=20).dispatch(1, "r1", "oasis", "port") == 5
    store.get_wagon.assert_called_once_with(1)
    store.assign_wagon.assert_called_once()
    store.route_distance.assert_called_once_with("oasis", "port")


def test_a_missing_wagon_is_never_assigned() -> None:
    store = MagicMock(spec=Store)
    store.get_wagon.return_value = None
    with pytest.raises(KeyError):
        Dispatcher(store).dispatch(7, "r1", "oasis", "port")
    store.assign_wagon.assert_not_called()


def test_express_dispatch_with_the_real_store(depot: Store) -> None:
    assert ExpressDispatcher(depot).dispatch(1, "r1", "oasis", "port") == 2
    assert row(depot, "SELECT route_id FROM wagons WHERE wagon_id = ?", 1) == ("r1",)


def test_an_unknown_route_is_refused_with_the_real_store(depot: Store) -> None:
    with pytest.raises(LookupError):
        Dispatcher(depot).dispatch(1, "r1", "port", "oasis")
