from app.runner import Runner


def test_drain() -> None:
    assert Runner().drain(["a", "b"]) == [0, 0]
