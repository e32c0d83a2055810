from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.persistence import PersistenceLayer, get_persistence


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def chest(persistence: PersistenceLayer) -> dict[str, Any]:
    return persistence.create_container(
        "environment", room_id="arkham_general_store", capacity_slots=2, metadata={"label": "crate"}
    )


def test_create_container(client: TestClient, persistence: PersistenceLayer) -> None:
    response = client.post(
        "/api/containers",
        json={
            "source_type": "environment",
            "room_id": "miskatonic_archives",
            "capacity_slots": 5,
            "items": [{"prototype_id": "lamp"}],
            "metadata": {"label": "filing cabinet"},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    stored = persistence.get_container(body["container_id"])
    assert stored is not None
    assert stored["room_id"] == "miskatonic_archives"
    assert stored["items"] == [{"prototype_id": "lamp"}]
    assert stored["metadata"] == {"label": "filing cabinet"}


def test_create_corpse_that_decays(client: TestClient, persistence: PersistenceLayer) -> None:
    response = client.post(
        "/api/containers",
        json={"source_type": "corpse", "room_id": "dunwich_hill", "decays_in_seconds": 600},
    )
    assert response.status_code == 201
    stored = persistence.get_container(response.json()["container_id"])
    assert stored is not None and stored["decays_at"] is not None
    assert persistence.get_decayed_containers() == []


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"source_type": "altar", "room_id": "dunwich_hill"}, 422),
        ({"source_type": "environment"}, 422),
        ({"source_type": "environment", "room_id": "kadath"}, 404),
        ({"source_type": "equipment"}, 422),
        ({"source_type": "environment", "room_id": "dunwich_hill", "lock_state": "ajar"}, 422),
        (
            {
                "source_type": "environment",
                "room_id": "dunwich_hill",
                "capacity_slots": 1,
                "items": [{"prototype_id": "a"}, {"prototype_id": "b"}],
            },
            422,
        ),
    ],
)
def test_create_rejects_broken_containers(
    client: TestClient, persistence: PersistenceLayer, payload: dict[str, Any], expected: int
) -> None:
    assert client.post("/api/containers", json=payload).status_code == expected
    assert persistence.get_containers_by_room_id("dunwich_hill") == []


def test_get_and_list(
    client: TestClient, persistence: PersistenceLayer, chest: dict[str, Any]
) -> None:
    bag = persistence.create_container("equipment", entity_id="player-1", owner_id="player-1")
    assert client.get(f"/api/containers/{chest['container_id']}").json()["metadata"] == {
        "label": "crate"
    }
    in_store = client.get("/api/containers", params={"room_id": "arkham_general_store"}).json()
    assert [c["container_id"] for c in in_store] == [chest["container_id"]]
    carried = client.get("/api/containers", params={"entity_id": "player-1"}).json()
    assert [c["container_id"] for c in carried] == [bag["container_id"]]
    assert client.get("/api/containers").status_code == 422
    assert client.get("/api/containers/" + "0" * 32).status_code == 404


def test_update_container(
    client: TestClient, persistence: PersistenceLayer, chest: dict[str, Any]
) -> None:
    url = f"/api/containers/{chest['container_id']}"
    response = client.patch(url, json={"lock_state": "locked", "items": [{"prototype_id": "key"}]})
    assert response.status_code == 200
    stored = persistence.get_container(chest["container_id"])
    assert stored is not None
    assert stored["lock_state"] == "locked"
    assert stored["items"] == [{"prototype_id": "key"}]
    assert stored["metadata"] == {"label": "crate"}
    too_many = [{"prototype_id": str(n)} for n in range(3)]
    assert client.patch(url, json={"items": too_many}).status_code == 422
    assert client.patch("/api/containers/" + "0" * 32, json={}).status_code == 404


def test_add_items_until_full(
    client: TestClient, persistence: PersistenceLayer, chest: dict[str, Any]
) -> None:
    url = f"/api/containers/{chest['container_id']}/items"
    first = client.post(url, json={"prototype_id": "elder_sign", "item_instance_id": "sign-1"})
    assert first.status_code == 201, first.text
    assert persistence.item_instance_exists("sign-1")
    again = client.post(url, json={"prototype_id": "elder_sign", "item_instance_id": "sign-1"})
    assert again.status_code == 409
    second = client.post(url, json={"prototype_id": "candle", "quantity": 3})
    assert second.status_code == 201
    stored = persistence.get_container(chest["container_id"])
    assert stored is not None
    assert [item["prototype_id"] for item in stored["items"]] == ["elder_sign", "candle"]
    assert stored["items"][1]["quantity"] == 3
    full = client.post(url, json={"prototype_id": "spoon"})
    assert full.status_code == 409
    assert full.json()["detail"] == "the container is full"


def test_locked_containers_take_nothing(
    client: TestClient, persistence: PersistenceLayer, chest: dict[str, Any]
) -> None:
    persistence.update_container(chest["container_id"], lock_state="sealed")
    response = client.post(
        f"/api/containers/{chest['container_id']}/items", json={"prototype_id": "coin"}
    )
    assert response.status_code == 409
    missing = client.post("/api/containers/" + "0" * 32 + "/items", json={"prototype_id": "coin"})
    assert missing.status_code == 404


def test_delete_container(
    client: TestClient, persistence: PersistenceLayer, chest: dict[str, Any]
) -> None:
    url = f"/api/containers/{chest['container_id']}"
    assert client.delete(url).status_code == 204
    assert persistence.get_container(chest["container_id"]) is None
    assert client.delete(url).status_code == 404
