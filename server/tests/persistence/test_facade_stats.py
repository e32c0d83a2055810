"""The facade's atomic health, experience and stat updates, and the events they publish."""

from __future__ import annotations

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
from server.persistence import PersistenceLayer, get_persistence


@pytest.fixture
def persistence() -> PersistenceLayer:
    return get_persistence()


@pytest.fixture
def events(event_bus: EventBus) -> list[Any]:
    received: list[Any] = []
    event_bus.subscribe(Event, received.append)
    return received


def stored_stats(persistence: PersistenceLayer, player_id: str) -> dict[str, Any]:
    return persistence.get_player(player_id).get_stats()


def test_damage_player_updates_the_row_and_the_object(
    persistence: PersistenceLayer, make_player, events: list[Any]
) -> None:
    player = make_player("Armitage", room_id="arkham_library")

    persistence.damage_player(player, 30, "claw")

    assert player.stats["health"] == 70
    assert stored_stats(persistence, player.player_id)["health"] == 70
    assert events == [PlayerDamaged(player.player_id, 30, "claw", 70)]


def test_damage_uses_the_stored_health_not_the_objects(
    persistence: PersistenceLayer, make_player
) -> None:
    player = make_player(health=50)
    stale = persistence.get_player(player.player_id)
    persistence.damage_player(player, 10)

    persistence.damage_player(stale, 10)

    assert stale.stats["health"] == 30
    assert stored_stats(persistence, player.player_id)["health"] == 30


def test_lethal_damage_clamps_at_zero_and_publishes_death_once(
    persistence: PersistenceLayer, make_player, events: list[Any]
) -> None:
    player = make_player(room_id="innsmouth_harbor", health=15)

    persistence.damage_player(player, 40)
    persistence.damage_player(player, 5)

    assert player.stats["health"] == 0
    assert not persistence.get_player(player.player_id).is_alive
    assert events == [
        PlayerDamaged(player.player_id, 40, "physical", 0),
        PlayerDied(player.player_id, "innsmouth_harbor"),
    ]


def test_negative_damage_is_refused(persistence: PersistenceLayer, make_player) -> None:
    player = make_player()

    with pytest.raises(ValueError, match="must not be negative"):
        persistence.damage_player(player, -5)
    assert stored_stats(persistence, player.player_id)["health"] == 100


def test_heal_player_clamps_at_max_health(
    persistence: PersistenceLayer, make_player, events: list[Any]
) -> None:
    player = make_player(health=60, max_health=80)

    persistence.heal_player(player, 50)

    assert player.stats["health"] == 80
    assert stored_stats(persistence, player.player_id)["health"] == 80
    assert events == [PlayerHealed(player.player_id, 50, 80)]


def test_update_player_health_both_ways(
    persistence: PersistenceLayer, make_player, events: list[Any]
) -> None:
    player = make_player(room_id="dunwich_hill", health=20)

    persistence.update_player_health(player.player_id, 15, "potion")
    persistence.update_player_health(player.player_id, -50, "fall")

    assert stored_stats(persistence, player.player_id)["health"] == 0
    assert events == [
        PlayerStatChanged(player.player_id, "health", 15, 35),
        PlayerStatChanged(player.player_id, "health", -50, 0),
        PlayerDied(player.player_id, "dunwich_hill"),
    ]


def test_health_updates_of_a_missing_player_do_nothing(
    persistence: PersistenceLayer, make_player, events: list[Any]
) -> None:
    ghost = make_player()
    persistence.delete_player(ghost.player_id)

    persistence.damage_player(ghost, 10)
    persistence.heal_player(ghost, 10)
    persistence.update_player_health(ghost.player_id, -10)

    assert events == []


def test_gain_experience_levels_up(
    persistence: PersistenceLayer, make_player, events: list[Any]
) -> None:
    player = make_player(experience=90)

    persistence.gain_experience(player, 25, "ritual_disrupted")

    assert player.stats["experience"] == 115
    assert player.stats["level"] == 2
    assert stored_stats(persistence, player.player_id)["level"] == 2
    assert events == [ExperienceGained(player.player_id, 25, "ritual_disrupted", 115)]


def test_gain_experience_refuses_negative_amounts(
    persistence: PersistenceLayer, make_player
) -> None:
    with pytest.raises(ValueError):
        persistence.gain_experience(make_player(), -1)


def test_update_player_xp_never_goes_below_zero_and_keeps_the_level(
    persistence: PersistenceLayer, make_player, events: list[Any]
) -> None:
    player = make_player(experience=250, level=3)

    persistence.update_player_xp(player.player_id, -400, "curse")

    stats = stored_stats(persistence, player.player_id)
    assert stats["experience"] == 0
    assert stats["level"] == 3
    assert events == [PlayerStatChanged(player.player_id, "experience", -400, 0)]


@pytest.mark.parametrize(
    ("field_name", "delta", "expected"),
    [
        ("strength", 3, 13),
        ("lucidity", -12.5, 87.5),
        ("lucidity", 50, 100),
        ("level", -5, 1),
        ("charisma", -20, 1),
        ("health", -30, 70),
        ("experience", 120, 120),
    ],
)
def test_update_player_stat_field(
    persistence: PersistenceLayer,
    make_player,
    events: list[Any],
    field_name: str,
    delta: float,
    expected: float,
) -> None:
    player = make_player()

    persistence.update_player_stat_field(player.player_id, field_name, delta, "test")

    assert stored_stats(persistence, player.player_id)[field_name] == expected
    assert events[0] == PlayerStatChanged(player.player_id, field_name, delta, expected)


@pytest.mark.parametrize("field_name", ["max_health", "gold", "health'); DROP TABLE players; --"])
def test_update_player_stat_field_refuses_other_fields(
    persistence: PersistenceLayer, make_player, events: list[Any], field_name: str
) -> None:
    player = make_player()
    before = stored_stats(persistence, player.player_id)

    with pytest.raises(ValueError, match=r"^invalid stat field: ") as caught:
        persistence.update_player_stat_field(player.player_id, field_name, 5)

    assert str(caught.value) == f"invalid stat field: {field_name!r}"
    assert stored_stats(persistence, player.player_id) == before
    assert events == []


def test_stat_updates_leave_other_stats_alone(persistence: PersistenceLayer, make_player) -> None:
    player = make_player(strength=14, wisdom=7)

    persistence.damage_player(player, 5)
    persistence.gain_experience(player, 10)
    persistence.update_player_stat_field(player.player_id, "dexterity", 2)

    stats = stored_stats(persistence, player.player_id)
    assert (stats["strength"], stats["wisdom"], stats["dexterity"]) == (14, 7, 12)
    assert (stats["health"], stats["experience"]) == (95, 10)
