from collections.abc import Callable

import pytest

from library.catalog import Catalog, describe
from library.loans import lend, report, tidy


@pytest.fixture
async def catalog() -> Catalog:
    catalog = Catalog()
    await catalog.add("1", "Dune", replace=True)
    return catalog


@pytest.fixture
def title_of(catalog: Catalog) -> Callable[[str], str | None]:
    async def lookup(isbn: str) -> str | None:
        return await catalog.title_of(isbn)

    return lookup


async def test_title(catalog: Catalog) -> None:
    assert await catalog.title_of("1") == "Dune"
    assert await catalog.search("du") == ["Dune"]


async def test_title_through_a_factory(title_of: Callable[[str], str | None]) -> None:
    assert await title_of("1") == "Dune"


async def test_describe(catalog: Catalog) -> None:
    assert await describe("1") == "1: Dune (shelf new arrivals)"


async def test_lending(catalog: Catalog) -> None:
    assert await lend("1") == "Dune"
    assert await report(["1", "2"]) == ["DUNE"]


def test_tidy(catalog: Catalog) -> None:
    assert tidy() >= 1
