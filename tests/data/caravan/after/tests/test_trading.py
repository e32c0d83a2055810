from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock, patch

import pytest

from caravan.audit import AUDIT_TRAIL
from caravan.models import Trader
from caravan.store import Store
from caravan.trading import Consignment, UnknownTrader, purse_of, settle

from tests.conftest import row
from caravan.repos import TraderBook


async def test_settle_pays_a_known_trader(depot: Store) -> None:
    assert await settle(depot, "ada", 5) == 105
    assert row(depot, "SELECT purse FROM traders WHERE name = ?", "ada") == (105,)
    assert AUDIT_TRAIL == ["settle -> 105"]


async def test_settle_with_a_spec_mock() -> None:
    store = MagicMock(spec=Store)
    store.trader_named = AsyncMock(return_value=Trader("ada", 100))
    store.credit = AsyncMock(return_value=150)
    assert await settle(store, "ada", 50) == 150
    store.credit.assert_awaited_once_with("ada", coins=50)


async def test_settle_refuses_a_stranger(depot: Store) -> None:
    with patch.object(TraderBook, "trader_named", return_value=None, new_callable=AsyncMock) as find_trader:
        with pytest.raises(UnknownTrader):
            await settle(depot, "zed", 1)
    find_trader.assert_awaited_once_with("zed")
    assert AUDIT_TRAIL == []


async def test_purse_of(depot: Store) -> None:
    assert await purse_of(depot, "brom") == 20
    assert await purse_of(depot, "zed") == 0


async def test_a_consignment_weighs_its_manifest(depot: Store) -> None:
    consignment = Consignment(depot, 1)
    assert await consignment.add("silk", 3) == 1
    assert await consignment.add("salt", 4) == 2
    assert await consignment.weight() == 7
    assert await Consignment(depot, 2).weight() == 0


async def test_a_consignment_with_a_spec_mock() -> None:
    store = MagicMock(spec=Store)
    store.manifests.record = AsyncMock()
    store.manifests.count = MagicMock(return_value=4)
    assert await Consignment(store, 2).add("salt", 1) == 4
    store.manifests.record.assert_awaited_once_with(2, "salt", 1)
