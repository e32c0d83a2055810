import unittest

from warehouse.db import reset_store
from warehouse.nightly import snapshot


class NightlyTests(unittest.TestCase):
    snap: dict[str, int]

    @classmethod
    def setUpClass(cls) -> None:
        reset_store()
        cls.snap = snapshot()

    def test_snapshot(self) -> None:
        self.assertEqual(self.snap, {"apple": 5, "pear": 0, "plum": 3})
