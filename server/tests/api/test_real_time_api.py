from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from server.api.real_time import CLOSE_DEAD_PLAYER, CLOSE_UNKNOWN_PLAYER
from server.models import Player

MakePlayer = Callable[..., Player]


def test_connect_receives_the_game_state(client: TestClient, make_player: MakePlayer) -> None:
    me = make_player("Armitage", room_id="arkham_library")
    make_player("Rice", room_id="arkham_library")
    with client.websocket_connect(f"/ws/{me.player_id}") as socket:
        state = socket.receive_json()
    assert state["type"] == "game_state"
    assert state["player"]["name"] == "Armitage"
    assert state["room"]["room_id"] == "arkham_library"
    assert [o["name"] for o in state["occupants"]] == ["Rice"]


def test_commands_over_the_socket(
    client: TestClient, make_player: MakePlayer, sync_session: Session
) -> None:
    me = make_player()
    with client.websocket_connect(f"/ws/{me.player_id}") as socket:
        socket.receive_json()
        socket.send_text("look")
        assert socket.receive_json()["room"]["room_id"] == "arkham_square"
        socket.send_text("go east")
        moved = socket.receive_json()
        assert moved["type"] == "moved"
        assert moved["room"]["room_id"] == "arkham_docks"
        socket.send_text("x" * 2_001)
        assert socket.receive_json()["message"] == "message too long"
    stored = sync_session.get(Player, me.player_id, populate_existing=True)
    assert stored is not None and stored.current_room_id == "arkham_docks"


def test_say_is_delivered_to_connected_listeners(
    client: TestClient, make_player: MakePlayer
) -> None:
    speaker = make_player("Speaker", room_id="miskatonic_quad")
    listener = make_player("Listener", room_id="miskatonic_quad")
    with (
        client.websocket_connect(f"/ws/{listener.player_id}") as listening,
        client.websocket_connect(f"/ws/{speaker.player_id}") as speaking,
    ):
        listening.receive_json()
        speaking.receive_json()
        speaking.send_text("say The stars are right")
        echoed = speaking.receive_json()
        heard = listening.receive_json()
    assert echoed["recipients"] == [listener.player_id]
    assert heard["type"] == "say"
    assert heard["from"] == "Speaker"
    assert heard["message"] == "The stars are right"


def test_unknown_and_dead_players_are_turned_away(
    client: TestClient, make_player: MakePlayer
) -> None:
    with pytest.raises(WebSocketDisconnect) as unknown:
        with client.websocket_connect("/ws/" + "0" * 32) as socket:
            socket.receive_json()
    assert unknown.value.code == CLOSE_UNKNOWN_PLAYER
    dead = make_player("Dead", health=0)
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(f"/ws/{dead.player_id}") as socket:
            socket.receive_json()
    assert refused.value.code == CLOSE_DEAD_PLAYER


def test_status_and_connections(
    client: TestClient, make_player: MakePlayer, sync_session: Session
) -> None:
    me = make_player("Armitage")
    url = f"/api/realtime/status/{me.player_id}"
    assert client.get(url).json()["connected"] is False
    with client.websocket_connect(f"/ws/{me.player_id}") as socket:
        socket.receive_json()
        assert client.get(url).json()["connected"] is True
        connections = client.get("/api/realtime/connections").json()
        assert [c["name"] for c in connections] == ["Armitage"]
    assert client.get(url).json()["connected"] is False
    assert client.get("/api/realtime/connections").json() == []
    assert client.get("/api/realtime/status/" + "0" * 32).status_code == 404


def test_connecting_marks_the_player_active(
    client: TestClient, make_player: MakePlayer, sync_session: Session
) -> None:
    me = make_player()
    sync_session.execute(
        update(Player)
        .where(Player.player_id == me.player_id)
        .values(last_active=me.created_at.replace(year=2000))
    )
    sync_session.commit()
    with client.websocket_connect(f"/ws/{me.player_id}") as socket:
        socket.receive_json()
    stored = sync_session.get(Player, me.player_id, populate_existing=True)
    assert stored is not None and stored.last_active.year > 2000
