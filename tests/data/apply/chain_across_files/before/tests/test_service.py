from app.service import Service


def test_total() -> None:
    assert Service().total(["a", "b"]) == 2


def test_title() -> None:
    assert Service().title("a") == "A"
