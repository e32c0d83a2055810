from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from server.models import Player
from server.persistence import PersistenceLayer, get_persistence


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


def test_list_rooms(client: TestClient, persistence: PersistenceLayer) -> None:
    rooms = client.get("/api/rooms").json()
    assert len(rooms) == 12
    assert [room["room_id"] for room in rooms] == sorted(
        room.room_id for room in persistence.list_rooms()
    )


def test_list_rooms_by_zone(client: TestClient, persistence: PersistenceLayer) -> None:
    zone = persistence.get_room("dunwich_hill").zone
    rooms = client.get("/api/rooms", params={"zone": zone}).json()
    assert {room["room_id"] for room in rooms} == {"dunwich_crossroads", "dunwich_hill"}


def test_zones(client: TestClient) -> None:
    zones = client.get("/api/rooms/zones").json()
    assert sum(len(room_ids) for room_ids in zones.values()) == 12
    assert any("arkham_square" in room_ids for room_ids in zones.values())


def test_get_room(client: TestClient, persistence: PersistenceLayer) -> None:
    body = client.get("/api/rooms/arkham_square").json()
    square = persistence.get_room("arkham_square")
    assert square is not None
    assert body["name"] == square.name
    assert body["exits"]["north"] == "arkham_library"
    assert client.get("/api/rooms/kadath").status_code == 404


def test_exits_carry_the_names_of_the_rooms(
    client: TestClient, persistence: PersistenceLayer
) -> None:
    exits = client.get("/api/rooms/arkham_square/exits").json()
    by_direction = {exit_["direction"]: exit_ for exit_ in exits}
    assert set(by_direction) >= {"north", "south", "east", "west"}
    library = persistence.get_room("arkham_library")
    assert library is not None
    assert by_direction["north"]["room_name"] == library.name
    assert [exit_["direction"] for exit_ in exits] == sorted(by_direction)


def test_players_in_a_room(client: TestClient, persistence: PersistenceLayer) -> None:
    persistence.save_players(
        [
            Player(name="Zadok", current_room_id="innsmouth_road"),
            Player(name="asenath", current_room_id="innsmouth_road", stats={"level": 4}),
            Player(name="Deep One", current_room_id="innsmouth_road", is_npc=True),
            Player(name="Elsewhere", current_room_id="arkham_square"),
        ]
    )
    body = client.get("/api/rooms/innsmouth_road/players").json()
    assert body["count"] == 3
    assert [p["name"] for p in body["players"]] == ["asenath", "Deep One", "Zadok"]
    assert body["players"][0]["level"] == 4
    humans = client.get(
        "/api/rooms/innsmouth_road/players", params={"include_npcs": "false"}
    ).json()
    assert humans["count"] == 2
    assert client.get("/api/rooms/kadath/players").status_code == 404
