from warehouse.demo import FixedSource
from warehouse.planning import book, lowest, out_of_stock, ranked, summary, total_stock
from warehouse.sources import StoreReservations, StoreSource


def test_over_fixed_levels() -> None:
    source = FixedSource({"a": 2, "b": 0, "c": 7})
    skus = ["a", "b", "c"]
    assert total_stock(source, skus) == 9
    assert out_of_stock(source, skus) is True
    assert lowest(source, skus) == 0
    assert ranked(source, skus) == ["b", "a", "c"]
    assert summary(source, skus) == "a=2, b=0, c=7"


def test_over_the_store() -> None:
    assert total_stock(StoreSource(), ["apple", "plum"]) == 8
    assert out_of_stock(StoreSource(), ["apple", "plum"]) is False


def test_booking() -> None:
    assert book(StoreReservations(), "apple", 2) is True
    assert book(StoreReservations(), "pear", 1) is False
    assert StoreSource().level("apple") == 3
