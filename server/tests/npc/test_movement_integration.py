"""NPCMovementIntegration and resolve_exit: NPCs walk the exits, and only where they may."""

from __future__ import annotations

import pytest

from server.events import PlayerMoved
from server.models import Player, Room
from server.npc.movement_integration import NPCMove, NPCMovementIntegration, resolve_exit
from server.persistence import get_persistence
from server.world import get_room_cache


@pytest.fixture
def movement(event_bus) -> NPCMovementIntegration:
    return NPCMovementIntegration(event_bus)


@pytest.fixture
def dockhand(make_player):
    return make_player("Wandering Dockhand", room_id="arkham_docks", is_npc=True)


def _room_of(session, player: Player) -> str:
    return session.get(Player, player.player_id, populate_existing=True).current_room_id


def _forbid_npcs(session, room_id: str) -> None:
    room = session.get(Room, room_id)
    room.attributes = {**room.attributes, "no_npc": True}
    session.commit()
    get_room_cache().invalidate()


def test_resolve_exit_follows_the_room_exits(sync_session):
    persistence = get_persistence()
    square = sync_session.get(Room, "arkham_square")

    assert resolve_exit(persistence, square, "north") == "arkham_library"
    assert resolve_exit(persistence, square, "NORTH") == "arkham_library"
    assert resolve_exit(persistence, square, "up") is None
    walled_up = Room(room_id="cellar", name="Cellar", zone="arkham", exits={"down": "rlyeh"})
    assert resolve_exit(persistence, walled_up, "down") is None


def test_resolve_exit_respects_no_npc_rooms(sync_session):
    _forbid_npcs(sync_session, "arkham_general_store")

    square = sync_session.get(Room, "arkham_square")
    assert resolve_exit(get_persistence(), square, "west") is None


def test_move_npc_updates_room_and_publishes(movement, dockhand, event_bus, sync_session):
    moved: list[PlayerMoved] = []
    event_bus.subscribe(PlayerMoved, moved.append)

    move = movement.move_npc(dockhand.player_id, "West")

    assert move == NPCMove(dockhand.player_id, "arkham_docks", "arkham_square", "west")
    assert _room_of(sync_session, dockhand) == "arkham_square"
    assert moved == [PlayerMoved(dockhand.player_id, "arkham_docks", "arkham_square")]


def test_blocked_moves_change_nothing(movement, dockhand, make_player, sync_session, event_bus):
    moved: list[PlayerMoved] = []
    event_bus.subscribe(PlayerMoved, moved.append)
    dead = make_player("Drowned NPC", room_id="arkham_docks", is_npc=True, health=0)

    lost = make_player("Lost NPC", room_id="rlyeh", is_npc=True)

    assert movement.move_npc(dockhand.player_id, "north") is None
    assert movement.move_npc(dead.player_id, "west") is None
    assert movement.move_npc(lost.player_id, "west") is None
    assert _room_of(sync_session, dockhand) == "arkham_docks"
    assert _room_of(sync_session, dead) == "arkham_docks"
    assert moved == []


def test_only_npcs_are_moved(movement, make_player):
    person = make_player("Person", room_id="arkham_docks")

    with pytest.raises(ValueError, match="no NPC"):
        movement.move_npc(person.player_id, "west")
    with pytest.raises(ValueError, match="no NPC"):
        movement.move_npc("missing", "west")


def test_exits_for(movement, dockhand, sync_session):
    assert movement.exits_for(dockhand.player_id) == {
        "east": "innsmouth_road",
        "west": "arkham_square",
    }
    assert movement.exits_for("missing") == {}

    _forbid_npcs(sync_session, "innsmouth_road")
    assert movement.exits_for(dockhand.player_id) == {"west": "arkham_square"}


def test_return_home(movement, make_player, sync_session):
    strayed = make_player("Wandering Dockhand", room_id="arkham_square", is_npc=True)

    move = movement.return_home(strayed.player_id, "arkham_docks")

    assert move is not None and move.direction == "east"
    assert _room_of(sync_session, strayed) == "arkham_docks"
    # Two rooms away: no single step leads home.
    far = make_player("Lost Student", room_id="miskatonic_archives", is_npc=True)
    assert movement.return_home(far.player_id, "miskatonic_gate") is None
