from __future__ import annotations

from unittest.mock import AsyncMock, patch

from caravan import reports
from caravan.store import Store

from tests.conftest import row
from caravan.repos import ManifestRepo


async def test_counts_and_restock_with_the_real_store(depot: Store) -> None:
    assert await reports.restock(1, "dates") == 1
    assert await reports.restock(1, "figs") == 2
    assert reports.manifest_counts([1, 2]) == {1: 2, 2: 0}
    assert row(depot, "SELECT COUNT(*) FROM manifests WHERE goods = ?", "figs") == (1,)


@patch("caravan.reports.manifest_repo", return_value=AsyncMock(spec=ManifestRepo))
async def test_restock_records_one_unit(open_store) -> None:
    open_store.return_value.count.return_value = 3
    assert await reports.restock(4, "dates") == 3
    open_store.return_value.record.assert_awaited_once_with(4, "dates", 1)
