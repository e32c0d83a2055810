from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

import pytest

from caravan.dispatch import Dispatcher, ExpressDispatcher
from caravan.models import Wagon
from caravan.store import Store

from tests.conftest import row


async def test_dispatch_assigns_the_route_and_counts_the_days() -> None:
    store = MagicMock(spec=Store)
    store.wagons.assign = AsyncMock()
    store.wagons.get = AsyncMock(return_value=Wagon(1, 10))
    store.routes.leagues = MagicMock(return_value=90)
    assert await Dispatcher(store, pace=20).dispatch(1, "r1", "oasis", "port") == 5
    store.wagons.get.assert_awaited_once_with(1)
    store.wagons.assign.assert_awaited_once()
    store.routes.leagues.assert_called_once_with("oasis", "port")


async def test_a_missing_wagon_is_never_assigned() -> None:
    store = MagicMock(spec=Store)
    store.wagons.assign = AsyncMock()
    store.wagons.get = AsyncMock(return_value=None)
    with pytest.raises(KeyError):
        await Dispatcher(store).dispatch(7, "r1", "oasis", "port")
    store.wagons.assign.assert_not_awaited()


async def test_express_dispatch_with_the_real_store(depot: Store) -> None:
    assert await ExpressDispatcher(depot).dispatch(1, "r1", "oasis", "port") == 2
    assert row(depot, "SELECT route_id FROM wagons WHERE wagon_id = ?", 1) == ("r1",)


async def test_an_unknown_route_is_refused_with_the_real_store(depot: Store) -> None:
    with pytest.raises(LookupError):
        await Dispatcher(depot).dispatch(1, "r1", "port", "oasis")
