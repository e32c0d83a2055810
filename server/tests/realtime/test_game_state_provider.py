from __future__ import annotations

import pytest

from server.models import Player
from server.persistence import PersistenceLayer, get_persistence
from server.realtime.integration.game_state_provider import (
    GameStateError,
    GameStateProvider,
    player_view,
)


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def provider(persistence: PersistenceLayer) -> GameStateProvider:
    return GameStateProvider(persistence)


def add_player(persistence: PersistenceLayer, name: str, room_id: str, **kwargs: object) -> Player:
    player = Player(name=name, current_room_id=room_id, **kwargs)
    persistence.save_player(player)
    return player


async def test_initial_state_describes_player_room_and_surroundings(
    provider: GameStateProvider, persistence: PersistenceLayer
) -> None:
    me = add_player(persistence, "Armitage", "arkham_library", profession_id=2)
    add_player(persistence, "wilbur", "arkham_library")
    add_player(persistence, "Dagon", "arkham_library", is_npc=True)
    add_player(persistence, "Faraway", "dunwich_hill")
    chest = persistence.create_container(
        "environment", room_id="arkham_library", items=[{"prototype_id": "necronomicon"}]
    )

    state = await provider.get_initial_state(me.player_id)

    assert state["type"] == "game_state"
    assert state["player"]["player_id"] == me.player_id
    assert state["player"]["profession_id"] == 2
    assert state["room"]["room_id"] == "arkham_library"
    assert state["room"]["exit_names"]["south"] == persistence.get_room("arkham_square").name
    assert [occupant["name"] for occupant in state["occupants"]] == ["Dagon", "wilbur"]
    assert [occupant["is_npc"] for occupant in state["occupants"]] == [True, False]
    assert [container["container_id"] for container in state["containers"]] == [
        chest["container_id"]
    ]


async def test_a_player_in_an_unknown_room_is_moved_to_safety(
    provider: GameStateProvider, persistence: PersistenceLayer
) -> None:
    lost = add_player(persistence, "Lost", "the_plateau_of_leng")
    state = await provider.get_initial_state(lost.player_id)
    assert state["room"]["room_id"] == "arkham_square"
    stored = persistence.get_player(lost.player_id)
    assert stored is not None and stored.current_room_id == "arkham_square"


async def test_unknown_player(provider: GameStateProvider) -> None:
    with pytest.raises(GameStateError):
        await provider.get_initial_state("0" * 32)


async def test_state_reflects_the_latest_stats(
    provider: GameStateProvider, persistence: PersistenceLayer
) -> None:
    me = add_player(persistence, "Wounded", "arkham_docks")
    persistence.damage_player(me, 30)
    state = await provider.get_initial_state(me.player_id)
    assert state["player"]["stats"]["health"] == 70
    assert state["player"] == player_view(me)
