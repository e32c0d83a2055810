from app.routes import Inventory


def test_count() -> None:
    inventory = Inventory("test")
    assert inventory.count("a") + 1 == inventory.count("a")
    assert inventory.label("a") == "A"
