from __future__ import annotations

from unittest.mock import patch

from caravan import reports
from caravan.store import Store

from tests.conftest import row


def test_counts_and_restock_with_the_real_store(depot: Store) -> None:
    assert reports.restock(1, "dates") == 1
    assert reports.restock(1, "figs") == 2
    assert reports.manifest_counts([1, 2]) == {1: 2, 2: 0}
    assert row(depot, "SELECT COUNT(*) FROM manifests WHERE goods = ?", "figs") == (1,)


@patch("caravan.reports.open_store")
def test_restock_records_one_unit(open_store) -> None:
    open_store.return_value.manifest_size.return_value = 3
    assert reports.restock(4, "dates") == 3
    open_store.return_value.record_manifest.assert_called_once_with(4, "dates", 1)
