"""No double of an async function here: the file comes out byte for byte."""

from unittest.mock import Mock, patch

from bazaar.cache import Cache
from bazaar.service import Checkout


def test_sync_method_patched() -> None:
    with patch.object(Checkout, "currency", return_value="USD"):
        assert Checkout().currency() == "USD"


def test_names_that_are_not_async() -> None:
    cache = Mock(spec=Cache)
    cache.get.return_value = 3
    lookup = Mock()
    lookup.size = Mock(return_value=0)
    lookup.keys.return_value = ["a"]
    assert cache.get("k") == 3
    assert lookup.size() == 0
