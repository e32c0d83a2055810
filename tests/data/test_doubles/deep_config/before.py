"""A configuration below return_value keeps its line; the mock is made async before it."""

from unittest.mock import Mock

from bazaar import handlers


async def test_configures_the_returned_order() -> None:
    repo = Mock()
    # The order the repository hands back.
    repo.get.return_value.total = 30
    repo.get.return_value.order_id = 1
    assert await handlers.repo_total(repo, 1) == 30
