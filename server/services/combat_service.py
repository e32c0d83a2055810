"""Player-versus-player and player-versus-NPC combat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from server.events import EventBus
from server.game.mechanics import GameMechanicsService, attribute_modifier
from server.models import Player
from server.persistence import get_persistence

BASE_DAMAGE = 10
MIN_DAMAGE = 1
XP_PER_KILL_LEVEL = 25
LUCIDITY_COST_PER_ATTACK = 1
LUCIDITY_COST_NPC_KILL = 0
LUCIDITY_COST_PLAYER_KILL = 5


class CombatError(ValueError):
    """An attack that cannot happen: missing combatants, different rooms, the dead."""


@dataclass(frozen=True)
class AttackResult:
    attacker_id: str
    target_id: str
    target_name: str
    damage: int
    target_health: int
    killed: bool
    experience_awarded: int = 0


def compute_damage(attacker: Player, target: Player) -> int:
    """Strength adds to the blow, the target's constitution takes some of it away."""
    attacker_stats = attacker.get_stats()
    target_stats = target.get_stats()
    damage = (
        BASE_DAMAGE
        + attribute_modifier(int(attacker_stats.get("strength", 10)))
        - attribute_modifier(int(target_stats.get("constitution", 10)))
    )
    return max(MIN_DAMAGE, damage)


def experience_for_kill(target: Player) -> int:
    return XP_PER_KILL_LEVEL * max(1, int(target.get_stats().get("level", 1)))


class CombatService:
    """Resolves attacks; the rules themselves live in GameMechanicsService."""

    def __init__(self, event_bus: EventBus | None = None) -> None:
        self.persistence = get_persistence(event_bus)
        self.mechanics = GameMechanicsService(self.persistence)

    @contextmanager
    def combat_round(self, player_id: str) -> Iterator[Player]:
        """Load a combatant for one round; whatever the round changes on it is saved afterwards."""
        player = self.persistence.get_player(player_id)
        if player is None:
            raise CombatError(f"player not found: {player_id}")
        yield player
        self.persistence.save_player(player)

    def attack(self, attacker_id: str, target_id: str) -> AttackResult:
        if attacker_id == target_id:
            raise CombatError("you cannot attack yourself")
        with self.combat_round(attacker_id) as attacker:
            if not attacker.is_alive:
                raise CombatError(f"{attacker.name} is dead and cannot fight")
            target = self.persistence.get_player(target_id)
            if target is None:
                raise CombatError(f"target not found: {target_id}")
            if target.current_room_id != attacker.current_room_id:
                raise CombatError(f"{target.name} is not here")
            if not target.is_alive:
                raise CombatError(f"{target.name} is already dead")
            damage = compute_damage(attacker, target)
            stats = attacker.get_stats()
            stats["lucidity"] = max(0, int(stats.get("lucidity", 100)) - LUCIDITY_COST_PER_ATTACK)
            attacker.stats = stats
        target = self.mechanics.apply_damage(target_id, damage, "physical")
        target_health = int(target.get_stats().get("health", 0))
        killed = target_health <= 0
        experience = 0
        if killed:
            experience = experience_for_kill(target)
            self.mechanics.award_experience(attacker_id, experience, source="combat")
            cost = LUCIDITY_COST_NPC_KILL if target.is_npc else LUCIDITY_COST_PLAYER_KILL
            if cost:
                self.mechanics.adjust_lucidity(attacker_id, -cost, reason="took a life")
        return AttackResult(
            attacker_id=attacker_id,
            target_id=target_id,
            target_name=target.name,
            damage=damage,
            target_health=target_health,
            killed=killed,
            experience_awarded=experience,
        )

    def regain_composure(self, player_id: str, amount: int) -> int:
        """Spend a round steadying the mind; returns the new lucidity."""
        if amount <= 0:
            raise CombatError("composure regained must be positive")
        with self.combat_round(player_id) as player:
            stats = player.get_stats()
            stats["lucidity"] = min(100, int(stats.get("lucidity", 100)) + amount)
            player.stats = stats
        return int(player.get_stats()["lucidity"])
