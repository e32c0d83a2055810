from app.shapes import Shape, Tile


async def test_square(square) -> None:
    assert await square.area("a") == 0


async def test_measure(measure) -> None:
    assert await measure("a") == 0


async def test_describe() -> None:
    assert await Tile().describe("t") == "t: 1"


async def describe_all(shapes: list[Shape]) -> list[str]:
    described = []
    shape: Shape
    for shape in shapes:
        described.append(await shape.describe("x"))
    return described
