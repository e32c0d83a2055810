"""No facade double here: other mocks and patches are left alone, byte for byte."""

from unittest.mock import MagicMock, patch

from tally import billing


@patch("tally.billing.clock")
async def test_other_patch(clock):
    gateway = MagicMock()
    gateway.read_account.return_value = 1  # a method of the same name on something else: made here
    clock.return_value = 3
    assert await billing.balance(1) == 0
