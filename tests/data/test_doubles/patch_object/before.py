"""patch / patch.object of async functions: context manager, decorator, call; aliased class."""

from unittest.mock import patch

from bazaar import handlers, repos
from bazaar.repos import Order
from bazaar.service import Checkout as C
from bazaar.service import PaymentDeclined


async def test_context_manager() -> None:
    with patch.object(C, "place_order", return_value=12) as place_order:
        assert await handlers.checkout_order(C(), 1) == "12 EUR"
    place_order.assert_called_once_with(1)


async def test_arguments_over_two_lines() -> None:
    with patch.object(C, "place_order",
                      side_effect=PaymentDeclined("card expired")) as place_order:
        assert await handlers.checkout_order(C(), 1) == "declined"
    place_order.assert_called_once_with(1)


async def test_one_argument_a_line() -> None:
    with patch.object(
        C,
        "place_order",
        return_value=3,
    ):
        assert await handlers.checkout_order(C(), 1) == "3 EUR"


@patch.object(C, "place_order", return_value=5)
async def test_decorator(place_order) -> None:
    assert await handlers.place_with_new_checkout(2) == 5
    place_order.assert_called_once_with(2)


async def test_string_target_started_by_hand() -> None:
    patcher = patch("bazaar.repos.fetch_order", return_value=Order(7, 70))
    patcher.start()
    try:
        assert await handlers.order_summary(7) == "order 7: 70"
    finally:
        patcher.stop()


async def test_module_attribute() -> None:
    with patch.object(repos, "fetch_order", return_value=None):
        assert await handlers.order_summary(1) == "missing"


async def test_sync_method_next_to_an_async_one() -> None:
    with patch.object(C, "currency", return_value="USD"), patch.object(C, "place_order", return_value=1):
        assert await handlers.checkout_order(C(), 1) == "1 USD"
