from collections.abc import Iterator

import pytest

from warehouse.db import reset_store


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    reset_store()
    yield
    reset_store()
