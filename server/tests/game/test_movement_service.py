from __future__ import annotations

from collections.abc import Callable

import pytest

from server.events import EventBus, PlayerMoved
from server.game.movement_service import MovementError, MovementService, normalize_direction
from server.models import Player
from server.persistence import PersistenceLayer, get_persistence

SpawnPlayer = Callable[..., Player]


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def spawn(persistence: PersistenceLayer) -> SpawnPlayer:
    def factory(name: str, room_id: str = "arkham_square", health: int = 100) -> Player:
        player = Player(name=name, current_room_id=room_id, stats={"health": health})
        persistence.save_player(player)
        return player

    return factory


@pytest.fixture
def movement(event_bus: EventBus) -> MovementService:
    return MovementService(event_bus)


def test_normalize_direction() -> None:
    assert normalize_direction(" N ") == "north"
    assert normalize_direction("west") == "west"
    with pytest.raises(MovementError):
        normalize_direction("   ")


def test_move_follows_the_exit_and_saves(
    movement: MovementService, spawn: SpawnPlayer, persistence: PersistenceLayer
) -> None:
    player = spawn("Carter")
    result = movement.move_player(player.player_id, "north")
    assert result.from_room_id == "arkham_square"
    assert result.to_room.room_id == "arkham_library"
    stored = persistence.get_player(player.player_id)
    assert stored is not None
    assert stored.current_room_id == "arkham_library"


def test_move_publishes_player_moved(
    movement: MovementService, spawn: SpawnPlayer, event_bus: EventBus
) -> None:
    moves: list[PlayerMoved] = []
    event_bus.subscribe(PlayerMoved, moves.append)
    player = spawn("Pickman")
    movement.move_player(player.player_id, "e")
    assert moves == [PlayerMoved(player.player_id, "arkham_square", "arkham_docks")]


def test_walk_a_route_across_zones(
    movement: MovementService, spawn: SpawnPlayer, persistence: PersistenceLayer
) -> None:
    player = spawn("Olmstead")
    first = movement.move_player(player.player_id, "east")
    towards_innsmouth = next(
        way for way, target in first.to_room.exits.items() if target == "innsmouth_road"
    )
    second = movement.move_player(player.player_id, towards_innsmouth)
    assert [first.to_room.room_id, second.to_room.room_id] == ["arkham_docks", "innsmouth_road"]
    assert second.from_room_id == "arkham_docks"
    stored = persistence.get_player(player.player_id)
    assert stored is not None and stored.current_room_id == "innsmouth_road"


def test_no_exit_that_way(
    movement: MovementService, spawn: SpawnPlayer, persistence: PersistenceLayer
) -> None:
    player = spawn("Derby", room_id="arkham_library")
    with pytest.raises(MovementError, match="no exit up"):
        movement.move_player(player.player_id, "up")
    stored = persistence.get_player(player.player_id)
    assert stored is not None and stored.current_room_id == "arkham_library"


def test_the_dead_do_not_walk(movement: MovementService, spawn: SpawnPlayer) -> None:
    ghost = spawn("Ghost", health=0)
    with pytest.raises(MovementError, match="dead"):
        movement.move_player(ghost.player_id, "north")


def test_unknown_player(movement: MovementService) -> None:
    with pytest.raises(MovementError, match="player not found"):
        movement.move_player("0" * 32, "north")


def test_available_exits(movement: MovementService, spawn: SpawnPlayer) -> None:
    player = spawn("Peaslee")
    exits = movement.available_exits(player.player_id)
    assert exits["north"] == "arkham_library"
    assert exits["south"] == "miskatonic_gate"
