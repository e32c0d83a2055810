"""IdleMovementController: wanderers drift inside their home zone; nobody else moves."""

from __future__ import annotations

import random
from unittest.mock import MagicMock

import pytest

from server.models import Player
from server.npc.idle_movement import IdleMovementController
from server.npc.movement_integration import NPCMovementIntegration


class AlwaysRandom(random.Random):
    """Random that always wanders (or never) and always takes the first allowed exit."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value

    def choice(self, seq):
        return seq[0]


def _room(session, player: Player) -> str:
    return session.get(Player, player.player_id, populate_existing=True).current_room_id


@pytest.fixture
def eager() -> IdleMovementController:
    return IdleMovementController(rng=AlwaysRandom(0.0))


def test_wanderer_stays_in_its_home_zone(eager, make_player, sync_session):
    # From the docks, east leads to Innsmouth (another zone): only west is allowed.
    dockhand = make_player("Wandering Dockhand", room_id="arkham_docks", is_npc=True)

    moves = eager.tick()

    assert [(m.npc_id, m.to_room) for m in moves] == [(dockhand.player_id, "arkham_square")]
    assert _room(sync_session, dockhand) == "arkham_square"


def test_every_wanderer_moves_once_per_tick(eager, make_player, sync_session):
    dockhand = make_player("Wandering Dockhand", room_id="arkham_docks", is_npc=True)
    student = make_player("Restless Student", room_id="miskatonic_quad", is_npc=True)

    moves = eager.tick()

    assert sorted(m.npc_id for m in moves) == sorted([dockhand.player_id, student.player_id])
    assert _room(sync_session, student) in {"miskatonic_gate", "miskatonic_archives"}


def test_other_npcs_and_the_dead_stay_put(eager, make_player, sync_session):
    lurker = make_player("Deep One Lurker", room_id="innsmouth_harbor", is_npc=True)
    dead = make_player("Wandering Dockhand", room_id="arkham_docks", is_npc=True, health=0)
    person = make_player("Restless Student", room_id="miskatonic_quad")  # a player, not an NPC

    assert eager.tick() == []
    assert _room(sync_session, lurker) == "innsmouth_harbor"
    assert _room(sync_session, dead) == "arkham_docks"
    assert _room(sync_session, person) == "miskatonic_quad"


def test_a_calm_tick_moves_nobody(make_player, sync_session):
    dockhand = make_player("Wandering Dockhand", room_id="arkham_docks", is_npc=True)

    assert IdleMovementController(rng=AlwaysRandom(0.99)).tick() == []
    assert _room(sync_session, dockhand) == "arkham_docks"


def test_tick_asks_the_movement_integration(make_player):
    dockhand = make_player("Wandering Dockhand", room_id="arkham_square", is_npc=True)
    movement = MagicMock(spec=NPCMovementIntegration)
    movement.exits_for.return_value = {"north": "arkham_library", "south": "miskatonic_gate"}
    movement.move_npc.return_value = None  # say the door was shut

    controller = IdleMovementController(movement=movement, rng=AlwaysRandom(0.0))

    assert controller.tick() == []
    movement.exits_for.assert_called_once_with(dockhand.player_id)
    # miskatonic_gate is in another zone, so the library is the only choice.
    movement.move_npc.assert_called_once_with(dockhand.player_id, "north")
