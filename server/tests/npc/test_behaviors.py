"""NPC behaviours: who they see, whom they attack, when they wander or flee."""

from __future__ import annotations

import inspect
import random

import pytest

from server.models import Player
from server.npc.behaviors import (
    ATTACK,
    FLEE,
    IDLE,
    MOVE,
    AggressiveBehavior,
    Decision,
    NPCBehavior,
    PassiveBehavior,
    WandererBehavior,
    behavior_for,
    health_fraction,
)


class FixedRandom(random.Random):
    """A Random whose ``random()`` always returns the same value."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.fixture
def lurker(make_player):
    return make_player("Deep One Lurker", room_id="innsmouth_harbor", is_npc=True)


def test_iter_targets_yields_living_players_only(lurker, make_player):
    fisher = make_player("Fisher", room_id="innsmouth_harbor")
    make_player("Corpse", room_id="innsmouth_harbor", health=0)
    make_player("Other NPC", room_id="innsmouth_harbor", is_npc=True)
    make_player("Elsewhere", room_id="innsmouth_road")

    targets = NPCBehavior().iter_targets(lurker)

    assert inspect.isgenerator(targets)
    assert [t.player_id for t in targets] == [fisher.player_id]


def test_aggressive_picks_the_weakest_target(lurker, make_player):
    make_player("Bruiser", room_id="innsmouth_harbor", health=90)
    wounded = make_player("Wounded", room_id="innsmouth_harbor", health=20)
    make_player("Scratched", room_id="innsmouth_harbor", health=80, max_health=100)

    behavior = AggressiveBehavior()

    assert behavior.choose_target(lurker).player_id == wounded.player_id
    assert behavior.decide(lurker.player_id) == Decision(ATTACK, wounded.player_id)


def test_aggressive_breaks_ties_by_name(lurker, make_player):
    make_player("Zed", room_id="innsmouth_harbor", health=50)
    amy = make_player("Amy", room_id="innsmouth_harbor", health=50)

    assert AggressiveBehavior().choose_target(lurker).player_id == amy.player_id


def test_aggressive_without_targets_idles(lurker):
    assert AggressiveBehavior().decide(lurker.player_id).action == IDLE


def test_decide_ignores_unknown_dead_and_non_npcs(make_player):
    dead = make_player("Deep One Lurker", room_id="innsmouth_harbor", is_npc=True, health=0)
    person = make_player("Person", room_id="innsmouth_harbor")
    behavior = AggressiveBehavior()

    assert behavior.decide("nobody").action == IDLE
    assert behavior.decide(dead.player_id).action == IDLE
    assert behavior.decide(person.player_id).action == IDLE


def test_passive_flees_only_when_hurt_and_watched(make_player):
    farmer = make_player("Farmer Bishop", room_id="dunwich_crossroads", is_npc=True,
                         health=10, max_health=70)
    behavior = PassiveBehavior()
    assert behavior.decide(farmer.player_id).action == IDLE  # nobody around

    make_player("Bully", room_id="dunwich_crossroads")
    assert behavior.decide(farmer.player_id).action == FLEE

    healthy = Player(name="Farmer Bishop", is_npc=True, current_room_id="dunwich_crossroads")
    assert behavior.decide_for(healthy).action == IDLE


def test_wanderer_moves_by_chance(make_player):
    dockhand = make_player("Wandering Dockhand", room_id="arkham_docks", is_npc=True)

    assert WandererBehavior(rng=FixedRandom(0.1)).decide(dockhand.player_id).action == MOVE
    assert WandererBehavior(rng=FixedRandom(0.9)).decide(dockhand.player_id).action == IDLE


def test_onlookers_make_wanderers_restless(make_player):
    dockhand = make_player("Wandering Dockhand", room_id="arkham_docks", is_npc=True)
    behavior = WandererBehavior(rng=FixedRandom(0.7))  # wander_chance is 0.5
    assert behavior.decide(dockhand.player_id).action == IDLE

    make_player("Gawker", room_id="arkham_docks")
    assert behavior.decide(dockhand.player_id).action == MOVE


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Deep One Lurker", AggressiveBehavior),
        ("Librarian Armitage", PassiveBehavior),
        ("Restless Student", WandererBehavior),
        ("Someone Unknown", PassiveBehavior),
    ],
)
def test_behavior_for(name, expected):
    behavior = behavior_for(Player(name=name, is_npc=True))
    assert type(behavior) is expected


def test_health_fraction():
    assert health_fraction(Player(name="x", stats={"health": 25, "max_health": 50})) == 0.5
    assert health_fraction(Player(name="y", stats={"health": 0, "max_health": 0})) == 0.0
