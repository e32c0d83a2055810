"""NPCSpawningService: validated spawns through the lifecycle manager, seen through the facade."""

from __future__ import annotations

import pytest

from server.events import NPCSpawned
from server.models import Player
from server.npc.definitions import get_definition
from server.npc.lifecycle_manager import NPCLifecycleError
from server.npc.spawning_service import NPCSpawningService, SpawnError
from server.persistence import PersistenceLayer, get_persistence


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def spawner() -> NPCSpawningService:
    return NPCSpawningService()


def test_spawn_creates_npc_in_its_home_room(spawner, persistence):
    npc = spawner.spawn_npc("deep_one_lurker")

    stored = persistence.get_player_by_name("Deep One Lurker")
    assert stored is not None
    assert stored.player_id == npc.player_id
    assert stored.is_npc is True
    assert stored.user_id is None
    assert stored.current_room_id == "innsmouth_harbor"
    stats = stored.get_stats()
    assert stats["health"] == stats["max_health"] == 60
    assert stats["strength"] == 14
    assert stats["level"] == 3
    assert stored.inventory == [
        {"prototype_id": "tarnished_tiara", "quantity": 1},
        {"prototype_id": "fish_scale", "quantity": 1},
    ]


def test_spawn_publishes_npc_spawned(spawner, event_bus):
    seen: list[NPCSpawned] = []
    event_bus.subscribe(NPCSpawned, seen.append)

    npc = spawner.spawn_npc("librarian_armitage")

    assert seen == [NPCSpawned(npc_id=npc.player_id, room_id="arkham_library")]


def test_spawning_a_living_npc_twice_keeps_one(spawner, persistence, event_bus):
    first = spawner.spawn_npc("farmer_bishop")
    seen: list[NPCSpawned] = []
    event_bus.subscribe(NPCSpawned, seen.append)

    again = spawner.spawn_npc("farmer_bishop")

    assert again.player_id == first.player_id
    assert seen == []
    names = [p.name for p in persistence.list_players()]
    assert names.count("Farmer Bishop") == 1


def test_dead_npc_is_revived_at_home(spawner, persistence):
    npc = spawner.spawn_npc("order_acolyte")
    npc.current_room_id = "innsmouth_harbor"
    persistence.save_player(npc)
    persistence.damage_player(npc, 1_000)
    assert not persistence.get_player(npc.player_id).is_alive

    revived = spawner.spawn_npc("order_acolyte")

    stored = persistence.get_player(revived.player_id)
    assert revived.player_id == npc.player_id
    assert stored.is_alive
    assert stored.get_stats()["health"] == 45
    assert stored.current_room_id == "innsmouth_marsh"


def test_spawn_into_an_explicit_room(spawner, persistence):
    spawner.spawn_npc("wandering_dockhand", room_id="innsmouth_road")

    assert [p.name for p in persistence.get_players_in_room("innsmouth_road")] == [
        "Wandering Dockhand"
    ]


def test_unknown_definition_is_refused(spawner, persistence):
    with pytest.raises(SpawnError, match="unknown NPC definition"):
        spawner.spawn_npc("great_cthulhu")
    assert persistence.list_players() == []


def test_unknown_room_is_refused(spawner, persistence):
    with pytest.raises(SpawnError, match="unknown room"):
        spawner.spawn_npc("restless_student", room_id="rlyeh")
    assert persistence.get_player_by_name("Restless Student") is None


def test_aggressive_npc_never_spawns_in_a_safe_room(spawner, persistence):
    assert persistence.get_room("arkham_square").attributes["safe"] is True

    with pytest.raises(SpawnError, match="safe room"):
        spawner.spawn_npc("shoggoth_remnant", room_id="arkham_square")
    assert persistence.get_players_in_room("arkham_square") == []


def test_room_population_cap(persistence):
    persistence.save_player(Player(name="Crowd NPC", current_room_id="dunwich_hill", is_npc=True))
    spawner = NPCSpawningService(max_per_room=1)

    with pytest.raises(SpawnError, match="already holds 1 NPCs"):
        spawner.spawn_npc("farmer_bishop", room_id="dunwich_hill")
    # Dead NPCs and players do not count against the cap.
    persistence.damage_player(persistence.get_player_by_name("Crowd NPC"), 1_000)
    persistence.save_player(Player(name="Visitor", current_room_id="dunwich_hill"))
    assert spawner.spawn_npc("farmer_bishop", room_id="dunwich_hill").name == "Farmer Bishop"


def test_name_taken_by_a_player(spawner, persistence):
    persistence.save_player(Player(name="Librarian Armitage", current_room_id="arkham_library"))

    with pytest.raises(NPCLifecycleError, match="already uses the name"):
        spawner.spawn_npc("librarian_armitage")
    assert persistence.get_player_by_name("Librarian Armitage").is_npc is False


def test_spawn_many(spawner, persistence):
    spawned = spawner.spawn_many(["farmer_bishop", "restless_student"])

    assert [npc.name for npc in spawned] == ["Farmer Bishop", "Restless Student"]
    assert {p.name for p in persistence.list_players() if p.is_npc} == {
        "Farmer Bishop",
        "Restless Student",
    }
    assert get_definition("farmer_bishop").spawn_room_id == spawned[0].current_room_id
