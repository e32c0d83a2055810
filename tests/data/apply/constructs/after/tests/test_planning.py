from warehouse.demo import FixedSource
from warehouse.planning import book, lowest, out_of_stock, ranked, summary, total_stock
from warehouse.sources import StoreReservations, StoreSource
import pytest


@pytest.mark.asyncio
async def test_over_fixed_levels() -> None:
    source = FixedSource({"a": 2, "b": 0, "c": 7})
    skus = ["a", "b", "c"]
    assert await total_stock(source, skus) == 9
    assert await out_of_stock(source, skus) is True
    assert await lowest(source, skus) == 0
    assert await ranked(source, skus) == ["b", "a", "c"]
    assert await summary(source, skus) == "a=2, b=0, c=7"


@pytest.mark.asyncio
async def test_over_the_store() -> None:
    assert await total_stock(StoreSource(), ["apple", "plum"]) == 8
    assert await out_of_stock(StoreSource(), ["apple", "plum"]) is False


@pytest.mark.asyncio
async def test_booking() -> None:
    assert await book(StoreReservations(), "apple", 2) is True
    assert await book(StoreReservations(), "pear", 1) is False
    assert await StoreSource().level("apple") == 3
