"""The file reaches unittest.mock through the module: AsyncMock is spelled mock.AsyncMock."""

from unittest import mock

from bazaar import handlers
from bazaar.service import Checkout


async def test_patch_through_the_module() -> None:
    with mock.patch.object(Checkout, "place_order", return_value=1):
        assert await handlers.checkout_order(Checkout(), 1) == "1 EUR"


async def test_chain_through_the_module() -> None:
    checkout = mock.MagicMock()
    checkout.place_order.return_value = 2
    checkout.currency.return_value = "EUR"
    assert await handlers.checkout_order(checkout, 1) == "2 EUR"
