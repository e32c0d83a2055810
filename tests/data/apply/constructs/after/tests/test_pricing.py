from warehouse.pricing import price_of, quote
from warehouse.timing import CALLS
import pytest


@pytest.mark.asyncio
async def test_quote_is_timed() -> None:
    CALLS.clear()
    assert await quote("apple", 3) == 4.5
    assert CALLS == ["price_of True", "quote True"]
    assert price_of.__name__ == "price_of"
