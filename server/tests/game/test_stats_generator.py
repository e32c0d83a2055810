from __future__ import annotations

import random

import pytest

from server.game.stats_generator import (
    ATTRIBUTES,
    BASE_STATS,
    MAX_ATTRIBUTE,
    ProfessionUnavailableError,
    StatsGenerator,
)
from server.persistence import get_persistence


@pytest.fixture
def generator() -> StatsGenerator:
    return StatsGenerator(get_persistence())


def test_starting_room_property_reads_the_configured_room(generator: StatsGenerator) -> None:
    room = generator.starting_room
    assert room.room_id == "arkham_square"
    assert room.zone


def test_starting_room_falls_back_to_first_known_room() -> None:
    generator = StatsGenerator(get_persistence(), start_room_id="r'lyeh")
    assert generator.starting_room.room_id == "arkham_docks"


def test_default_stats_without_profession(generator: StatsGenerator) -> None:
    stats = generator.generate_stats()
    assert stats == BASE_STATS
    assert stats["health"] == stats["max_health"] == 100
    assert all(stats[attribute] == 10 for attribute in ATTRIBUTES)


def test_profession_modifiers_are_applied(generator: StatsGenerator) -> None:
    scholar = generator.generate_stats(2)
    assert scholar["intelligence"] == 13
    assert scholar["wisdom"] == 12
    assert scholar["strength"] == 9


def test_constitution_raises_max_health(generator: StatsGenerator) -> None:
    sailor = generator.generate_stats(3)
    assert sailor["constitution"] == 12
    assert sailor["max_health"] == sailor["health"] == 110


def test_unavailable_and_unknown_professions_are_refused(generator: StatsGenerator) -> None:
    with pytest.raises(ProfessionUnavailableError, match="not available"):
        generator.generate_stats(4)
    with pytest.raises(ProfessionUnavailableError, match="unknown profession"):
        generator.generate_stats(99)


def test_available_professions_exclude_closed_ones(generator: StatsGenerator) -> None:
    names = [profession.name for profession in generator.available_professions()]
    assert names == ["Investigator", "Scholar", "Sailor"]


def test_rolled_stats_stay_within_bounds(generator: StatsGenerator) -> None:
    rng = random.Random(7)
    for _ in range(20):
        stats = generator.generate_stats(1, rng=rng)
        for attribute in ATTRIBUTES:
            assert 3 <= stats[attribute] <= MAX_ATTRIBUTE
        assert stats["health"] == stats["max_health"]


def test_rolls_are_reproducible_with_a_seed(generator: StatsGenerator) -> None:
    first = generator.generate_stats(rng=random.Random(42))
    second = generator.generate_stats(rng=random.Random(42))
    assert first == second


def test_build_player_places_the_character_in_the_starting_room(
    generator: StatsGenerator,
) -> None:
    player = generator.build_player("Wilmarth", profession_id=1)
    assert player.current_room_id == "arkham_square"
    assert player.profession_id == 1
    assert player.get_stats()["intelligence"] == 12
    assert len(player.player_id) == 32
    assert player.inventory == []
