from __future__ import annotations

from unittest.mock import MagicMock, patch

import pytest

from caravan.audit import AUDIT_TRAIL
from caravan.models import Trader
from caravan.store import Store
from caravan.trading import Consignment, UnknownTrader, purse_of, settle

from tests.conftest import row


def test_settle_pays_a_known_trader(depot: Store) -> None:
    assert settle(depot, "ada", 5) == 105
    assert row(depot, "SELECT purse FROM traders WHERE name = ?", "ada") == (105,)
    assert AUDIT_TRAIL == ["settle -> 105"]


def test_settle_with_a_spec_mock() -> None:
    store = MagicMock(spec=Store)
    store.find_trader.return_value = Trader("ada", 100)
    store.pay_trader.return_value = 150
    assert settle(store, "ada", 50) == 150
    store.pay_trader.assert_called_once_with("ada", amount=50)


def test_settle_refuses_a_stranger(depot: Store) -> None:
    with patch.object(Store, "find_trader", return_value=None) as find_trader:
        with pytest.raises(UnknownTrader):
            settle(depot, "zed", 1)
    find_trader.assert_called_once_with("zed")
    assert AUDIT_TRAIL == []


def test_purse_of(depot: Store) -> None:
    assert purse_of(depot, "brom") == 20
    assert purse_of(depot, "zed") == 0


def test_a_consignment_weighs_its_manifest(depot: Store) -> None:
    consignment = Consignment(depot, 1)
    assert consignment.add("silk", 3) == 1
    assert consignment.add("salt", 4) == 2
    assert consignment.weight() == 7
    assert Consignment(depot, 2).weight() == 0


def test_a_consignment_with_a_spec_mock() -> None:
    store = MagicMock(spec=Store)
    store.manifest_size.return_value = 4
    assert Consignment(store, 2).add("salt", 1) == 4
    store.record_manifest.assert_called_once_with(2, "salt", 1)
