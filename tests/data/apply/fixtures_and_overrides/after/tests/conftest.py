import pytest

from app.shapes import Square


@pytest.fixture
def square() -> Square:
    return Square()


@pytest.fixture
def measure(square: Square):
    async def area_of(key: str) -> int:
        return await square.area(key)

    return area_of
