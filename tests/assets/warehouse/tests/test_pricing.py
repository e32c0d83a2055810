from warehouse.pricing import price_of, quote
from warehouse.timing import CALLS


def test_quote_is_timed() -> None:
    CALLS.clear()
    assert quote("apple", 3) == 4.5
    assert CALLS == ["price_of True", "quote True"]
    assert price_of.__name__ == "price_of"
