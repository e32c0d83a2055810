"""unittest style: setUp injects the spec'd double once; every test method follows it."""

import unittest
from unittest.mock import MagicMock

from tally import billing
from tally.books import Books


class TellerTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.books = MagicMock(spec=Books)
        self.teller = billing.Teller(self.books)

    async def test_balance(self):
        self.books.read_account.return_value = {"number": 2, "balance": 8}
        self.assertEqual(await self.teller.balance(2), 8)
        self.books.read_account.assert_called_once_with(acct=2)

    async def test_deposit(self):
        self.books.read_account.return_value = None
        self.assertEqual(await self.teller.deposit(2, 3), 3)
        self.books.write_account.assert_called_once_with({"number": 2, "balance": 3})
