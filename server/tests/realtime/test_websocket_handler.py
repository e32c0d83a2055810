from __future__ import annotations

from collections.abc import Callable
from unittest.mock import MagicMock, patch

import pytest
from sqlalchemy.orm import Session

from server.events import EventBus
from server.game.movement_service import MovementService, MoveResult
from server.models import Player, Room
from server.realtime.websocket_handler import WebSocketHandler, parse_command
from server.services.combat_service import AttackResult, CombatService

MakePlayer = Callable[..., Player]


@pytest.fixture
def handler(event_bus: EventBus) -> WebSocketHandler:
    return WebSocketHandler(event_bus)


def stored(session: Session, player_id: str) -> Player:
    player = session.get(Player, player_id, populate_existing=True)
    assert player is not None
    return player


def test_parse_command_accepts_text_and_json() -> None:
    assert parse_command("  GO north ") == ("go", "north")
    assert parse_command({"command": "say", "args": ["hello", "there"]}) == ("say", "hello there")
    assert parse_command("") == ("", "")


async def test_look_lists_the_room_and_the_others(
    handler: WebSocketHandler, make_player: MakePlayer
) -> None:
    me = make_player("Armitage", room_id="miskatonic_quad")
    make_player("zadok", room_id="miskatonic_quad")
    make_player("Brown Jenkin", room_id="miskatonic_quad", is_npc=True)
    response = await handler.handle_message(me.player_id, "look")
    assert response["type"] == "room"
    assert response["room"]["room_id"] == "miskatonic_quad"
    assert [o["name"] for o in response["occupants"]] == ["Brown Jenkin", "zadok"]


async def test_go_moves_the_player(
    handler: WebSocketHandler, make_player: MakePlayer, sync_session: Session
) -> None:
    me = make_player()
    response = await handler.handle_message(me.player_id, "go north")
    assert response["type"] == "moved"
    assert response["room"]["room_id"] == "arkham_library"
    assert stored(sync_session, me.player_id).current_room_id == "arkham_library"
    back = await handler.handle_message(me.player_id, "s")
    assert back["room"]["room_id"] == "arkham_square"


async def test_go_without_an_exit_is_an_error(
    handler: WebSocketHandler, make_player: MakePlayer
) -> None:
    me = make_player(room_id="dunwich_hill")
    response = await handler.handle_message(me.player_id, "go up")
    assert response["type"] == "error"
    assert response["message"].startswith("there is no exit up from ")
    assert (await handler.handle_message(me.player_id, "go"))["message"] == "Go where?"


async def test_go_delegates_to_the_movement_service(
    handler: WebSocketHandler, make_player: MakePlayer
) -> None:
    me = make_player()
    docks = Room(room_id="arkham_docks", name="Docks", zone="arkham", exits={})
    result = MoveResult(me.player_id, "east", "arkham_square", docks)
    with patch.object(MovementService, "move_player", return_value=result) as move_player:
        response = await handler.handle_message(me.player_id, {"command": "go", "args": "e"})
    move_player.assert_called_once_with(me.player_id, "e")
    assert response["from_room"] == "arkham_square"
    assert response["room"]["name"] == "Docks"


async def test_say_reaches_the_other_players_in_the_room(
    handler: WebSocketHandler, make_player: MakePlayer
) -> None:
    me = make_player("Speaker", room_id="innsmouth_road")
    listener = make_player("Listener", room_id="innsmouth_road")
    make_player("Npc", room_id="innsmouth_road", is_npc=True)
    make_player("Elsewhere", room_id="arkham_square")
    response = await handler.handle_message(me.player_id, "say  Ph'nglui mglw'nafh ")
    assert response["type"] == "say"
    assert response["from"] == "Speaker"
    assert response["message"] == "Ph'nglui mglw'nafh"
    assert response["recipients"] == [listener.player_id]


async def test_say_needs_words(handler: WebSocketHandler, make_player: MakePlayer) -> None:
    me = make_player()
    assert (await handler.handle_message(me.player_id, "say"))["type"] == "error"
    too_long = "a" * 501
    assert "too long" in (await handler.handle_message(me.player_id, f"say {too_long}"))["message"]


async def test_attack_runs_the_combat_command(
    handler: WebSocketHandler, make_player: MakePlayer, sync_session: Session
) -> None:
    me = make_player("Armitage")
    target = make_player("Wilbur")
    response = await handler.handle_message(me.player_id, "attack Wilbur")
    assert response["type"] == "combat"
    assert "You hit Wilbur" in response["message"]
    assert stored(sync_session, target.player_id).get_stats()["health"] == 90


async def test_attack_with_a_mocked_combat_service(make_player: MakePlayer) -> None:
    me = make_player("Armitage")
    target = make_player("Wilbur")
    combat = MagicMock(spec=CombatService)
    combat.attack.return_value = AttackResult(
        me.player_id, target.player_id, "Wilbur", damage=99, target_health=1, killed=False
    )
    handler = WebSocketHandler(combat_service=combat)
    response = await handler.handle_message(me.player_id, "kill wilbur")
    assert response["message"] == "You hit Wilbur for 99 damage. Wilbur has 1 health left."


async def test_attack_errors_are_reported(
    handler: WebSocketHandler, make_player: MakePlayer
) -> None:
    me = make_player()
    response = await handler.handle_message(me.player_id, "attack nobody")
    assert response["type"] == "error"


async def test_unknown_command_and_unknown_player(handler: WebSocketHandler) -> None:
    assert (await handler.handle_message("x", "dance"))["message"] == "Unknown command: dance"
    assert (await handler.handle_message("x", "look"))["message"] == "You are not in the game."
    assert (await handler.handle_message("x", "   "))["type"] == "error"
