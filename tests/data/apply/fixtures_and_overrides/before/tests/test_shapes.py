from app.shapes import Shape, Tile


def test_square(square) -> None:
    assert square.area("a") == 0


def test_measure(measure) -> None:
    assert measure("a") == 0


def test_describe() -> None:
    assert Tile().describe("t") == "t: 1"


def describe_all(shapes: list[Shape]) -> list[str]:
    described = []
    shape: Shape
    for shape in shapes:
        described.append(shape.describe("x"))
    return described
