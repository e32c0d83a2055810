"""HealthRepository and ExperienceRepository: atomic, whitelisted, publishing events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.events import (
    Event,
    EventBus,
    ExperienceGained,
    PlayerDamaged,
    PlayerDied,
    PlayerHealed,
    PlayerStatChanged,
)
from server.models import Player
from server.persistence.repositories import (
    ExperienceRepository,
    HealthRepository,
    get_experience_repository,
    get_health_repository,
)


@pytest.fixture
def events(event_bus: EventBus) -> list[Any]:
    received: list[Any] = []
    event_bus.subscribe(Event, received.append)
    return received


def stored(sync_session, player_id: str) -> dict[str, Any]:
    sync_session.expire_all()
    return sync_session.get(Player, player_id).get_stats()


async def test_damage_player(make_player, sync_session, events: list[Any]) -> None:
    player = make_player(health=60)

    await get_health_repository().damage_player(player, 25, "bite")

    assert player.stats["health"] == 35
    assert stored(sync_session, player.player_id)["health"] == 35
    assert events == [PlayerDamaged(player.player_id, 25, "bite", 35)]


async def test_lethal_damage_publishes_death(make_player, events: list[Any]) -> None:
    player = make_player(room_id="innsmouth_marsh", health=10)
    health = HealthRepository()

    await health.damage_player(player, 10)
    await health.damage_player(player, 10)

    assert player.stats["health"] == 0
    assert events == [
        PlayerDamaged(player.player_id, 10, "physical", 0),
        PlayerDied(player.player_id, "innsmouth_marsh"),
    ]


async def test_heal_player_clamps(make_player, sync_session, events: list[Any]) -> None:
    player = make_player(health=95)

    await get_health_repository().heal_player(player, 20)

    assert player.stats["health"] == 100
    assert stored(sync_session, player.player_id)["health"] == 100
    assert events == [PlayerHealed(player.player_id, 20, 100)]


async def test_update_player_health(make_player, sync_session, events: list[Any]) -> None:
    player = make_player(room_id="arkham_docks", health=30)
    health = get_health_repository()

    await health.update_player_health(player.player_id, -10, "drowning")
    await health.update_player_health(player.player_id, -25, "drowning")

    assert stored(sync_session, player.player_id)["health"] == 0
    assert events == [
        PlayerStatChanged(player.player_id, "health", -10, 20),
        PlayerStatChanged(player.player_id, "health", -25, 0),
        PlayerDied(player.player_id, "arkham_docks"),
    ]


async def test_negative_amounts_are_refused(make_player) -> None:
    player = make_player()
    with pytest.raises(ValueError):
        await get_health_repository().damage_player(player, -1)
    with pytest.raises(ValueError):
        await get_health_repository().heal_player(player, -1)
    with pytest.raises(ValueError):
        await get_experience_repository().gain_experience(player, -1)


async def test_fifty_concurrent_hits_lose_no_update(make_player, sync_session) -> None:
    player = make_player(health=100)
    health = HealthRepository()
    copies = [Player(**{"player_id": player.player_id, "name": player.name}) for _ in range(50)]

    await asyncio.gather(*(health.damage_player(copy, 1, "swarm") for copy in copies))

    assert stored(sync_session, player.player_id)["health"] == 50
    assert sorted(copy.stats["health"] for copy in copies) == list(range(50, 100))


async def test_gain_experience(make_player, sync_session, events: list[Any]) -> None:
    player = make_player(experience=180, level=2)

    await get_experience_repository().gain_experience(player, 40, "tome_read")

    assert (player.stats["experience"], player.stats["level"]) == (220, 3)
    assert stored(sync_session, player.player_id)["level"] == 3
    assert events == [ExperienceGained(player.player_id, 40, "tome_read", 220)]


async def test_update_player_xp(make_player, sync_session, events: list[Any]) -> None:
    player = make_player(experience=50)

    await ExperienceRepository().update_player_xp(player.player_id, -80, "memory_loss")

    assert stored(sync_session, player.player_id)["experience"] == 0
    assert events == [PlayerStatChanged(player.player_id, "experience", -80, 0)]


@pytest.mark.parametrize(
    ("field_name", "delta", "expected"),
    [("wisdom", 2, 12), ("lucidity", -0.5, 99.5), ("health", -40, 60), ("experience", 5, 5)],
)
async def test_update_player_stat_field(
    make_player, sync_session, events: list[Any], field_name: str, delta: float, expected: float
) -> None:
    player = make_player()

    await get_experience_repository().update_player_stat_field(
        player.player_id, field_name, delta, "test"
    )

    assert stored(sync_session, player.player_id)[field_name] == expected
    assert events == [PlayerStatChanged(player.player_id, field_name, delta, expected)]


async def test_update_player_stat_field_refuses_unknown_fields(
    make_player, sync_session, events: list[Any]
) -> None:
    player = make_player()
    before = stored(sync_session, player.player_id)

    with pytest.raises(ValueError) as caught:
        await get_experience_repository().update_player_stat_field(player.player_id, "gold", 10)

    assert str(caught.value) == "invalid stat field: 'gold'"
    assert stored(sync_session, player.player_id) == before
    assert events == []


async def test_repositories_publish_to_an_explicit_bus(make_player) -> None:
    own_bus = EventBus()
    seen: list[Any] = []

    async def record(event: Any) -> None:
        seen.append(event)

    own_bus.subscribe(PlayerHealed, record)
    player = make_player(health=10)

    await HealthRepository(event_bus=own_bus).heal_player(player, 5)

    assert seen == [PlayerHealed(player.player_id, 5, 15)]
