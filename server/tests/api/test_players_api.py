from __future__ import annotations

from collections.abc import Callable
from unittest.mock import patch

import pytest
from fastapi.testclient import TestClient

from server.models import Player, User
from server.persistence import PersistenceLayer, get_persistence
from server.services.user_manager import UserManager


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def seeded(persistence: PersistenceLayer) -> dict[str, Player]:
    players = {
        "Carter": Player(name="Carter", current_room_id="arkham_library"),
        "armitage": Player(name="armitage", current_room_id="arkham_library"),
        "Dagon": Player(name="Dagon", current_room_id="innsmouth_harbor", is_npc=True),
    }
    persistence.save_players(list(players.values()))
    return players


def test_create_player(client: TestClient, persistence: PersistenceLayer) -> None:
    response = client.post("/api/players", json={"name": "Wilmarth", "profession_id": 3})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Wilmarth"
    assert body["current_room_id"] == "arkham_square"
    assert body["stats"]["strength"] == 12
    assert body["is_alive"] is True
    stored = persistence.get_player(body["player_id"])
    assert stored is not None and stored.profession_id == 3


def test_create_player_rejects_taken_and_invalid_names(
    client: TestClient, seeded: dict[str, Player]
) -> None:
    assert client.post("/api/players", json={"name": "Carter"}).status_code == 409
    assert client.post("/api/players", json={"name": "9lives"}).status_code == 422
    assert client.post("/api/players", json={"name": "Okay", "profession_id": 4}).status_code == (
        422
    )


def test_create_player_for_a_user_only_once(
    client: TestClient, persistence: PersistenceLayer, make_user: Callable[..., User]
) -> None:
    user = make_user("randolph")
    first = client.post("/api/players", json={"name": "Randolph", "user_id": user.id})
    assert first.status_code == 201
    stored = persistence.get_player_by_user_id(user.id)
    assert stored is not None and stored.name == "Randolph"
    second = client.post("/api/players", json={"name": "Randolph2", "user_id": user.id})
    assert second.status_code == 409


def test_list_players_sorted_and_filtered(client: TestClient, seeded: dict[str, Player]) -> None:
    names = [p["name"] for p in client.get("/api/players").json()]
    assert names == ["armitage", "Carter", "Dagon"]
    in_library = client.get("/api/players", params={"room_id": "arkham_library"}).json()
    assert [p["name"] for p in in_library] == ["armitage", "Carter"]
    humans = client.get("/api/players", params={"include_npcs": "false"}).json()
    assert "Dagon" not in [p["name"] for p in humans]


def test_get_player_and_by_name(client: TestClient, seeded: dict[str, Player]) -> None:
    carter = seeded["Carter"]
    assert client.get(f"/api/players/{carter.player_id}").json()["name"] == "Carter"
    assert client.get("/api/players/by-name/Dagon").json()["is_npc"] is True
    assert client.get("/api/players/" + "0" * 32).status_code == 404
    assert client.get("/api/players/by-name/Nobody").status_code == 404


def test_batch_keeps_the_requested_order(client: TestClient, seeded: dict[str, Player]) -> None:
    ids = [seeded["Dagon"].player_id, "0" * 32, seeded["Carter"].player_id]
    response = client.post("/api/players/batch", json={"player_ids": ids})
    assert [p["name"] for p in response.json()] == ["Dagon", "Carter"]


def test_rename_player(
    client: TestClient, seeded: dict[str, Player], persistence: PersistenceLayer
) -> None:
    carter = seeded["Carter"]
    response = client.patch(f"/api/players/{carter.player_id}/name", json={"name": "Randolph"})
    assert response.status_code == 200
    stored = persistence.get_player(carter.player_id)
    assert stored is not None and stored.name == "Randolph"
    conflict = client.patch(f"/api/players/{carter.player_id}/name", json={"name": "Dagon"})
    assert conflict.status_code == 409
    invalid = client.patch(f"/api/players/{carter.player_id}/name", json={"name": "x"})
    assert invalid.status_code == 422
    missing = client.patch("/api/players/" + "0" * 32 + "/name", json={"name": "Someone"})
    assert missing.status_code == 404


def test_rename_is_delegated_to_the_user_manager(
    client: TestClient, seeded: dict[str, Player]
) -> None:
    carter = seeded["Carter"]
    renamed = Player(player_id=carter.player_id, name="Kuranes", current_room_id="arkham_library")
    with patch.object(UserManager, "rename_character", return_value=renamed) as rename:
        response = client.patch(f"/api/players/{carter.player_id}/name", json={"name": "Kuranes"})
    rename.assert_called_once_with(carter.player_id, "Kuranes")
    assert response.json()["name"] == "Kuranes"


def test_delete_player(
    client: TestClient, seeded: dict[str, Player], persistence: PersistenceLayer
) -> None:
    dagon = seeded["Dagon"]
    assert client.delete(f"/api/players/{dagon.player_id}").status_code == 204
    assert persistence.get_player(dagon.player_id) is None
    assert client.delete(f"/api/players/{dagon.player_id}").status_code == 404
