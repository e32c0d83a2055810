"""Starting statistics and starting placement for new characters.

A new character starts from the house defaults (see ``BASE_STATS``), adjusted by the chosen
profession's ``stat_modifiers`` and, when a random generator is supplied, a small roll per
attribute.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from server.models import Player, Profession, Room
from server.persistence import PersistenceLayer

DEFAULT_START_ROOM = "arkham_square"

ATTRIBUTES: tuple[str, ...] = (
    "strength",
    "dexterity",
    "constitution",
    "intelligence",
    "wisdom",
    "charisma",
)

BASE_STATS: dict[str, int] = {
    "health": 100,
    "max_health": 100,
    "experience": 0,
    "level": 1,
    "lucidity": 100,
    **{attribute: 10 for attribute in ATTRIBUTES},
}

MIN_ATTRIBUTE = 3
MAX_ATTRIBUTE = 18
ROLL_SPREAD = 2
HEALTH_PER_CONSTITUTION = 5


class ProfessionUnavailableError(ValueError):
    """The requested profession does not exist or cannot be chosen by players."""


def clamp_attribute(value: int) -> int:
    return max(MIN_ATTRIBUTE, min(MAX_ATTRIBUTE, value))


class StatsGenerator:
    """Builds the statistics and the starting room of a new character."""

    def __init__(
        self, persistence: PersistenceLayer, start_room_id: str = DEFAULT_START_ROOM
    ) -> None:
        self.persistence = persistence
        self.start_room_id = start_room_id

    @property
    def starting_room(self) -> Room:
        """The room new characters appear in; the first known room if the configured one is gone."""
        room = self.persistence.get_room(self.start_room_id)
        if room is not None:
            return room
        rooms = sorted(self.persistence.list_rooms(), key=lambda candidate: candidate.room_id)
        if not rooms:
            raise LookupError("no rooms are loaded; cannot place a new character")
        return rooms[0]

    def available_professions(self) -> list[Profession]:
        professions = [p for p in self.persistence.get_all_professions() if p.is_available]
        return sorted(professions, key=lambda profession: profession.id)

    def resolve_profession(self, profession_id: int | None) -> Profession | None:
        if profession_id is None:
            return None
        profession = self.persistence.get_profession_by_id(profession_id)
        if profession is None:
            raise ProfessionUnavailableError(f"unknown profession: {profession_id}")
        if not profession.is_available:
            raise ProfessionUnavailableError(f"profession {profession.name!r} is not available")
        return profession

    def generate_stats(
        self, profession_id: int | None = None, *, rng: random.Random | None = None
    ) -> dict[str, int]:
        """Return the starting stats for a character of the given profession."""
        stats = dict(BASE_STATS)
        if rng is not None:
            for attribute in ATTRIBUTES:
                stats[attribute] += rng.randint(-ROLL_SPREAD, ROLL_SPREAD)
        profession = self.resolve_profession(profession_id)
        if profession is not None:
            apply_modifiers(stats, profession.stat_modifiers or {})
        for attribute in ATTRIBUTES:
            stats[attribute] = clamp_attribute(stats[attribute])
        bonus = (stats["constitution"] - BASE_STATS["constitution"]) * HEALTH_PER_CONSTITUTION
        stats["max_health"] = max(1, BASE_STATS["max_health"] + bonus)
        stats["health"] = stats["max_health"]
        return stats

    def build_player(
        self,
        name: str,
        *,
        user_id: str | None = None,
        profession_id: int | None = None,
        is_npc: bool = False,
        rng: random.Random | None = None,
    ) -> Player:
        """A new, not yet saved character standing in the starting room."""
        stats = self.generate_stats(profession_id, rng=rng)
        return Player(
            player_id=uuid.uuid4().hex,
            user_id=user_id,
            name=name,
            profession_id=profession_id,
            current_room_id=self.starting_room.room_id,
            stats=stats,
            inventory=[],
            is_npc=is_npc,
        )


def apply_modifiers(stats: dict[str, int], modifiers: dict[str, Any]) -> None:
    """Add a profession's modifiers to the known stat keys; unknown keys are ignored."""
    for key, delta in modifiers.items():
        if key in stats and isinstance(delta, int | float):
            stats[key] = int(stats[key] + delta)
