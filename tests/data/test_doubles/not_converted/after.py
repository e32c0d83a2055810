"""Configurations the codemod will not rewrite: each is warned and left exactly as it was."""

from unittest.mock import Mock

from bazaar import handlers
from bazaar.service import Checkout

shared = Mock()


async def test_fixture_from_elsewhere(checkout) -> None:
    checkout.place_order.return_value = 1
    assert await handlers.checkout_order(checkout, 1) == "1 EUR"


async def test_module_level_mock() -> None:
    shared.place_order.return_value = 2


async def test_used_before_configured() -> None:
    checkout = Mock()
    place_order = checkout.place_order
    checkout.place_order.return_value = 3
    assert place_order is checkout.place_order


async def test_configured_in_a_loop() -> None:
    checkout = Mock()
    for total in (1, 2):
        checkout.place_order.return_value = total


async def test_configured_in_a_branch(flag: bool) -> None:
    checkout = Mock()
    if flag:
        checkout.place_order.return_value = 4


async def test_wrapping_mock() -> None:
    checkout = Mock(wraps=Checkout())
    checkout.place_order.return_value = 5
