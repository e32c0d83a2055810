"""A Mock/MagicMock assigned to an async function's name, or handed to a Mock for it."""

from unittest.mock import AsyncMock, Mock

from bazaar import handlers
from bazaar.service import Checkout


async def test_instance_attribute() -> None:
    checkout = Checkout()
    checkout.place_order = AsyncMock(return_value=3)
    assert await handlers.checkout_order(checkout, 1) == "3 EUR"


async def test_child_given_to_the_constructor() -> None:
    checkout = Mock(place_order=AsyncMock(return_value=4), currency=Mock(return_value="EUR"))
    assert await handlers.checkout_order(checkout, 1) == "4 EUR"


async def test_class_attribute() -> None:
    original = Checkout.place_order
    Checkout.place_order = AsyncMock(return_value=9)
    try:
        assert await handlers.place_with_new_checkout(1) == 9
    finally:
        Checkout.place_order = original
