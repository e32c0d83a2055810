import unittest

from warehouse.base import Counter
from warehouse.counters import LoggingCounter, ReservedAwareCounter, count_all
from warehouse.db import reset_store


class CounterTests(unittest.TestCase):
    def setUp(self) -> None:
        reset_store()
        self.apples = Counter().count("apple")

    def tearDown(self) -> None:
        reset_store()

    def test_base(self) -> None:
        self.assertEqual(self.apples, 5)

    def test_super_chain(self) -> None:
        counter = LoggingCounter()
        self.assertEqual(counter.count("apple"), 4)
        self.assertEqual(counter.seen, ["apple"])

    def test_describe(self) -> None:
        self.assertEqual(ReservedAwareCounter(held=2).describe("plum"), "plum: 1")

    def test_count_all(self) -> None:
        self.assertEqual(count_all(Counter(), ["apple", "pear"]), {"apple": 5, "pear": 0})

    def test_arithmetic(self) -> None:
        self.assertEqual(ReservedAwareCounter(held=3).held, 3)
