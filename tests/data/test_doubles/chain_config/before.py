"""return_value / side_effect configured on mocks without a spec."""

from unittest.mock import MagicMock, Mock

from bazaar import handlers
from bazaar.service import PaymentDeclined


async def test_return_value() -> None:
    checkout = Mock()
    checkout.place_order.return_value = 12
    checkout.currency.return_value = "EUR"
    assert await handlers.checkout_order(checkout, 1) == "12 EUR"
    checkout.place_order.assert_called_once_with(1)


async def test_side_effect() -> None:
    checkout = MagicMock()
    checkout.place_order.side_effect = PaymentDeclined("card expired")  # the bank says no
    assert await handlers.checkout_order(checkout, 1) == "declined"


async def test_both_on_consecutive_lines() -> None:
    checkout = Mock()
    checkout.place_order.return_value = 1
    checkout.place_order.side_effect = [2, 3]
    checkout.currency.return_value = "EUR"
    assert await handlers.checkout_order(checkout, 1) == "2 EUR"
    assert await handlers.checkout_order(checkout, 1) == "3 EUR"


async def test_both_apart() -> None:
    checkout = Mock()
    checkout.place_order.return_value = 5
    checkout.currency.return_value = "EUR"
    assert await handlers.checkout_order(checkout, 1) == "5 EUR"
    checkout.place_order.side_effect = PaymentDeclined("no funds")
    assert await handlers.checkout_order(checkout, 1) == "declined"
    assert checkout.place_order.call_count == 2


async def test_nested_chain() -> None:
    app = MagicMock()
    app.services.combat.attack.return_value = (
        42  # a critical hit
    )
    assert await handlers.strike(app, "rat") == 42
    app.services.combat.attack.assert_called_once_with("rat")
