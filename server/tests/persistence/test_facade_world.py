"""The facade's rooms and professions, and the world data behind them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import Profession, Room
from server.persistence import get_persistence
from server.world import (
    RoomCache,
    get_room_cache,
    load_profession_definitions,
    load_room_definitions,
    reset_room_cache,
    seed_world,
)

ALL_ROOMS = {
    "arkham_square",
    "arkham_library",
    "arkham_docks",
    "arkham_general_store",
    "miskatonic_gate",
    "miskatonic_quad",
    "miskatonic_archives",
    "innsmouth_road",
    "innsmouth_harbor",
    "innsmouth_marsh",
    "dunwich_crossroads",
    "dunwich_hill",
}


def test_shipped_rooms_form_a_connected_two_way_graph() -> None:
    rooms = {room["room_id"]: room for room in load_room_definitions()}
    assert set(rooms) == ALL_ROOMS
    opposite = {"north": "south", "south": "north", "east": "west", "west": "east"}
    for room in rooms.values():
        for direction, target in room["exits"].items():
            assert rooms[target]["exits"][opposite[direction]] == room["room_id"]
    reached, frontier = {"arkham_square"}, ["arkham_square"]
    while frontier:
        for target in rooms[frontier.pop()]["exits"].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == ALL_ROOMS


def test_get_room() -> None:
    room = get_persistence().get_room("arkham_square")

    assert room.name == "Arkham Town Square"
    assert room.zone == "arkham"
    assert room.exit_to("North") == "arkham_library"
    assert room.attributes["lit"] is True
    assert get_persistence().get_room("rlyeh") is None


def test_list_rooms_is_ordered_by_id() -> None:
    ids = [room.room_id for room in get_persistence().list_rooms()]

    assert ids == sorted(ALL_ROOMS)


def test_save_room_writes_the_database_and_the_cache(sync_session) -> None:
    persistence = get_persistence()
    room = Room(
        room_id="arkham_cellar",
        name="A Damp Cellar",
        description="Water seeps through the stones.",
        zone="arkham",
        exits={"up": "arkham_general_store"},
        attributes={"lit": False},
    )

    persistence.save_room(room)

    assert persistence.get_room("arkham_cellar").name == "A Damp Cellar"
    assert sync_session.get(Room, "arkham_cellar").exits == {"up": "arkham_general_store"}
    reset_room_cache()
    assert get_room_cache().get("arkham_cellar").description == "Water seeps through the stones."


def test_save_room_updates_an_existing_room() -> None:
    persistence = get_persistence()
    square = persistence.get_room("arkham_square")
    updated = Room(
        room_id=square.room_id,
        name="Arkham Square (at night)",
        description=square.description,
        zone=square.zone,
        exits=dict(square.exits),
        attributes={**square.attributes, "lit": False},
    )

    persistence.save_room(updated)

    assert persistence.get_room("arkham_square").name == "Arkham Square (at night)"
    reset_room_cache()
    assert get_room_cache().get("arkham_square").attributes["lit"] is False


def test_save_room_refuses_exits_to_unknown_rooms() -> None:
    room = Room(room_id="void", name="The Void", zone="nowhere", exits={"down": "abyss"})

    with pytest.raises(ValueError, match="unknown rooms"):
        get_persistence().save_room(room)
    assert get_persistence().get_room("void") is None


def test_get_all_professions() -> None:
    professions = get_persistence().get_all_professions()

    assert [(p.id, p.name) for p in professions] == [
        (1, "Investigator"),
        (2, "Scholar"),
        (3, "Sailor"),
        (4, "Occultist"),
    ]
    assert [p.is_available for p in professions] == [True, True, True, False]


def test_get_profession_by_id() -> None:
    scholar = get_persistence().get_profession_by_id(2)

    assert scholar.name == "Scholar"
    assert scholar.stat_modifiers["intelligence"] == 3
    assert get_persistence().get_profession_by_id(99) is None


def test_seed_world_is_idempotent(sync_session) -> None:
    assert seed_world() == (0, 0)
    assert sync_session.scalar(select(func.count()).select_from(Room)) == 12
    assert sync_session.scalar(select(func.count()).select_from(Profession)) == 4
    assert len(load_profession_definitions()) == 4


def test_room_cache_loads_lazily_and_can_be_invalidated() -> None:
    cache = RoomCache()
    assert not cache.is_loaded

    assert "dunwich_hill" in cache
    assert cache.is_loaded and len(cache) == 12
    assert set(cache.neighbours("arkham_square")) == {"north", "south", "east", "west"}

    cache.invalidate()
    assert not cache.is_loaded
    assert cache.get("miskatonic_quad").zone == "miskatonic"


def test_the_facade_and_room_cache_share_one_cache() -> None:
    cache = get_room_cache()
    cache.put(Room(room_id="phantom", name="Phantom", zone="dream"))

    assert get_persistence().get_room("phantom").name == "Phantom"
