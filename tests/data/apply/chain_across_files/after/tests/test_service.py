from app.service import Service
import pytest


@pytest.mark.asyncio
async def test_total() -> None:
    assert await Service().total(["a", "b"]) == 2


def test_title() -> None:
    assert Service().title("a") == "A"
