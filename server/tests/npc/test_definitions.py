"""The NPC data table is consistent with the world it lives in."""

from __future__ import annotations

import pytest

from server.models import DEFAULT_STATS, Player
from server.npc.definitions import (
    BEHAVIORS,
    NPC_DEFINITIONS,
    NPCDefinition,
    definition_for_npc,
    find_definition_by_name,
    get_definition,
    startup_definitions,
)
from server.world import load_room_definitions


def test_keys_and_names_are_unique():
    assert len({d.key for d in NPC_DEFINITIONS}) == len(NPC_DEFINITIONS)
    assert len({d.name for d in NPC_DEFINITIONS}) == len(NPC_DEFINITIONS)


def test_every_spawn_room_exists():
    rooms = {room["room_id"] for room in load_room_definitions()}
    assert {d.spawn_room_id for d in NPC_DEFINITIONS} <= rooms


def test_every_behaviour_is_represented_at_startup():
    assert {d.behavior for d in startup_definitions()} == BEHAVIORS
    assert not get_definition("shoggoth_remnant").spawn_at_startup


def test_base_stats_start_at_full_health():
    stats = get_definition("deep_one_lurker").base_stats()

    assert set(stats) == set(DEFAULT_STATS)
    assert stats["health"] == stats["max_health"] == 60
    assert stats["charisma"] == DEFAULT_STATS["charisma"]


def test_lookups():
    lurker = get_definition("deep_one_lurker")

    assert find_definition_by_name("Deep One Lurker") is lurker
    assert definition_for_npc(Player(name="Deep One Lurker", is_npc=True)) is lurker
    assert definition_for_npc(Player(name="Deep One Lurker", is_npc=False)) is None
    with pytest.raises(KeyError, match="unknown NPC definition"):
        get_definition("azathoth")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"behavior": "sleepy"}, "unknown NPC behaviour"),
        ({"wander_chance": 1.5}, "wander_chance"),
        ({"stats": {"sanity": 3}}, "unknown stat keys"),
    ],
)
def test_invalid_definitions(kwargs, message):
    values = {"key": "k", "name": "N", "behavior": "passive", "spawn_room_id": "arkham_square"}
    values.update(kwargs)
    with pytest.raises(ValueError, match=message):
        NPCDefinition(**values)
