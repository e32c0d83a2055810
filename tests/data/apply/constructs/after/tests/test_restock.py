from warehouse.restock import restock_plan
import pytest


@pytest.mark.asyncio
async def test_restock_plan() -> None:
    assert await restock_plan("pear") == 10
    assert await restock_plan("apple") == 7
