from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.models import Container, Player, Room

MakePlayer = Callable[..., Player]


def add_container(session: Session, room_id: str, decays_at: datetime | None) -> str:
    container = Container(
        source_type="corpse", room_id=room_id, decays_at=decays_at, items=[], metadata_json={}
    )
    session.add(container)
    session.commit()
    return container.container_id


def test_stats_count_the_population(client: TestClient, make_player: MakePlayer) -> None:
    make_player("Armitage", room_id="arkham_library")
    make_player("Rice", room_id="arkham_library")
    make_player("Dead", room_id="dunwich_hill", health=0)
    make_player("Deep One", room_id="innsmouth_harbor", is_npc=True)
    stats = client.get("/api/monitoring/stats").json()
    assert stats["total_players"] == 4
    assert stats["player_characters"] == 3
    assert stats["npcs"] == 1
    assert (stats["alive"], stats["dead"]) == (3, 1)
    assert stats["players_per_room"] == {
        "arkham_library": 2,
        "dunwich_hill": 1,
        "innsmouth_harbor": 1,
    }
    assert sum(stats["players_per_zone"].values()) == 4
    assert "arkham_square" in stats["empty_rooms"]
    assert "arkham_library" not in stats["empty_rooms"]
    assert len(stats["empty_rooms"]) == 9


def test_stats_on_an_empty_world(client: TestClient, sync_session: Session) -> None:
    stats = client.get("/api/monitoring/stats").json()
    assert stats["total_players"] == 0
    assert stats["players_per_room"] == {}
    assert len(stats["empty_rooms"]) == sync_session.query(Room).count()
    assert stats["decayed_containers"] == 0


def test_decayed_containers(client: TestClient, sync_session: Session) -> None:
    now = datetime.now(UTC)
    old = add_container(sync_session, "dunwich_hill", now - timedelta(hours=2))
    older = add_container(sync_session, "innsmouth_marsh", now - timedelta(days=1))
    add_container(sync_session, "arkham_docks", now + timedelta(hours=1))
    add_container(sync_session, "arkham_docks", None)
    assert client.get("/api/monitoring/stats").json()["decayed_containers"] == 2
    decayed = client.get("/api/monitoring/containers/decayed").json()
    assert [c["container_id"] for c in decayed] == sorted([old, older])


def test_room_occupancy(client: TestClient, make_player: MakePlayer) -> None:
    make_player("Armitage", room_id="miskatonic_gate")
    make_player("Ghoul", room_id="miskatonic_gate", is_npc=True)
    make_player("Ghast", room_id="miskatonic_gate", is_npc=True)
    rooms = client.get("/api/monitoring/rooms").json()
    assert len(rooms) == 12
    assert [room["room_id"] for room in rooms] == sorted(room["room_id"] for room in rooms)
    gate = next(room for room in rooms if room["room_id"] == "miskatonic_gate")
    assert (gate["players"], gate["npcs"]) == (1, 2)
    assert sum(room["players"] + room["npcs"] for room in rooms) == 3
