from collections.abc import Callable

import pytest

from library.catalog import Catalog, describe
from library.loans import lend, report, tidy


@pytest.fixture
def catalog() -> Catalog:
    catalog = Catalog()
    catalog.add("1", "Dune", replace=True)
    return catalog


@pytest.fixture
def title_of(catalog: Catalog) -> Callable[[str], str | None]:
    def lookup(isbn: str) -> str | None:
        return catalog.title_of(isbn)

    return lookup


def test_title(catalog: Catalog) -> None:
    assert catalog.title_of("1") == "Dune"
    assert catalog.search("du") == ["Dune"]


def test_title_through_a_factory(title_of: Callable[[str], str | None]) -> None:
    assert title_of("1") == "Dune"


def test_describe(catalog: Catalog) -> None:
    assert describe("1") == "1: Dune (shelf new arrivals)"


def test_lending(catalog: Catalog) -> None:
    assert lend("1") == "Dune"
    assert report(["1", "2"]) == ["DUNE"]


def test_tidy(catalog: Catalog) -> None:
    assert tidy() >= 1
