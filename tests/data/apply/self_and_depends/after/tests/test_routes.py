from app.routes import Inventory


async def test_count() -> None:
    inventory = Inventory("test")
    assert await inventory.count("a") + 1 == await inventory.count("a")
    assert inventory.label("a") == "A"
