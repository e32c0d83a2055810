"""The sync facade and the async repositories see the same data, in both directions."""

from __future__ import annotations

import inspect

import pytest

from server.async_persistence import AsyncPersistenceLayer
from server.models import Player
from server.persistence import PersistenceLayer, get_persistence
from server.persistence.repositories import (
    ContainerRepository,
    ExperienceRepository,
    HealthRepository,
    ItemRepository,
    PlayerRepository,
    ProfessionRepository,
    RoomRepository,
    get_player_repository,
)

# facade method -> (repository class, repository method); save_room has no counterpart.
COUNTERPARTS = {
    "get_player": (PlayerRepository, "get_player_by_id"),
    "get_player_by_name": (PlayerRepository, "get_player_by_name"),
    "get_player_by_user_id": (PlayerRepository, "get_player_by_user_id"),
    "save_player": (PlayerRepository, "save_player"),
    "save_players": (PlayerRepository, "save_players"),
    "delete_player": (PlayerRepository, "delete_player"),
    "list_players": (PlayerRepository, "list_players"),
    "get_players_in_room": (PlayerRepository, "get_players_in_room"),
    "get_players_batch": (PlayerRepository, "get_players_batch"),
    "update_player_last_active": (PlayerRepository, "update_player_last_active"),
    "validate_and_fix_player_room": (PlayerRepository, "validate_and_fix_player_room"),
    "get_room": (RoomRepository, "get_room_by_id"),
    "list_rooms": (RoomRepository, "list_rooms"),
    "get_all_professions": (ProfessionRepository, "get_all_professions"),
    "get_profession_by_id": (ProfessionRepository, "get_profession_by_id"),
    "damage_player": (HealthRepository, "damage_player"),
    "heal_player": (HealthRepository, "heal_player"),
    "update_player_health": (HealthRepository, "update_player_health"),
    "gain_experience": (ExperienceRepository, "gain_experience"),
    "update_player_xp": (ExperienceRepository, "update_player_xp"),
    "update_player_stat_field": (ExperienceRepository, "update_player_stat_field"),
    "create_container": (ContainerRepository, "create_container"),
    "get_container": (ContainerRepository, "get_container"),
    "get_containers_by_room_id": (ContainerRepository, "get_containers_by_room_id"),
    "get_containers_by_entity_id": (ContainerRepository, "get_containers_by_entity_id"),
    "update_container": (ContainerRepository, "update_container"),
    "get_decayed_containers": (ContainerRepository, "get_decayed_containers"),
    "delete_container": (ContainerRepository, "delete_container"),
    "create_item_instance": (ItemRepository, "create_item_instance"),
    "ensure_item_instance": (ItemRepository, "ensure_item_instance"),
    "item_instance_exists": (ItemRepository, "item_instance_exists"),
}


@pytest.mark.parametrize("facade_method", sorted(COUNTERPARTS))
def test_counterparts_take_the_same_arguments(facade_method: str) -> None:
    repository, method = COUNTERPARTS[facade_method]
    facade_signature = inspect.signature(getattr(PersistenceLayer, facade_method))
    repository_function = getattr(repository, method)

    assert facade_signature == inspect.signature(repository_function)
    assert inspect.iscoroutinefunction(repository_function) == (repository is not RoomRepository)


def test_every_public_facade_method_is_mapped_except_save_room() -> None:
    public = {
        name
        for name, member in vars(PersistenceLayer).items()
        if callable(member) and not name.startswith("_")
    }
    assert public == set(COUNTERPARTS) | {"save_room"}


async def test_sync_write_async_read(make_player) -> None:
    persistence = get_persistence()
    player = Player(name="Waite", current_room_id="innsmouth_road", inventory=["idol"])
    persistence.save_player(player)
    persistence.damage_player(player, 12)

    loaded = await get_player_repository().get_player_by_id(player.player_id)

    assert loaded.current_room_id == "innsmouth_road"
    assert loaded.inventory == ["idol"]
    assert loaded.get_stats()["health"] == 88


async def test_async_write_sync_read() -> None:
    layer = AsyncPersistenceLayer()
    player = Player(name="Whateley", current_room_id="dunwich_hill")
    await layer.players.save_player(player)
    await layer.experience.gain_experience(player, 150, "summoning")
    container = await layer.containers.create_container("environment", room_id="dunwich_hill")
    await layer.items.create_item_instance("stone-1", "standing_stone_shard")

    persistence = get_persistence()
    loaded = persistence.get_player_by_name("Whateley")
    assert loaded.current_room_id == "dunwich_hill"
    assert loaded.get_stats()["level"] == 2
    assert persistence.get_container(container["container_id"]) == container
    assert persistence.item_instance_exists("stone-1")


async def test_objects_cross_sides_through_save_player() -> None:
    persistence = get_persistence()
    repository = get_player_repository()
    player = Player(name="Curwen")
    persistence.save_player(player)

    from_sync = persistence.get_player(player.player_id)
    from_sync.current_room_id = "miskatonic_archives"
    await repository.save_player(from_sync)

    from_async = await repository.get_player_by_id(player.player_id)
    assert from_async.current_room_id == "miskatonic_archives"
    from_async.stats["wisdom"] = 18
    persistence.save_player(from_async)

    assert persistence.get_player(player.player_id).get_stats()["wisdom"] == 18


async def test_both_sides_agree_on_lists_and_rooms(make_player) -> None:
    for name in ("Lavinia", "Wilbur", "Noah"):
        make_player(name, room_id="dunwich_crossroads")
    persistence = get_persistence()
    layer = AsyncPersistenceLayer()

    sync_names = [p.name for p in persistence.get_players_in_room("dunwich_crossroads")]
    async_names = [p.name for p in await layer.players.get_players_in_room("dunwich_crossroads")]

    assert sync_names == async_names == ["Lavinia", "Noah", "Wilbur"]
    assert [r.room_id for r in persistence.list_rooms()] == [
        r.room_id for r in layer.rooms.list_rooms()
    ]
    assert [p.name for p in persistence.get_all_professions()] == [
        p.name for p in await layer.professions.get_all_professions()
    ]


async def test_async_layer_shares_the_room_cache_with_the_facade() -> None:
    layer = AsyncPersistenceLayer()

    assert layer.room_cache is get_persistence().room_cache
    assert layer._room_cache is layer.players.room_cache
    assert await layer.ping() is True
