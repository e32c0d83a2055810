from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from server.events import EventBus, PlayerDied, PlayerHealed
from server.game.mechanics import GameMechanicsService
from server.models import Player
from server.persistence.repositories import get_health_repository, get_player_repository
from server.services.player_death_service import (
    DEATH_LUCIDITY_PENALTY,
    RESPAWN_ROOM_ID,
    PlayerDeathService,
)

MakePlayer = Callable[..., Player]


@pytest.fixture
def deaths(event_bus: EventBus) -> PlayerDeathService:
    return PlayerDeathService(event_bus)


def reload(session: Session, player_id: str) -> Player:
    player = session.get(Player, player_id, populate_existing=True)
    assert player is not None
    return player


def test_a_killed_player_respawns_whole_at_the_square(
    deaths: PlayerDeathService, make_player: MakePlayer, sync_session: Session, event_bus: EventBus
) -> None:
    healed: list[PlayerHealed] = []
    event_bus.subscribe(PlayerHealed, healed.append)
    victim = make_player("Victim", room_id="innsmouth_marsh", health=10, lucidity=70)
    GameMechanicsService().apply_damage(victim.player_id, 25)
    stored = reload(sync_session, victim.player_id)
    assert stored.current_room_id == RESPAWN_ROOM_ID
    assert stored.get_stats()["health"] == stored.get_stats()["max_health"]
    assert stored.get_stats()["lucidity"] == 70 - DEATH_LUCIDITY_PENALTY
    assert deaths.death_count(victim.player_id) == 1
    assert [event.player_id for event in healed] == [victim.player_id]
    assert not event_bus.failures


def test_npcs_stay_dead(
    deaths: PlayerDeathService, make_player: MakePlayer, sync_session: Session
) -> None:
    npc = make_player("Deep One", room_id="innsmouth_harbor", is_npc=True, health=5)
    GameMechanicsService().apply_damage(npc.player_id, 5)
    stored = reload(sync_session, npc.player_id)
    assert stored.current_room_id == "innsmouth_harbor"
    assert stored.get_stats()["health"] == 0
    assert deaths.death_count(npc.player_id) == 1


def test_death_event_for_a_vanished_player_is_ignored(
    deaths: PlayerDeathService, event_bus: EventBus
) -> None:
    event_bus.publish(PlayerDied("0" * 32, "arkham_square"))
    assert deaths.death_count("0" * 32) == 1
    assert not event_bus.failures


def test_respawn_keeps_lucidity_at_zero(
    deaths: PlayerDeathService, make_player: MakePlayer
) -> None:
    broken = make_player("Broken", room_id="dunwich_hill", health=0, lucidity=4)
    respawned = deaths.respawn(broken.player_id)
    assert respawned.current_room_id == RESPAWN_ROOM_ID
    assert respawned.get_stats()["lucidity"] == 0
    assert respawned.get_stats()["health"] == 100


def test_respawn_of_unknown_player(deaths: PlayerDeathService) -> None:
    with pytest.raises(LookupError):
        deaths.respawn("0" * 32)


async def test_death_through_the_async_repository_respawns(
    deaths: PlayerDeathService, make_player: MakePlayer
) -> None:
    victim = make_player("Victim", room_id="miskatonic_quad", health=3)
    players = get_player_repository()
    loaded = await players.get_player_by_id(victim.player_id)
    assert loaded is not None
    await get_health_repository().damage_player(loaded, 3, "cold")
    stored = await players.get_player_by_id(victim.player_id)
    assert stored is not None
    assert stored.current_room_id == RESPAWN_ROOM_ID
    assert stored.get_stats()["health"] == 100
