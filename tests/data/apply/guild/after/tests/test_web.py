from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from guild.ledger import Member, Quest, open_ledger
from guild.web import router

from tests.fakes import FakeLedger


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger(Member("m1", "Ada", rank=2, hall="west"), quests=(Quest("rats", 1), Quest("dragon", 9)))


@pytest.fixture
def client(ledger: FakeLedger) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(router)
    app.state.ledger = ledger
    app.dependency_overrides[open_ledger] = lambda: ledger
    with TestClient(app) as test_client:
        yield test_client


def test_member_through_the_dependency(client: TestClient, ledger: FakeLedger) -> None:
    assert client.get("/members/m1").json() == {"name": "Ada", "rank": 2}
    assert client.get("/members/zz").status_code == 404
    assert ledger.reached


def test_hall_and_quests_through_the_app_state(client: TestClient, ledger: FakeLedger) -> None:
    assert client.get("/members/m1/hall").json() == {"hall": "west"}
    assert client.get("/quests/m1").json() == ["rats"]
    assert client.get("/quests/zz").status_code == 404
    assert "hall_of" in ledger.reached or "roster_hall" in ledger.reached


def test_promotion_through_the_app_state(client: TestClient, ledger: FakeLedger) -> None:
    assert client.post("/members/m1/promote").json() == {"rank": 3, "dues": 15}
    assert ledger.records.members["m1"].rank == 3
