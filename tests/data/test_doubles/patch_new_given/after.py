"""patch calls that already say what replaces the target."""

from unittest.mock import AsyncMock, patch

from bazaar import handlers
from bazaar.service import Checkout


async def fake_place_order(self: Checkout, order_id: int) -> int:
    return 99


async def test_new_mock() -> None:
    with patch.object(Checkout, "place_order", new=AsyncMock(return_value=4)):
        assert await handlers.checkout_order(Checkout(), 1) == "4 EUR"


async def test_new_given_by_position() -> None:
    with patch.object(Checkout, "place_order", AsyncMock(return_value=5)):
        assert await handlers.checkout_order(Checkout(), 1) == "5 EUR"


async def test_new_callable_magic_mock() -> None:
    with patch("bazaar.service.Checkout.place_order", new_callable=AsyncMock, return_value=6):
        assert await handlers.checkout_order(Checkout(), 1) == "6 EUR"


async def test_new_function_is_kept() -> None:
    with patch.object(Checkout, "place_order", new=fake_place_order):
        assert await handlers.checkout_order(Checkout(), 1) == "99 EUR"


async def test_autospec_is_kept() -> None:
    with patch.object(Checkout, "place_order", autospec=True, return_value=8):
        assert await handlers.checkout_order(Checkout(), 1) == "8 EUR"


async def test_new_given_as_a_local() -> None:
    fake = AsyncMock(side_effect=lambda order_id: 10)
    with patch.object(Checkout, "place_order", fake):
        assert await handlers.checkout_order(Checkout(), 1) == "10 EUR"
    fake.assert_called_once()


async def test_new_given_as_a_local_by_keyword() -> None:
    fake = AsyncMock(return_value=11)
    with patch("bazaar.service.Checkout.place_order", new=fake):
        assert await handlers.checkout_order(Checkout(), 1) == "11 EUR"
