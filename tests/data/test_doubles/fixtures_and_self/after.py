"""Mocks made in a pytest fixture of the module or in setUp, configured there and in the tests."""

import unittest
from unittest.mock import AsyncMock, MagicMock, Mock

import pytest

from bazaar import handlers
from bazaar.service import PaymentDeclined


@pytest.fixture
def checkout() -> Mock:
    double = Mock()
    double.place_order = AsyncMock(return_value=10)
    double.currency.return_value = "EUR"
    return double


@pytest.fixture(name="declining")
def declining_checkout() -> Mock:
    return Mock(currency=Mock(return_value="EUR"))


async def test_configured_in_the_fixture(checkout: Mock) -> None:
    assert await handlers.checkout_order(checkout, 1) == "10 EUR"


async def test_reconfigured_in_the_test(checkout: Mock) -> None:
    checkout.place_order.return_value = 11
    assert await handlers.checkout_order(checkout, 1) == "11 EUR"


async def test_configured_in_the_test(declining: Mock) -> None:
    declining.place_order = AsyncMock(side_effect=PaymentDeclined("no"))
    assert await handlers.checkout_order(declining, 1) == "declined"


class TestWithSetUp(unittest.IsolatedAsyncioTestCase):
    def setUp(self) -> None:
        self.checkout = Mock()
        self.checkout.currency.return_value = "EUR"
        self.checkout.place_order = AsyncMock(return_value=20)
        self.app = MagicMock()

    async def test_configured_in_set_up(self) -> None:
        self.assertEqual(await handlers.checkout_order(self.checkout, 1), "20 EUR")

    async def test_reconfigured_in_the_test(self) -> None:
        self.checkout.place_order.return_value = 21
        self.assertEqual(await handlers.checkout_order(self.checkout, 1), "21 EUR")

    async def test_configured_in_the_test(self) -> None:
        self.app.services.combat.attack = AsyncMock(return_value=7)
        self.assertEqual(await handlers.strike(self.app, "rat"), 7)
