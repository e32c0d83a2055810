from app.runner import Runner
import pytest


@pytest.mark.asyncio
async def test_drain() -> None:
    assert await Runner().drain(["a", "b"]) == [0, 0]
