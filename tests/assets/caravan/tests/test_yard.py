from __future__ import annotations

from unittest.mock import patch

import pytest

from caravan import yard
from caravan.models import Wagon
from caravan.store import Store

from tests.conftest import row


async def test_load_puts_the_cargo_on_the_wagon(depot: Store) -> None:
    wagon = await yard.load(1, "silk", 3)
    assert (wagon.wagon_id, wagon.load) == (1, 3)
    assert row(depot, "SELECT load FROM wagons WHERE wagon_id = ?", 1) == (3,)


async def test_load_refuses_a_missing_wagon() -> None:
    with pytest.raises(yard.WagonMissing):
        await yard.load(99, "silk", 1)


async def test_load_refuses_more_than_the_wagon_takes() -> None:
    with pytest.raises(ValueError):
        await yard.load(2, "salt", 7)


async def test_send_out_with_the_real_store(depot: Store) -> None:
    wagon = await yard.send_out(2, "spice-road")
    assert wagon is not None and wagon.route_id == "spice-road"
    assert row(depot, "SELECT route_id FROM wagons WHERE wagon_id = ?", 2) == ("spice-road",)


@patch("caravan.yard.open_store")
async def test_send_out_assigns_then_reads_the_wagon_back(open_store) -> None:
    open_store.return_value.get_wagon.return_value = Wagon(2, 6, route_id="r9")
    wagon = await yard.send_out(2, "r9")
    assert wagon == Wagon(2, 6, route_id="r9")
    open_store.return_value.assign_wagon.assert_called_once()
    open_store.return_value.get_wagon.assert_called_once_with(2)


def test_roll_call_skips_unknown_wagons() -> None:
    assert [wagon.wagon_id for wagon in yard.roll_call([1, 99, 2])] == [1, 2]
