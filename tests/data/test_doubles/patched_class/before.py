"""A class patched whole: its instances' async methods are configured through return_value."""

from unittest.mock import patch

from bazaar import handlers


async def test_patched_in_a_with() -> None:
    with patch("bazaar.handlers.Checkout") as checkout_class:
        checkout_class.return_value.place_order.return_value = 8
        assert await handlers.place_with_new_checkout(1) == 8


@patch("bazaar.handlers.Checkout")
async def test_patched_by_a_decorator(checkout_class) -> None:
    checkout_class.return_value.place_order.return_value = 9
    assert await handlers.place_with_new_checkout(1) == 9
