"""Mocks with a spec: unittest.mock makes their async methods AsyncMock already. Unchanged."""

from unittest.mock import MagicMock, Mock, create_autospec

from bazaar import handlers
from bazaar.repos import OrderRepo
from bazaar.service import Checkout, PaymentDeclined


async def test_spec() -> None:
    checkout = Mock(spec=Checkout)
    checkout.place_order.return_value = 2
    checkout.currency.return_value = "EUR"
    assert await handlers.checkout_order(checkout, 1) == "2 EUR"


async def test_spec_given_by_position() -> None:
    checkout = MagicMock(Checkout)
    checkout.place_order.side_effect = PaymentDeclined("no")
    assert await handlers.checkout_order(checkout, 1) == "declined"


async def test_autospec() -> None:
    repo = create_autospec(OrderRepo, instance=True)
    repo.get.return_value = None
    assert await handlers.repo_total(repo, 1) == 0
