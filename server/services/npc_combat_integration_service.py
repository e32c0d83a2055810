"""Damage and rewards when NPCs and players fight each other."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from server.models import Player
from server.npc.definitions import definition_for_npc
from server.persistence import get_persistence

logger = logging.getLogger(__name__)

persistence = get_persistence()

MIN_DAMAGE = 1
MAX_ROLL = 6


class CombatError(ValueError):
    """The attack is not possible (unknown combatant, dead combatant, different rooms)."""


@dataclass(frozen=True)
class AttackOutcome:
    attacker_id: str
    defender_id: str
    damage: int
    defender_health: int
    killed: bool
    experience_awarded: int


def compute_damage(attacker: Player, defender: Player, roll: int) -> int:
    """Strength and the dice hit; the defender's constitution soaks part of it."""
    attacker_stats = attacker.get_stats()
    defender_stats = defender.get_stats()
    raw = int(attacker_stats.get("strength", 10)) // 2 + roll
    soak = int(defender_stats.get("constitution", 10)) // 5
    return max(MIN_DAMAGE, raw - soak)


def kill_reward(victim: Player) -> int:
    """Experience for defeating ``victim``: an NPC's bounty, or a share of a player's level."""
    definition = definition_for_npc(victim)
    if definition is not None:
        return definition.experience_reward
    return 10 * int(victim.get_stats().get("level", 1))


class NPCCombatIntegrationService:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def roll(self) -> int:
        return self._rng.randint(1, MAX_ROLL)

    def apply_attack(
        self,
        attacker_id: str,
        defender_id: str,
        *,
        damage_type: str = "physical",
        roll: int | None = None,
    ) -> AttackOutcome:
        attacker = persistence.get_player(attacker_id)
        defender = persistence.get_player(defender_id)
        if attacker is None or defender is None:
            raise CombatError("both combatants must exist")
        if not attacker.is_alive:
            raise CombatError(f"{attacker.name} is dead and cannot attack")
        if not defender.is_alive:
            raise CombatError(f"{defender.name} is already dead")
        if attacker.current_room_id != defender.current_room_id:
            raise CombatError(f"{defender.name} is not within reach of {attacker.name}")

        damage = compute_damage(attacker, defender, self.roll() if roll is None else roll)
        persistence.damage_player(defender, damage, damage_type)
        killed = not defender.is_alive
        reward = 0
        if killed:
            reward = kill_reward(defender)
            persistence.gain_experience(attacker, reward, source=f"kill:{defender.name}")
            logger.info("%s killed %s (+%d xp)", attacker.name, defender.name, reward)
        return AttackOutcome(
            attacker_id=attacker_id,
            defender_id=defender_id,
            damage=damage,
            defender_health=int(defender.get_stats()["health"]),
            killed=killed,
            experience_awarded=reward,
        )
